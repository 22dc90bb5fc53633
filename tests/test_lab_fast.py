"""bench/lab_fast.py scores a method's settings in-process against a lab project's fixed originals and retrains: for
the project's own setting it must give the share the project's evaluate stage wrote, and a changed setting must be
scored as that setting (the real runs are the lead's benchmark)."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import pytest
from dvc_project import dvc, make_project

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))  # lab_fast imports its neighbours lab_dev and pipeline
spec = importlib.util.spec_from_file_location("lab_fast", BENCH / "lab_fast.py")
lab_fast = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab_fast)


@pytest.fixture(scope="module")
def scored_project(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("lab") / "project", ("shrink_refit",), audit={"split": "val"})
    dvc(project, "repro", "-q", "evaluate")
    return project


def test_the_projects_own_setting_scores_what_its_evaluate_stage_wrote(scored_project):
    from unlearning.core import config
    cfg = config.load(scored_project / "params.yaml", methods=("shrink_refit",))
    scorer = lab_fast.Scorer(scored_project, len(cfg.seeds))
    got = scorer.score("shrink_refit", cfg.methods["shrink_refit"])
    summary = json.loads((scored_project / "metrics" / "summary.json").read_text())
    assert got["share"] == pytest.approx(summary["shrink_refit"]["ceiling_share"], abs=1e-6)
    assert got["ceiling"] == pytest.approx(summary["oracle_b"]["forgetting_score"], abs=1e-6)
    assert got["compute_speedup"] == pytest.approx(1 / summary["shrink_refit"]["compute_share"], rel=1e-3)
    audit = {m["model"]: m for m in json.loads((scored_project / "metrics" / "audit.json").read_text())["models"]}
    assert got["test_acc_difference"] == pytest.approx(
        audit["shrink_refit"]["metrics"]["test_acc"]["difference"]["mean"], abs=1e-6)
    # another setting is scored as itself
    changed = scorer.score("shrink_refit", dataclasses.replace(cfg.methods["shrink_refit"], reset=1.0))
    assert changed["score"] != got["score"]


def test_timing_gives_each_setting_a_speed_up_over_the_retrain(scored_project):
    from unlearning.core import config
    cfg = config.load(scored_project / "params.yaml", methods=("shrink_refit",))
    scorer = lab_fast.Scorer(scored_project, len(cfg.seeds))
    params = cfg.methods["shrink_refit"]
    slow = dataclasses.replace(params, epochs=params.epochs * 40)  # 40 times the registered setting's steps
    got = scorer.timing("shrink_refit", {"registered": params, "slow": slow}, chains=2)
    assert set(got) == {"registered", "slow"}
    assert got["registered"] > 2 * got["slow"] > 0


def test_a_project_with_other_chains_is_refused(scored_project):
    with pytest.raises(SystemExit, match="chains"):
        lab_fast.Scorer(scored_project, 32)


def test_a_variant_is_a_name_and_yaml_values():
    assert lab_fast.parse_variant("tail0 average_tail=0 lr=0.003 calibrate_samples=null") == (
        "tail0", {"average_tail": 0, "lr": 0.003, "calibrate_samples": None})
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        lab_fast.parse_variant("broken lr")
