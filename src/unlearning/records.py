"""The metrics files written from the audits: summary.json entries, the per-model headline files that
`dvc metrics show` prints, and audit.json. Only values a rerun reproduces bit for bit on the same kind of CPU (no
wall-clock seconds: unlearning.timing)."""
from __future__ import annotations

import math

import pandas as pd

from unlearning.audit import MIN_SCORE_CHAINS, ModelAudit, resolution
from unlearning.stats import Interval


def num(value, digits: int = 6):
    """JSON-safe rounding: None for a missing or non-finite value."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def interval(i: Interval | None) -> dict | None:
    return None if i is None else {"mean": num(i.mean), "low": num(i.low), "high": num(i.high)}


def summary_entry(a: ModelAudit, per_chain: pd.DataFrame, diverged_chains: int) -> dict:
    """summary.json entry (numbers only, for `dvc metrics`): the scores, each metric's mean over chains, how many
    metrics are different from / equivalent to the retrains', the flags as 0/1, the secondary gap, diverged
    chains."""
    entry = {}
    if a.forgetting is not None:
        entry.update(forgetting_score=num(a.forgetting.mean), forgetting_low=num(a.forgetting.low),
                     forgetting_high=num(a.forgetting.high), ceiling_share=num(a.ceiling_share),
                     final_score=num(a.final))
    entry.update({m: num(i.mean) for m, i in a.metrics.items()})
    if a.verdicts:
        entry.update(different=len(a.flagged), equivalent=a.equivalent, hiding=int(a.hiding),
                     over_forget=int(a.over_forget), passes=int(a.passes))
    if a.compute_share is not None:
        entry["compute_share"] = num(a.compute_share)
    gap = per_chain.loc[per_chain.model == a.model, "gap_to_oracle"]
    entry["gap_to_oracle"] = num(gap.mean()) if len(gap) else None
    entry["diverged_chains"] = diverged_chains
    return entry


# the keys of metrics/models/<model>.json, what `dvc metrics show` prints: one row per model, under 200 columns
HEADLINE = ("forgetting_score", "ceiling_share", "final_score", "forget_acc", "test_acc", "different",
            "hiding", "over_forget", "passes", "compute_share", "diverged_chains")


def headline(entry: dict) -> dict:
    """A model's headline metrics from its summary.json entry; null where not measured (a diverged model)."""
    return {key: entry.get(key) for key in HEADLINE}


def audit_record(a: ModelAudit) -> dict:
    """audit.json entry: every interval, difference and verdict, and the per-example epsilons (3 decimals)."""
    return {"model": a.model, "chains": a.chains, "forgetting_score": interval(a.forgetting),
            "ceiling_share": num(a.ceiling_share), "final_score": num(a.final),
            "metrics": {m: {**interval(i), **({"difference": interval(Interval(*a.differences[m][:3])),
                                               "verdict": a.verdicts[m]} if m in a.differences else {})}
                        for m, i in a.metrics.items()},
            "hiding": a.hiding, "over_forget": a.over_forget, "passes": a.passes,
            "compute_share": num(a.compute_share),
            "epsilons": None if a.epsilons is None else [num(e, 3) for e in a.epsilons]}


def audit_file(audits: list[ModelAudit], ceiling: Interval | None, false_flags: dict | None, chains: int) -> dict:
    """metrics/audit.json: the ceiling (oracle_b's score) and its interval, the score's resolution at this chain
    count, the verdicts' measured false-flag rates, and every model's record."""
    return {"ceiling": interval(ceiling), "resolution": resolution(chains),
            "score_computed": chains >= MIN_SCORE_CHAINS,
            "false_flags": None if false_flags is None else
            {m: {k: num(v, 4) for k, v in rates.items()} for m, rates in false_flags.items()},
            "models": [audit_record(a) for a in audits]}
