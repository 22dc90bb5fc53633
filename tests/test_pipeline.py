"""End to end: `dvc repro` of the tiny params in a fresh git + DVC repository, selective invalidation, and two
runs giving identical metrics."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from dvc_project import dvc, make_project, sh

TINY_METHODS = ("original", "finetune", "head_mask")  # the pipeline's mechanics; test_methods covers every method


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    # 6 attack chains: the fewest at which the probe can be flagged (head_mask hides) after Holm's correction
    where = make_project(tmp_path_factory.mktemp("e2e") / "project", TINY_METHODS, audit={"attack_chains": 6})
    sh(where, sys.executable, "-m", "dvc", "repro", "-q")
    return where


def test_repro_writes_metrics_report_and_plots(project):
    summary = json.loads((project / "metrics" / "summary.json").read_text())
    assert list(summary) == [*TINY_METHODS, "oracle", "oracle_b"]
    for name, metrics in summary.items():
        for key in ("forget_acc", "retain_acc", "new_acc", "test_acc", "gap_to_oracle", "mia_efficacy",
                    "mia_loss_auc", "probe_recall", "relearn_auc_k8", "relearn_auc_k32", "diverged_chains",
                    *(() if name == "oracle" else ("forgetting_score", "ceiling_share", "final_score", "different",
                                                   "equivalent", "passes", "over_forget", "hiding"))):
            assert key in metrics, (name, key)
    assert not any("speedup" in metrics or "runtime_s" in metrics for metrics in summary.values())
    assert summary["oracle_b"]["ceiling_share"] == 1.0
    assert "| finetune |" in (project / "eval" / "timing.md").read_text()  # wall-clock: outside the metrics
    assert summary["original"]["forget_acc"] > 0.8 > summary["finetune"]["forget_acc"]
    assert summary["oracle"]["gap_to_oracle"] == 0.0
    assert summary["original"]["forgetting_score"] < 0.05  # told apart from the retrains on every example
    assert summary["head_mask"]["hiding"] == 1 and summary["original"]["hiding"] == summary["oracle_b"]["hiding"] == 0
    report = (project / "metrics" / "report.md").read_text()
    assert "| finetune" in report and "head_mask" in report.split("Hiding")[1].split("Over-forgetting")[0]
    records = json.loads((project / "metrics" / "audit.json").read_text())["models"]
    assert [r["model"] for r in records] == [*TINY_METHODS, "oracle", "oracle_b"]
    forget_examples = len(records[0]["epsilons"])
    assert forget_examples > 50 and all(len(r["epsilons"]) == forget_examples for r in records if r["epsilons"])
    assert (project / "plots" / "images" / "matrices" / "confusion.png").stat().st_size > 1000
    for image in ("tradeoff", "relearn", "score", "probe", "differences", "epsilons"):
        assert (project / "plots" / "images" / f"{image}.png").stat().st_size > 1000, image
    for k in (8, 32):
        assert (project / "plots" / "relearn" / f"k{k}.csv").read_text().startswith("step,model,forget_acc")
    # dvclive curves of the first chain: every model that trains, ten rows per fit; gathered for `dvc plots`
    for name in ("pretrained", "oracle", "finetune"):
        assert (project / "live" / name / "plots" / "metrics" / "val_retain_acc.tsv").is_file(), name
    assert json.loads((project / "live" / "head_mask" / "metrics.json").read_text()) == {}  # does not train
    training = (project / "plots" / "training" / "loss.csv").read_text().splitlines()
    assert training[0] == "step,model,loss"
    finetune_steps = [int(row.split(",")[0]) for row in training[1:] if row.split(",")[1] == "finetune"]
    assert len(finetune_steps) >= 10 and finetune_steps == sorted(finetune_steps)  # points through its fit
    assert {row.split(",")[1] for row in training[1:]} == {"pretrained", "oracle", "finetune"}
    ranking = [line.split("|")[1].strip() for line in report.split("## Every metric")[0].splitlines()
               if line.startswith("| ") and not line.startswith("| model")]
    assert ranking[-1] == "exact retrain" and sorted(ranking[:-1]) == sorted(TINY_METHODS), ranking
    assert max(len(line) for line in report.split("## Every metric")[0].splitlines()) <= 120
    assert "finetune" in dvc(project, "metrics", "show")


def test_nothing_to_do_after_repro(project):
    assert json.loads(dvc(project, "status", "--json")) == {}


def test_two_runs_give_identical_metrics_serial_or_parallel(project, tmp_path, monkeypatch):
    """The second run does every seed and attack in the stage's own process (UNLEARNING_WORKERS=1), the first
    spread them over forked workers: the results must not depend on it."""
    again = make_project(tmp_path / "again", TINY_METHODS, audit={"attack_chains": 6})
    monkeypatch.setenv("UNLEARNING_WORKERS", "1")
    sh(again, sys.executable, "-m", "dvc", "repro", "-q")
    # every metrics file byte for byte: none holds a wall-clock number
    files = sorted(path.relative_to(project) for path in (project / "metrics").rglob("*") if path.is_file())
    assert files and files == sorted(path.relative_to(again) for path in (again / "metrics").rglob("*")
                                     if path.is_file())
    for path in files:
        assert (project / path).read_bytes() == (again / path).read_bytes(), path
    assert (project / "eval" / "predictions.csv").read_text() == (again / "eval" / "predictions.csv").read_text()
    for name in (*TINY_METHODS, "oracle", "oracle_b"):
        assert (project / "relearn" / f"{name}.json").read_text() == (again / "relearn" / f"{name}.json").read_text()


def test_one_method_change_reruns_only_its_chain(project):
    """Runs last in this module: it changes the project (and puts it back through DVC's run cache)."""
    original = (project / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["methods"]["finetune"]["lr"] = 0.002
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        stale = set(json.loads(dvc(project, "status", "--json")))
        log = dvc(project, "repro")
        ran = set(re.findall(r"Running stage '([^']+)'", log))
        # evaluate scores and audits only the changed model; the others come from .cache/audit ...
        assert "4 of 5 models unchanged since the last run (cached), 1 to evaluate: finetune" in log
        outputs = [*sorted((project / "metrics").rglob("*.*")), project / "eval" / "predictions.csv",
                   project / "eval" / "score_draws.csv"]
        with_cache = {path: path.read_bytes() for path in outputs}
        # ... and gives, bit for bit, what evaluating every model again gives
        shutil.rmtree(project / ".cache" / "audit")
        assert "0 of 5 models unchanged" in dvc(project, "repro", "-f", "-s", "evaluate")
        assert {path: path.read_bytes() for path in outputs} == with_cache
    finally:
        (project / "params.yaml").write_text(original)
        dvc(project, "repro", "-q")
    assert "unlearn@finetune" in stale and not any(s.startswith(("unlearn@", "relearn@")) for s in
                                                   stale - {"unlearn@finetune"})
    assert ran == {"unlearn@finetune", "relearn@finetune", "evaluate", "plot"}
