"""Accuracy of every checkpoint on each held-out set, per seed, and the numbers of the paper's Table 1.

Accuracy on A, B and retain is the share of their points predicted 1 (what the init model learned), on the
null background the share predicted 0: after unlearning, low A / B and high retain / null is the goal."""
from __future__ import annotations

import math

import pandas as pd
import torch

from unlearning.layered.phases import RELEARN_FROM
from unlearning.metrics import ci95_halfwidth
from unlearning.core.train import predict

TRUE_LABEL = {"A": 1, "B": 1, "retain": 1, "null": 0}  # also the order of every table
# The claim under test: "relearning B restores A for base unlearning but much less for LU".
RESTORED = 0.8  # base: A accuracy after relearning B at least this high = restored
MUCH_LESS = 0.2  # LU: at least this much lower than base, seed by seed (paired), with the 95 % CI above 0


def accuracies(model, test: dict) -> dict[str, torch.Tensor]:
    """test: role -> [S, n, 2] -> role -> accuracy per seed [S]."""
    out = {}
    for role in TRUE_LABEL:
        logits = predict(model, test[role].transpose(0, 1).contiguous())  # [n, S]
        out[role] = ((logits > 0).float() == TRUE_LABEL[role]).float().mean(0).cpu()
    return out


def per_seed_rows(name: str, model, test: dict, seeds: tuple[int, ...]) -> list[dict]:
    acc = accuracies(model, test)
    return [{"checkpoint": name, "seed": s, **{role: acc[role][i].item() for role in TRUE_LABEL}}
            for i, s in enumerate(seeds)]


def mean_ci(values) -> tuple[float, float]:
    values = pd.Series(values, dtype=float).to_numpy()
    return float(values.mean()), ci95_halfwidth(values)


def summarise(per_seed: pd.DataFrame) -> dict:
    """{checkpoint: {role: mean, role_ci95: half-width}} in the order the checkpoints appear."""
    out = {}
    for name, rows in per_seed.groupby("checkpoint", sort=False):
        out[name] = {}
        for role in TRUE_LABEL:
            mean, ci = mean_ci(rows[role])
            out[name][role] = mean
            out[name][f"{role}_ci95"] = ci
    return out


def _column(per_seed: pd.DataFrame, checkpoint: str, role: str) -> pd.Series:
    return per_seed[per_seed.checkpoint == checkpoint].set_index("seed")[role]


def table1(per_seed: pd.DataFrame) -> dict:
    """The paper's Table 1 per unlearned model (and the oracle as the reference): accuracy on B after
    relearning A, accuracy on A after relearning B; mean and 95 % CI over seeds."""
    out = {}
    for start in RELEARN_FROM:
        b_mean, b_ci = mean_ci(_column(per_seed, f"{start}_relearn_A", "B"))
        a_mean, a_ci = mean_ci(_column(per_seed, f"{start}_relearn_B", "A"))
        out[start] = {"relearn_A_acc_B": b_mean, "relearn_A_acc_B_ci95": b_ci,
                      "relearn_B_acc_A": a_mean, "relearn_B_acc_A_ci95": a_ci}
    return out


def verdict(per_seed: pd.DataFrame) -> dict:
    """Does relearning B restore A for base unlearning but much less for LU? Decided from the numbers:
    base's mean >= RESTORED and the paired per-seed gap base - LU >= MUCH_LESS with its 95 % CI above 0."""
    base = _column(per_seed, "base_relearn_B", "A")
    lu = _column(per_seed, "lu_relearn_B", "A")
    gap, gap_ci = mean_ci(base - lu.reindex(base.index))
    ci_above_zero = math.isfinite(gap_ci) and gap - gap_ci > 0
    return {"base_acc_A": float(base.mean()), "lu_acc_A": float(lu.mean()), "gap": gap, "gap_ci95": gap_ci,
            "base_restored": bool(base.mean() >= RESTORED),
            "reproduces": bool(base.mean() >= RESTORED and gap >= MUCH_LESS and ci_above_zero)}
