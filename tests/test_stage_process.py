"""Stages are plain child processes of dvc: nothing outlives `dvc repro`, not even after `kill -9` of dvc mid-stage;
the CPU kernel pin is in force inside a stage; a diverging method is reported as diverged while every other model
keeps its metrics, and no NaN or Infinity reaches a JSON file."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dvc_project import make_project, sh
from test_stage_deps import declared_files, stages

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("original", "finetune", "random_labels")


def processes_in(project: Path) -> list[str]:
    """Command lines of the live processes whose working directory is inside `project` (this test's own excepted)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
            state = next(line for line in (proc / "status").read_text().splitlines() if line.startswith("State:"))
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, StopIteration):
            continue  # gone meanwhile, or another user's
        if cwd.is_relative_to(project) and "Z" not in state.split()[1]:
            found.append(f"{proc.name}: {cmdline}")
    return found


def wait_until(condition, timeout: float, step: float = 0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


@pytest.fixture(scope="module")
def diverging(tmp_path_factory) -> Path:
    """A tiny project in which random_labels trains with lr 1e6 (it diverges), made without running it."""
    where = make_project(tmp_path_factory.mktemp("diverging") / "project", METHODS)
    params = yaml.safe_load((where / "params.yaml").read_text())
    params["methods"]["random_labels"]["lr"] = 1.0e6
    (where / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return where


def stage_log(project: Path) -> Path:
    """Where the stages of the project's runs log themselves (run_stage.py's UNLEARNING_STAGE_LOG)."""
    return project.parent / "stages.jsonl"


def test_kill_9_of_dvc_mid_stage_leaves_no_process_and_a_rerun_completes(diverging):
    """dvc is killed while pretrain's workers train. The tiny pretraining lasts well under a second on a fast
    machine, shorter than the polling below, so this run trains for many epochs: the kill must land mid-stage.
    $SHELL is unset, as in CI, so DVC runs each command with /bin/sh: Debian's dash, which unlike bash does not exec
    a lone command by itself; the stage dies with dvc only because dvc.yaml's commands begin with `exec`."""
    params_file = diverging / "params.yaml"
    tiny_params = params_file.read_text()
    params = yaml.safe_load(tiny_params)
    params["train"]["epochs"] = 100_000
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**{k: v for k, v in os.environ.items() if k != "SHELL"}, "PYTHONPATH": str(diverging / "src"),
           "UNLEARNING_STAGE_LOG": str(stage_log(diverging)), "UNLEARNING_WORKERS": "2",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    dvc = subprocess.Popen([sys.executable, "-m", "dvc", "repro", "-q"], cwd=diverging, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the pretrain stage with its two forked seed workers: three run_stage.py processes
        busy = wait_until(lambda: sum("run_stage.py pretrain" in p for p in processes_in(diverging)) >= 3, 120)
        assert busy, f"the pretrain stage never ran its workers: {processes_in(diverging)}"
        dvc.send_signal(signal.SIGKILL)
        dvc.wait()
        left = wait_until(lambda: not processes_in(diverging), 10) or processes_in(diverging)
        assert left is True, f"processes outlived dvc: {left}"
    finally:
        if dvc.poll() is None:
            dvc.kill()
        params_file.write_text(tiny_params)
    assert not (diverging / "models" / "pretrained").exists()  # the killed stage left no partial output
    rerun = subprocess.run([sys.executable, "-m", "dvc", "repro", "-q"], cwd=diverging, env=env,
                           capture_output=True, text=True)  # a later run picks up from there
    assert rerun.returncode == 0, rerun.stderr
    assert not processes_in(diverging), "a stage outlived a completed dvc repro"
    assert json.loads(sh(diverging, sys.executable, "-m", "dvc", "status", "--json").stdout) == {}


def test_diverged_method_is_reported_and_the_others_keep_their_metrics(diverging):
    summary = json.loads((diverging / "metrics" / "summary.json").read_text())
    chains = len(json.loads((diverging / "runs" / "oracle.json").read_text()))
    assert summary["random_labels"]["diverged_chains"] == chains
    assert "exploded" in summary["random_labels"]["diverged"] or "non-finite" in summary["random_labels"]["diverged"]
    assert summary["random_labels"]["forget_acc"] is None and "forgetting_score" not in summary["random_labels"]
    for name in ("original", "finetune", "oracle"):
        assert summary[name]["diverged_chains"] == 0 and summary[name]["forget_acc"] is not None, name
    report = " ".join((diverging / "metrics" / "report.md").read_text().split())  # paragraphs unwrapped
    assert "Diverged" in report and f"random_labels ({chains} of {chains} chains" in report
    for path in [*diverging.glob("metrics/*.json"), *diverging.glob("relearn/*.json"), *diverging.glob("runs/*.json"),
                 *diverging.glob("plots/*.json")]:
        json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(f"{path} holds {name}"))


def test_the_cpu_pin_is_in_force_inside_every_stage(diverging, tmp_path):
    """The stage log written during the (re)run: torch's kernel capability inside each stage is AVX2 although the
    caller asked for another dispatch (ATEN_CPU_CAPABILITY=default in the test's environment)."""
    log = tmp_path / "log"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "UNLEARNING_STAGE_LOG": str(log)}
    result = subprocess.run([sys.executable, str(diverging / "src" / "run_stage.py"), "plot"], cwd=diverging,
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["cpu_capability"] == "AVX2"
    native = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                            env=env, capture_output=True, text=True)
    assert native.stdout.strip() == "DEFAULT"  # without the pin the caller's setting would have applied


def test_every_import_at_run_time_is_a_dependency(diverging):
    """The static walk of test_stage_deps, checked against what each stage of the runs above really imported."""
    defined = stages(diverging)
    entries = [json.loads(line) for line in stage_log(diverging).read_text().splitlines()]
    ran = set()
    for entry in entries:
        module, args = entry["module"].removeprefix("stages."), tuple(entry["args"])
        name = f"relearn_oracle@{args[0]}" if module == "relearn" and args[0] in ("oracle", "oracle_b") else \
            f"{module}@{args[0]}" if args else module
        ran.add(name)
        declared = declared_files(diverging, defined[name]["deps"], root=diverging)
        assert not set(entry["imports"]) - declared, (name, sorted(set(entry["imports"]) - declared))
    assert ran == set(defined) - {"plot"} or ran == set(defined)
