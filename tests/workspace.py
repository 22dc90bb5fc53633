"""A bare workspace of the main pipeline (a copy of src/ and the tiny params, no git, no DVC) and its stages run in
dvc.yaml's order, as dvc runs them (`python src/run_stage.py ...` in the workspace), for the tests that watch or
instrument a stage process. Test helpers only: no test in here."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from tiny_params import tiny_raw

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("original", "finetune")


def make_workspace(where: Path, methods: tuple[str, ...] = METHODS) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "src", where / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "dvc.yaml", where)
    raw = tiny_raw()
    raw["methods"] = {name: raw["methods"][name] for name in methods}
    (where / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return where


def pipeline(workspace: Path) -> list[tuple[str, ...]]:
    """The arguments of run_stage.py of every stage of the workspace's dvc.yaml, in its order (which runs each
    stage after its inputs)."""
    from test_stage_deps import COMMAND, stages

    matches = [COMMAND.match(stage["cmd"]) for stage in stages(workspace).values()]
    return [(m["stage"], *([m["arg"]] if m["arg"] else [])) for m in matches]


def stage_env(**extra: str) -> dict:
    """The environment dvc gives a stage: Python may write bytecode (PYTHONDONTWRITEBYTECODE unset, as on a user's
    machine), no PYTHONPATH pointing at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    return {**env, **extra}


def start(workspace: Path, args: tuple[str, ...], **extra_env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "src/run_stage.py", *args], cwd=workspace, env=stage_env(**extra_env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(workspace: Path, args: tuple[str, ...], **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "src/run_stage.py", *args], cwd=workspace, env=stage_env(**extra_env),
                          capture_output=True, text=True)
