"""The suite of forget requests: `dvc repro suite/dvc.yaml` on the tiny params (two requests), adding a request
reruns only that request, a bad request is one line, and the ranks over requests on known numbers."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from dvc_project import ROOT, dvc, make_project, sh

from unlearning import suite

METHODS = ("original", "finetune")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    where = make_project(tmp_path_factory.mktemp("suite") / "project", METHODS)
    (where / "suite" / "requests").mkdir(parents=True)
    shutil.copy(ROOT / "suite" / "dvc.yaml", where / "suite")
    for name in ("default.yaml", "replace_8_3.yaml"):
        shutil.copy(ROOT / "suite" / "requests" / name, where / "suite" / "requests")
    requests = {"replace-6-3": "requests/default.yaml", "replace-8-3": "requests/replace_8_3.yaml"}
    (where / "suite" / "params.yaml").write_text(yaml.safe_dump({"requests": requests}))
    sh(where, sys.executable, "-m", "dvc", "repro", "-q", "suite/dvc.yaml")
    return where


def test_every_request_runs_and_the_report_ranks_the_methods(project):
    for request, forget in (("replace-6-3", 6), ("replace-8-3", 8)):
        folder = project / "suite" / "results" / request
        assert (folder / "report.md").read_text().startswith(f"# Unlearning audit: digits, replace_class, forget "
                                                             f"{forget}")
        assert set(pd.read_csv(folder / "score_draws.csv").model) == {*METHODS, "oracle_b"}
    assert not (project / ".tmp" / "suite").exists() or not any((project / ".tmp" / "suite").iterdir())
    report = (project / "suite" / "report.md").read_text()
    assert "| finetune |" in report and "| original |" in report and "Stability" in report
    summary = json.loads((project / "suite" / "summary.json").read_text())
    assert summary["methods"]["finetune"]["rank_mean"] == 1.0  # the original scores ~0 on every request
    assert (project / "suite" / "ranks.png").stat().st_size > 1000


def test_adding_a_request_runs_only_that_request(project):
    params = project / "suite" / "params.yaml"
    original = params.read_text()
    requests = yaml.safe_load(original)["requests"]
    (project / "suite" / "requests" / "forget_9.yaml").write_text(yaml.safe_dump(
        {"scenario": {"kind": "forget_class", "pretrain_classes": list(range(10)), "forget": 9, "learn": None}}))
    params.write_text(yaml.safe_dump({"requests": {**requests, "forget-9": "requests/forget_9.yaml"}}))
    try:
        stale = set(json.loads(dvc(project, "status", "--json", "suite/dvc.yaml")))
    finally:
        params.write_text(original)
    assert {s.split(":")[-1] for s in stale} == {"request@forget-9", "report"}, stale


def test_a_request_whose_overlay_is_missing_is_one_line(project):
    result = subprocess.run([sys.executable, str(project / "src" / "suite.py"), "request", "x", "nowhere.yaml"],
                            cwd=project / "suite", capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr
    assert "nowhere.yaml" in result.stderr and not (project / "suite" / "results" / "x").exists()


def test_a_failing_stage_ends_the_request_with_its_line_and_no_result(project, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"relearn": {"samples": [100000]}}))  # more forget images than there are
    result = subprocess.run([sys.executable, str(project / "src" / "suite.py"), "request", "bad", str(bad)],
                            cwd=project / "suite", capture_output=True, text=True)
    assert result.returncode == 2 and "relearn.samples" in result.stderr, result.stderr
    assert not (project / "suite" / "results" / "bad").exists()


def test_ranks_and_their_interval_over_requests_and_chains():
    """Three methods on two requests: 'a' always best, 'b' and 'c' swap; the draws carry each score's noise."""
    draws = {}
    for request, scores in (("r1", {"a": 0.3, "b": 0.2, "c": 0.1}), ("r2", {"a": 0.3, "b": 0.1, "c": 0.2})):
        draws[request] = pd.DataFrame({m: [s + 0.001 * k for k in range(50)] for m, s in scores.items()}).T
    ranks = suite.rank_intervals(draws, ["a", "b", "c"], __import__("torch").Generator().manual_seed(0))
    assert ranks.loc["a"].tolist() == [1.0, 1.0]
    assert ranks.loc["b", "rank_low"] == 2.0 and ranks.loc["b", "rank_high"] == 3.0
    scores = pd.DataFrame({"r1": [0.3, 0.2, 0.1], "r2": [0.3, 0.1, 0.2]}, index=["a", "b", "c"])
    assert suite.spearman(scores) == {"r1 vs r2": pytest.approx(0.5)}
    assert re.fullmatch(r"[0-9.]+", str(suite.ranks(scores).loc["c", "r2"]))
