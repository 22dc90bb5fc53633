"""A copy of the pipeline (src/, dvc.yaml) with the tiny params in a fresh git + DVC repository, for the
end-to-end `dvc repro` tests. Test helpers only: no test in here."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from tiny_params import tiny_raw

from unlearning import overlay

ROOT = Path(__file__).resolve().parents[1]


def sh(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # Python writes bytecode caches next to the sources, as it does on a user's machine (.dvcignore must keep them
    # out of the stages' directory dependencies), whatever this shell's PYTHONDONTWRITEBYTECODE says
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPATH": str(cwd / "src"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(where: Path, *args: str) -> str:
    return sh(where, sys.executable, "-m", "dvc", *args).stdout


def make_project(where: Path, methods: tuple[str, ...], scenario: dict | None = None, **overrides: dict) -> Path:
    """The tiny params with only `methods` (their tiny blocks), when given another scenario block, and `overrides`
    merged in as an overlay (e.g. audit={"chains": 2}), as a git repository with one commit."""
    where.mkdir()
    shutil.copytree(ROOT / "src", where / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "dvc.yaml", where)
    raw = tiny_raw()
    raw["methods"] = {name: raw["methods"][name] for name in methods}
    if scenario is not None:
        raw["scenario"] = scenario
    raw = overlay.merged(raw, overrides)
    (where / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    git = ("git", "-c", "user.name=test", "-c", "user.email=test@example.invalid")
    sh(where, "git", "init", "-q")
    sh(where, sys.executable, "-m", "dvc", "init", "-q")
    shutil.copy(ROOT / ".dvcignore", where)
    sh(where, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
    sh(where, "git", "add", "-A")
    sh(where, *git, "commit", "-qm", "tiny project")
    return where


GIT = ("git", "-c", "user.name=test", "-c", "user.email=test@example.invalid")
# what a user's clone has beyond src/ and dvc.yaml: the plot templates and the offline page, the ignore rules, the
# Makefile (report, clean) and the scenarios' pipelines with their committed numbers
UI_FILES = (".dvc/plots", "vendor/vega", ".gitignore", "Makefile",
            *(f"scenarios/{s}/{f}" for s in ("layered", "amnesia")
              for f in ("dvc.yaml", "dvc.lock", "params.yaml", "metrics/summary.json")))


def make_run(where: Path, methods: tuple[str, ...]) -> Path:
    """make_project plus UI_FILES and the html template setting, reproduced and committed: a user's clone after
    `dvc repro` and `git commit`."""
    make_project(where, methods)
    for name in UI_FILES:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, where / name)
    dvc(where, "config", "plots.html_template", "../vendor/vega/page.html")
    sh(where, sys.executable, "-m", "dvc", "repro", "-q", "dvc.yaml")  # the main pipeline, not the scenarios
    sh(where, "git", "add", "-A")
    sh(where, *GIT, "commit", "-qm", "tiny run")
    return where
