"""The layered scenario's judging against the oracle (unlearning.layered.judging) and what the report says of it,
on synthetic per-chain accuracies: a method is credited with remembering A only beyond what the same attack gives
the oracle, which never learned A."""
from __future__ import annotations

import re

import pandas as pd
import pytest
import torch
from test_layered import tiny_params

from unlearning import equivalence
from unlearning.layered import config, judging, metrics, phases
from unlearning.layered.config import ToleranceParams
from unlearning.layered.report import attack_effect_markdown, report, restored_markdown

CHAINS = 10
TOLERANCE = ToleranceParams(unlearned=0.02, relearned=0.05)
VERDICTS = (equivalence.EQUIVALENT, equivalence.DIFFERENT, equivalence.INCONCLUSIVE, equivalence.NA)


def frame(on_a_after_b: dict[str, float], spread: float = 0.01, **overrides) -> pd.DataFrame:
    """Per-chain accuracies of every checkpoint: each role at 0.5 (retain 1), except the accuracy on A after
    relearning B, set per start model (base / lu / oracle), and `overrides` {checkpoint: {role: value}}; every value
    plus chain-to-chain noise of sd `spread`, clipped to [0, 1]."""
    noise = torch.Generator().manual_seed(0)
    rows = []
    for name in phases.PHASES:
        start = name.split("_relearn_")[0]
        centre = {"A": 0.5, "B": 0.5, "retain": 1.0, "null": 0.5, **overrides.get(name, {})}
        if name.endswith("_relearn_B") and start in on_a_after_b:
            centre["A"] = on_a_after_b[start]
        for chain in range(CHAINS):
            wobble = (torch.randn(4, generator=noise) * spread).tolist()
            rows.append({"checkpoint": name, "chain": chain,
                         **{role: min(1.0, max(0.0, centre[role] + w)) for role, w in zip(centre, wobble)}})
    return pd.DataFrame(rows)


def test_a_high_accuracy_the_oracle_also_reaches_is_not_remembered():
    """Base at 0.9 on A after relearning B looks restored, but the oracle reaches 0.9 too: equivalent, nothing
    remembered. LU at 0.3 is below the attack's own effect: different, below."""
    judged = judging.judge(frame({"base": 0.9, "lu": 0.3, "oracle": 0.9}), TOLERANCE)
    base, lu = judged["base_relearn_B"], judged["lu_relearn_B"]
    assert base.reference == lu.reference == "oracle_relearn_B"
    assert base.model["A"].mean == pytest.approx(0.9, abs=0.01)
    assert base.oracle["A"].mean == pytest.approx(0.9, abs=0.01)
    assert abs(base.differences["A"].mean) < 0.01
    assert base.verdicts["A"] == equivalence.EQUIVALENT
    assert -0.05 < base.differences["A"].low < base.differences["A"].high < 0.05
    assert lu.verdicts["A"] == equivalence.DIFFERENT
    assert lu.differences["A"].mean == pytest.approx(-0.6, abs=0.02) and lu.differences["A"].high < -0.5
    text = attack_effect_markdown({"oracle": judged})
    assert "A model that never learned A, attacked the same way, reaches:" in text
    assert re.search(r"schedule\): 0\.(89|90)\d \[.*\], 100% of base unlearning's 0\.(89|90)", text), text
    assert "nothing shown remembered beyond it" in text and "below what the same attack gives" in text


def test_accuracy_beyond_the_oracles_is_remembered():
    judged = judging.judge(frame({"base": 0.95, "lu": 0.6, "oracle": 0.6}), TOLERANCE)
    base = judged["base_relearn_B"]
    assert base.verdicts["A"] == equivalence.DIFFERENT
    assert base.differences["A"].mean == pytest.approx(0.35, abs=0.02)
    # paired view: the mean per-chain difference, its bootstrap interval unbounded by [0, 1]
    assert base.paired["A"].mean == pytest.approx(base.differences["A"].mean, abs=1e-9)
    assert 0.3 < base.paired["A"].low < base.paired["A"].high < 0.4
    assert "recovered beyond the attack's own effect: remembered" in attack_effect_markdown({"oracle": judged})
    assert "oracle_relearn" not in restored_markdown({"oracle": judged})  # rows name the reference model


def test_the_reference_with_base_schedule_brackets_the_attacks_effect():
    """Against oracle_base (the oracle given base's unlearning phase) every checkpoint is compared with
    oracle_base after the same attack: here it reaches less after relearning B, so more of base's A is left."""
    per_chain = frame({"base": 0.9, "lu": 0.3, "oracle": 0.9, "oracle_base": 0.7})
    by_reference = {ref: judging.judge(per_chain, TOLERANCE, ref) for ref in judging.REFERENCES}
    matched = by_reference["oracle_base"]["base_relearn_B"]
    assert matched.reference == "oracle_base_relearn_B" and by_reference["oracle_base"]["lu"].reference == "oracle_base"
    assert matched.differences["A"].mean == pytest.approx(0.2, abs=0.02)
    assert matched.verdicts["A"] == equivalence.DIFFERENT
    assert by_reference["oracle"]["base_relearn_B"].verdicts["A"] == equivalence.EQUIVALENT
    text = attack_effect_markdown(by_reference)
    assert text.count("that much is the attack's own effect") == 2 and "78% of base unlearning's" in text


def test_every_checkpoint_is_judged_against_the_oracle_after_the_same_attack():
    """relearn A is judged against the oracle relearned on A, not on B; no attack against the plain oracle, with
    the unlearned tolerance."""
    per_chain = frame({"base": 0.5, "lu": 0.5, "oracle": 0.5},
                      oracle_relearn_A={"B": 0.8}, base_relearn_A={"B": 0.8}, lu_relearn_A={"B": 0.8},
                      oracle={"null": 0.9}, base={"null": 0.9})
    judged = judging.judge(per_chain, TOLERANCE)
    assert set(judged) == {f"{m}{s}" for m in ("base", "lu") for s in ("", "_relearn_A", "_relearn_B")}
    assert judged["base_relearn_A"].reference == "oracle_relearn_A"
    assert judged["base"].reference == "oracle" and judged["base"].tolerance == TOLERANCE.unlearned
    assert judged["lu_relearn_A"].tolerance == TOLERANCE.relearned
    assert judged["base_relearn_A"].verdicts["B"] == equivalence.EQUIVALENT  # 0.8 vs 0.8
    assert judged["base"].verdicts["null"] == equivalence.EQUIVALENT  # 0.9 vs 0.9
    assert judged["lu"].verdicts["null"] == equivalence.DIFFERENT  # 0.5 vs the oracle's 0.9
    assert [(j.checkpoint, role) for j, role in judging.restored(judged)] == [
        ("base_relearn_B", "A"), ("lu_relearn_B", "A"), ("base_relearn_A", "B"), ("lu_relearn_A", "B")]


def test_a_wide_spread_over_chains_is_inconclusive_not_equivalent():
    """10 chains with a spread of 0.2 cannot show a difference within 0.05: the verdict says so."""
    judged = judging.judge(frame({"base": 0.7, "lu": 0.3, "oracle": 0.7}, spread=0.2), TOLERANCE)
    assert judged["base_relearn_B"].verdicts["A"] == equivalence.INCONCLUSIVE
    d = judged["base_relearn_B"].differences["A"]
    assert d.low < -0.05 and d.high > 0.05


def test_summary_and_report_carry_the_judgement(tmp_path):
    per_chain = frame({"base": 0.9, "lu": 0.3, "oracle": 0.85})
    judged = judging.judge(per_chain, TOLERANCE)
    out = judging.summary(judged)
    row = out["base_relearn_B"]["A"]
    assert out["base_relearn_B"]["vs"] == "oracle_relearn_B" and out["base_relearn_B"]["tolerance"] == 0.05
    assert row["diff"] == pytest.approx(judged["base_relearn_B"].model["A"].mean - row["oracle"])
    assert row["diff_low"] < row["diff"] < row["diff_high"] and row["verdict"] in VERDICTS

    cfg = config.parse(tiny_params())
    summary = metrics.summarise(per_chain)
    judged = {ref: judging.judge(per_chain, TOLERANCE, ref) for ref in judging.REFERENCES}
    text = report(cfg, summary, metrics.table1(summary), metrics.claim(per_chain), judged)
    assert "## What relearning restores beyond the attack's own effect" in text
    assert "model − reference [95 % CI]" in text and "oracle_base_relearn_B" in text
    assert "## Every method checkpoint against the references" in text
