"""A copy of the pipeline (src/, dvc.yaml) with the tiny params in a fresh git + DVC repository, for the
end-to-end `dvc repro` tests. Test helpers only: no test in here."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY_PARAMS = ROOT / "tests" / "tiny_params.yaml"


def sh(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(where: Path, *args: str) -> str:
    return sh(where, sys.executable, "-m", "dvc", *args).stdout


def make_project(where: Path, methods: tuple[str, ...], scenario: dict | None = None) -> Path:
    """The tiny params with only `methods` (their tiny blocks) and, when given, another scenario block, as a git
    repository with one commit."""
    where.mkdir()
    shutil.copytree(ROOT / "src", where / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "dvc.yaml", where)
    raw = yaml.safe_load(TINY_PARAMS.read_text())
    raw["methods"] = {name: raw["methods"][name] for name in methods}
    if scenario is not None:
        raw["scenario"] = scenario
    (where / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    git = ("git", "-c", "user.name=test", "-c", "user.email=test@example.invalid")
    sh(where, "git", "init", "-q")
    sh(where, sys.executable, "-m", "dvc", "init", "-q")
    sh(where, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
    sh(where, "git", "add", "-A")
    sh(where, *git, "commit", "-qm", "tiny project")
    return where
