"""`make clean` in a clone: every untracked output goes (the venv, models, DVC's dvc_plots/ in the root and in a
scenario's folder, the ignored data files), every tracked file stays, also those under data/; and .gitignore hides
every dvc_plots/ that `dvc plots show` writes."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from dvc_project import ROOT, sh

TRACKED = ("data/.gitignore", "data/mnist-5k.json", "scenarios/layered/data/.gitignore",
           "scenarios/layered/metrics/summary.json", "params.yaml")
UNTRACKED = (".venv/bin/python", "models/pretrained/seed0.pt", "runs/original.json", ".cache/audit/0.pt",
             "live/original/metrics.json", "build/pr_comment.md", "data/mnist-5k.pt", "dvc_plots/index.html",
             "scenarios/layered/dvc_plots/index.html", "scenarios/layered/data/gmm.pt",
             "scenarios/layered/metrics/per_seed.csv")


def test_make_clean_removes_only_untracked_outputs(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    clone = tmp_path / "clone"
    clone.mkdir()
    sh(clone, "git", "init", "-q")
    for name in ("Makefile", ".gitignore", "scenarios/layered/metrics/.gitignore", *TRACKED):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, clone / name)
    sh(clone, "git", "add", "-A")
    sh(clone, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tracked")
    for name in UNTRACKED:
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text("output\n")
    # every output is ignored by git: nothing for a user to commit by mistake
    assert sh(clone, "git", "status", "--porcelain").stdout.strip() == ""
    subprocess.run(["make", "-s", "clean"], cwd=clone, check=True, capture_output=True)
    assert [name for name in UNTRACKED if (clone / name).exists()] == []
    assert [name for name in TRACKED if not (clone / name).is_file()] == []
