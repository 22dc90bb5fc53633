"""The check a rerun on other hardware is held to (unlearning.agreement, bench/reproduce.py): on the committed
metrics/audit.json it accepts itself and a rerun that moves numbers within their intervals, and refuses each kind of
contradiction."""
from __future__ import annotations

import copy
import json

import pytest
from committed import committed_text

from unlearning.agreement import compare

AUDIT = json.loads(committed_text("metrics/audit.json"))


def entry(doc: dict, model: str) -> dict:
    return next(e for e in doc["models"] if e["model"] == model)


def a_metric_with(verdict: str) -> tuple[str, str]:
    return next((e["model"], name) for e in AUDIT["models"] if e["model"] not in ("oracle", "oracle_b")
                for name, m in e["metrics"].items() if m["verdict"] == verdict)


def test_the_committed_results_agree_with_themselves_bit_for_bit():
    result = compare(AUDIT, copy.deepcopy(AUDIT))
    assert result.agrees and not result.borderline
    assert result.values_identical == result.values_total > 200
    assert result.verdicts_identical == result.verdicts_total


def test_numbers_moved_within_their_intervals_agree_but_are_not_identical():
    rerun = copy.deepcopy(AUDIT)
    for e in rerun["models"]:
        score = e["forgetting_score"]
        if score and score.get("low") is not None:
            score["mean"] += (score["high"] - score["mean"]) / 2
        for m in e["metrics"].values():
            m["mean"] = m["mean"] + 1e-6
    result = compare(AUDIT, rerun)
    assert result.agrees, result.text()
    assert result.values_identical < result.values_total


def test_a_move_through_inconclusive_is_borderline_not_a_failure():
    model, metric = a_metric_with("equivalent")
    rerun = copy.deepcopy(AUDIT)
    entry(rerun, model)["metrics"][metric]["verdict"] = "inconclusive"
    result = compare(AUDIT, rerun)
    assert result.agrees and result.borderline == [f"{model} {metric}: equivalent -> inconclusive"]


@pytest.mark.parametrize("verdict, other", [("equivalent", "different"), ("different", "equivalent")])
def test_equivalent_in_one_run_and_different_in_the_other_fails(verdict, other):
    model, metric = a_metric_with(verdict)
    rerun = copy.deepcopy(AUDIT)
    entry(rerun, model)["metrics"][metric]["verdict"] = other
    result = compare(AUDIT, rerun)
    assert not result.agrees and result.failures == [f"{model} {metric}: {verdict} -> {other}"]


def test_a_score_interval_that_no_longer_overlaps_fails():
    rerun = copy.deepcopy(AUDIT)
    score = entry(rerun, "salun_rl")["forgetting_score"]
    width = score["high"] - score["low"]
    for key in ("mean", "low", "high"):
        score[key] += 1.5 * width + 1e-3  # now wholly above the committed interval
    result = compare(AUDIT, rerun)
    assert any(f.startswith("salun_rl forgetting score") for f in result.failures)


def test_two_models_each_run_separates_in_reverse_order_fail():
    rerun = copy.deepcopy(AUDIT)
    a, b = entry(rerun, "oracle_b")["forgetting_score"], entry(rerun, "finetune")["forgetting_score"]
    a_old, b_old = dict(a), dict(b)
    a.update(b_old)  # swap the two intervals: the ceiling now below finetune, both still separated
    b.update(a_old)
    result = compare(AUDIT, rerun)
    assert any("order of" in f and "oracle_b" in f and "finetune" in f for f in result.failures)


def test_a_flag_that_moves_without_a_borderline_verdict_fails():
    rerun = copy.deepcopy(AUDIT)
    e = entry(rerun, "oracle_b")
    assert e["passes"]
    e["passes"] = False
    assert compare(AUDIT, rerun).failures == ["oracle_b passes: True -> False with no borderline verdict"]


def test_a_model_missing_from_the_rerun_fails():
    rerun = copy.deepcopy(AUDIT)
    rerun["models"] = [e for e in rerun["models"] if e["model"] != "scrub"]
    assert compare(AUDIT, rerun).failures == ["scrub: in only one of the runs"]
