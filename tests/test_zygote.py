"""`python -m stages <stage>`: a stage forked from the warm zygote must behave exactly like a plain process run —
working directory, environment, argv, stdin/stdout/stderr, exit codes, tracebacks and signals — and a stage must
see edits to src/ made after the zygote started."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the zygote needs Linux pidfds")

PROBE = """
import json, os, sys
print(json.dumps({"cwd": os.getcwd(), "argv": sys.argv[1:], "marker": os.environ.get("ZYGOTE_TEST_MARKER"),
                  "stdin": sys.stdin.read(), "pid": os.getpid(), "version": VERSION}))
print("to stderr", file=sys.stderr)
how = sys.argv[1]
if how == "exit":
    sys.exit(int(sys.argv[2]))
if how == "raise":
    raise RuntimeError("boom from the stage")
if how == "signal":
    os.kill(os.getpid(), 15)
if how == "alloc":
    block = bytearray(300 * 2**20)  # zero-filled, so resident
"""


def run_forked(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the module `probe_stage` the way `python -m stages` runs a stage, in `workdir`."""
    caller = ("import sys; from stages import zygote; forked = zygote.run_forked('probe_stage', sys.argv[1:]); "
              "print(json.dumps({'forked': forked is not None, 'caller': os.getpid(), "
              "'peak_kib': forked and forked[1]}), file=sys.stderr); "
              "sys.exit(forked[0])")
    env = {**os.environ, "PYTHONPATH": f"{workdir / 'mods'}{os.pathsep}{SRC}", "ZYGOTE_TEST_MARKER": "m-42"}
    return subprocess.run([sys.executable, "-c", f"import json, os; {caller}", *args], cwd=workdir, env=env,
                          input="from stdin", capture_output=True, text=True, timeout=120)


@pytest.fixture
def workdir(tmp_path) -> Path:
    (tmp_path / "mods").mkdir()
    write_probe(tmp_path, version=1)
    return tmp_path


def write_probe(workdir: Path, version: int) -> None:
    (workdir / "mods" / "probe_stage.py").write_text(f"VERSION = {version}\n" + textwrap.dedent(PROBE))


def outputs(result: subprocess.CompletedProcess) -> tuple[dict, dict]:
    caller = json.loads(result.stderr.strip().splitlines()[-1])
    return json.loads(result.stdout.splitlines()[0]), caller


def test_forked_stage_gets_the_callers_cwd_env_argv_and_streams(workdir):
    result = run_forked(workdir, "exit", "0")
    assert result.returncode == 0, result.stderr
    seen, caller = outputs(result)
    assert caller["forked"], "the zygote was not used"
    assert seen["pid"] != caller["caller"]
    assert seen["cwd"] == str(workdir)
    assert seen["argv"] == ["exit", "0"]
    assert seen["marker"] == "m-42"
    assert seen["stdin"] == "from stdin"
    assert "to stderr" in result.stderr


def test_exit_code_traceback_and_signal_reach_the_caller(workdir):
    assert run_forked(workdir, "exit", "3").returncode == 3
    raised = run_forked(workdir, "raise")
    assert raised.returncode == 1
    assert "RuntimeError: boom from the stage" in raised.stderr
    assert run_forked(workdir, "signal").returncode == -signal.SIGTERM


def test_peak_memory_of_the_forked_stage_is_reported(workdir):
    small, big = (outputs(run_forked(workdir, how, "0"))[1]["peak_kib"] for how in ("exit", "alloc"))
    assert big - small > 250 * 1024


def test_edits_to_the_stage_code_count_at_the_next_run(workdir):
    assert outputs(run_forked(workdir, "exit", "0"))[0]["version"] == 1
    write_probe(workdir, version=10)  # another file size: a .pyc written in the same second must not be reused
    assert outputs(run_forked(workdir, "exit", "0"))[0]["version"] == 10


@pytest.mark.parametrize("use_zygote", ["1", "0"])
def test_stages_launcher_gives_the_stages_one_line_error_and_exit_2(tmp_path, use_zygote):
    """Through `python -m stages`, as dvc.yaml runs it, forked or in-process: no params.yaml here."""
    log = tmp_path.parent / f"stages-{use_zygote}.jsonl"
    env = {**os.environ, "PYTHONPATH": str(SRC), "UNLEARNING_ZYGOTE": use_zygote, "UNLEARNING_STAGE_LOG": str(log)}
    result = subprocess.run([sys.executable, "-m", "stages", "pretrain"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "params.yaml" in result.stderr
    assert list(tmp_path.iterdir()) == []
    logged = json.loads(log.read_text())
    assert logged["module"] == "stages.pretrain" and logged["peak_rss_mib"] > 50  # torch alone is more
    unknown = subprocess.run([sys.executable, "-m", "stages", "no_such_stage"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "stages.no_such_stage" in unknown.stderr


def test_run_stage_imports_the_workspace_it_runs_in(tmp_path):
    """dvc.yaml's `python src/run_stage.py`: a copy of the project (as `dvc exp run --queue` makes) runs its own
    code, not the editable install's."""
    import shutil
    workspace = tmp_path / "copy"
    shutil.copytree(SRC, workspace / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (workspace / "src" / "stages" / "where.py").write_text("import stages, unlearning\n"
                                                           "print(stages.__file__, unlearning.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "src/run_stage.py", "where"], cwd=workspace, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert all(path.startswith(str(workspace / "src")) for path in result.stdout.split())
