"""metrics/report.md of the layered scenario: the paper's Table 1 shape, the verdict, every checkpoint."""
from __future__ import annotations

import math

import pandas as pd

from unlearning.layered.config import LayeredConfig
from unlearning.layered.metrics import MUCH_LESS, RESTORED, TRUE_LABEL

# Qian et al. 2025, Table 1 (random assignment, 5 Gaussians per set, 10 seeds): cited for comparison only.
PAPER_TABLE1 = {"base": (0.93, 0.93), "lu": (0.96, 0.30)}
ROW_NAMES = {"base": "base unlearning", "lu": "Layered Unlearning (LU)",
             "oracle": "oracle (never learned A or B; reference)"}


def cell(mean: float, ci: float) -> str:
    return f"{mean:.3f}" if not math.isfinite(ci) else f"{mean:.3f} ± {ci:.3f}"


def table1_markdown(table: dict) -> str:
    on_b, on_a = "relearn A → accuracy on B", "relearn B → accuracy on A"
    rows = [{"model": ROW_NAMES[k], on_b: cell(v["relearn_A_acc_B"], v["relearn_A_acc_B_ci95"]),
             on_a: cell(v["relearn_B_acc_A"], v["relearn_B_acc_A_ci95"])} for k, v in table.items()]
    for key, (paper_b, paper_a) in PAPER_TABLE1.items():
        rows.append({"model": f"paper (random, 5 Gaussians): {ROW_NAMES[key]}", on_b: f"{paper_b:.2f}",
                     on_a: f"{paper_a:.2f}"})
    return pd.DataFrame(rows).to_markdown(index=False)


def verdict_markdown(v: dict, table: dict) -> str:
    outcome = "**Reproduced**" if v["reproduces"] else "**Not reproduced**"
    return "\n".join([
        f"{outcome}: relearning B restores A for base unlearning but much less for LU.",
        "",
        f"- base unlearning: accuracy on A after relearning B = {v['base_acc_A']:.3f} "
        f"({'at least' if v['base_restored'] else 'below'} the {RESTORED} taken as restored)",
        f"- LU: accuracy on A after relearning B = {v['lu_acc_A']:.3f}",
        f"- paired gap base − LU over seeds = {cell(v['gap'], v['gap_ci95'])} "
        f"(needed: ≥ {MUCH_LESS} with the 95 % CI above 0)",
        f"- relearning A, accuracy on B: base {table['base']['relearn_A_acc_B']:.3f}, "
        f"LU {table['lu']['relearn_A_acc_B']:.3f}",
    ])


def checkpoints_markdown(summary: dict) -> str:
    rows = [{"checkpoint": name, **{role: cell(m[role], m[f"{role}_ci95"]) for role in TRUE_LABEL}}
            for name, m in summary.items()]
    return pd.DataFrame(rows).to_markdown(index=False)


def report(cfg: LayeredConfig, summary: dict, table: dict, v: dict) -> str:
    d, u = cfg.data, cfg.unlearn
    return "\n".join([
        "# Layered Unlearning on 2-D Gaussian mixtures",
        "",
        f"{d.assignment} assignment of {d.gaussians} Gaussians per set, {d.samples} training and "
        f"{d.test_samples} held-out points per set, RBF grid {cfg.model.grid}x{cfg.model.grid} "
        f"(sigma {cfg.model.sigma}), hidden layers {list(cfg.model.hidden)}; unlearning phases "
        f"{u.epochs} epochs, batch {u.batch_size}, lr {u.lr}. Mean ± 95 % CI half-width over "
        f"{len(cfg.seeds)} seed(s); every accuracy on held-out points.",
        "",
        "## Table 1: accuracy on the other set after the relearn attack",
        "",
        "The attack fine-tunes on one set alone, labelled 1 (no retain, no background).",
        "",
        table1_markdown(table),
        "",
        "## Verdict",
        "",
        verdict_markdown(v, table),
        "",
        "## Every checkpoint",
        "",
        "A, B, retain: share predicted 1; null: share of the uniform background predicted 0.",
        "",
        checkpoints_markdown(summary),
        "",
    ])
