"""src/run_stage.py runs only the stages of the pipelines' dvc.yaml files: any other name, a stage without its
argument or with one it does not take, is one line on stderr and exit code 2, before anything runs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_stage_deps import COMMAND, PIPELINES, SRC, stages

sys.path.insert(0, str(SRC))
import run_stage  # noqa: E402


def test_the_launcher_knows_exactly_the_stages_of_the_pipelines():
    commands = {}
    for pipeline in PIPELINES:
        for name, stage in stages(pipeline).items():
            match = COMMAND.match(stage["cmd"])
            commands.setdefault(match["stage"], set()).add(match["arg"] is not None)
    assert {stage: {wanted is not None} for stage, wanted in run_stage.STAGES.items()} == commands


@pytest.mark.parametrize("args", [[], ["unlearn"], ["relearn"], ["..evaluate"], ["base.process"], ["base.common"],
                                  ["stages.plot"], ["plot", "extra"], ["unlearn", "a", "b"], ["unlearn", "../x"],
                                  ["amnesia.forget"]])
def test_anything_else_is_one_line_and_exit_2(tmp_path: Path, args):
    result = subprocess.run([sys.executable, str(SRC / "run_stage.py"), *args], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_method_is_one_line_naming_its_key(tmp_path: Path, tiny_raw):
    from test_bad_input import run_stage as run

    result = run(tmp_path, tiny_raw, "unlearn", "no_such_method")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "methods.no_such_method" in line


EXIT_SCRIPT = """
import atexit, sys, threading, time
sys.path.insert(0, {src!r})
import run_stage
atexit.register(lambda: open({marker!r}, "w").write("exit handler ran"))
if {with_thread}:
    threading.Thread(target=lambda: (time.sleep(0.5), open({thread_marker!r}, "w").write("thread done"))).start()
print("unflushed line", end="")
sys.stderr.write("unflushed error")
run_stage.exit_finished_stage()
print("still running")
"""


@pytest.mark.parametrize("with_thread", [False, True])
def test_a_finished_stage_skips_teardown_but_not_its_exit_handlers_output_or_threads(tmp_path: Path, with_thread):
    """exit_finished_stage ends the process with code 0 after its exit handlers and with its buffered output
    written; a stage that left a non-daemon thread running exits normally instead, which waits for the thread."""
    marker, thread_marker = tmp_path / "atexit", tmp_path / "thread"
    script = EXIT_SCRIPT.format(src=str(SRC), marker=str(marker), thread_marker=str(thread_marker),
                                with_thread=with_thread)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "exit handler ran"
    assert result.stderr.endswith("unflushed error")
    if with_thread:  # the normal path: the script goes on, and the interpreter joins the thread before exiting
        assert result.stdout == "unflushed linestill running\n"
        assert thread_marker.read_text() == "thread done"
    else:
        assert result.stdout == "unflushed line"
