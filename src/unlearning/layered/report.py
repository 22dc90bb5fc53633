"""metrics/report.md of the layered scenario: what the relearn attack restores beyond its own effect on the oracle,
the paper's Table 1 and claim, every method checkpoint against the oracle, every checkpoint."""
from __future__ import annotations

import math

import pandas as pd

from unlearning import equivalence
from unlearning.layered import judging
from unlearning.layered.config import LayeredConfig
from unlearning.layered.metrics import MUCH_LESS, RESTORED, TRUE_LABEL
from unlearning.stats import Interval

# Qian et al. 2025, Table 1 (random assignment, 5 Gaussians per set, 10 seeds): cited for comparison only.
PAPER_TABLE1 = {"base": (0.93, 0.93), "lu": (0.96, 0.30)}
ROW_NAMES = {"base": "base unlearning", "lu": "Layered Unlearning (LU)",
             "oracle": "oracle (never learned A or B; reference)",
             "oracle_base": "oracle + base's unlearning phase (base's schedule; reference)"}
REFERENCE_NAMES = {"oracle": "the oracle (retrained: the init model's schedule)",
                   "oracle_base": "the oracle given base's unlearning phase (base's schedule)"}
SYMBOL = {equivalence.EQUIVALENT: "≈", equivalence.DIFFERENT: "≠", equivalence.INCONCLUSIVE: "?",
          equivalence.NA: "–"}


def num(x: float, signed: bool = False) -> str:
    return "—" if not math.isfinite(x) else f"{x:+.3f}" if signed else f"{x:.3f}"


def cell(i: Interval, signed: bool = False) -> str:
    """'mean [low, high]'; the mean alone when the chains give no interval."""
    if not (math.isfinite(i.low) and math.isfinite(i.high)):
        return num(i.mean, signed)
    return f"{num(i.mean, signed)} [{num(i.low, signed)}, {num(i.high, signed)}]"


def diff_cell(d: equivalence.Difference, verdict: str) -> str:
    return f"{cell(Interval(d.mean, d.low, d.high), signed=True)} {SYMBOL[verdict]}"


def reading(j: judging.Judged, role: str) -> str:
    """What the verdict on the restored set says, in words."""
    verdict, d, t = j.verdicts[role], j.differences[role], j.tolerance
    if verdict == equivalence.DIFFERENT:
        return ("recovered beyond the attack's own effect: remembered" if d.mean > 0 else
                "below what the same attack gives a model that never learned it")
    if verdict == equivalence.EQUIVALENT:
        return f"within ±{t:g} of the attack's own effect: nothing shown remembered beyond it"
    if verdict == equivalence.INCONCLUSIVE:
        return f"neither shown beyond ±{t:g} of the attack's own effect nor within it"
    return "too few chains to judge"


def restored_markdown(judged: dict) -> str:
    """judged: reference -> judging.judge(...) against it. A row per reference, method and attack."""
    rows = []
    for reference, by_checkpoint in judged.items():
        for j, role in judging.restored(by_checkpoint):
            rows.append({"model": ROW_NAMES[j.start], "attack → on": f"relearn {j.attack} → {role}",
                         "against": reference, "model [95 % CI]": cell(j.model[role]),
                         "reference [95 % CI]": cell(j.oracle[role]),
                         "model − reference [95 % CI]": diff_cell(j.differences[role], j.verdicts[role]),
                         "per chain, paired [95 % CI]": cell(j.paired[role], signed=True),
                         "verdict": f"{j.verdicts[role]} (±{j.tolerance:g})"})
    return pd.DataFrame(rows).to_markdown(index=False)


def attack_effect_markdown(judged: dict) -> str:
    """The plain statement: how much of the post-attack accuracy on A a model that never learned A reaches (the
    attack's own effect, per reference), and what is left that was remembered."""
    on_base = next(iter(judged.values()))["base_relearn_B"].model["A"]
    lines = [f"After relearning B, base unlearning reaches {cell(on_base)} on A. A model that never learned A, "
             "attacked the same way, reaches:"]
    for reference, by_checkpoint in judged.items():
        oracle = by_checkpoint["base_relearn_B"].oracle["A"]
        share = oracle.mean / on_base.mean if on_base.mean > 0 else math.nan
        lines.append(f"- {REFERENCE_NAMES[reference]}: {cell(oracle)}, {share:.0%} of base unlearning's "
                     f"{num(on_base.mean)}: that much is the attack's own effect.")
    lines += ["", "What is left beyond the attack's own effect, i.e. what was remembered of A:"]
    for start in judging.METHODS:
        for reference, by_checkpoint in judged.items():
            j = by_checkpoint[judging.name(start, "B")]
            d = j.differences["A"]
            lines.append(f"- {ROW_NAMES[start]} ({num(j.model['A'].mean)} on A) against {reference}: "
                         f"{cell(Interval(d.mean, d.low, d.high), signed=True)} (per chain, paired: "
                         f"{cell(j.paired['A'], signed=True)}): {reading(j, 'A')}.")
    return "\n".join(lines)


def table1_markdown(table: dict) -> str:
    on_b, on_a = "relearn A → accuracy on B", "relearn B → accuracy on A"
    rows = [{"model": ROW_NAMES[k], on_b: cell(v["relearn_A_acc_B"]), on_a: cell(v["relearn_B_acc_A"])}
            for k, v in table.items()]
    for key, (paper_b, paper_a) in PAPER_TABLE1.items():
        rows.append({"model": f"paper (random, 5 Gaussians): {ROW_NAMES[key]}", on_b: f"{paper_b:.2f}",
                     on_a: f"{paper_a:.2f}"})
    return pd.DataFrame(rows).to_markdown(index=False)


def claim_markdown(c: dict, table: dict) -> str:
    outcome = "**Reproduced**" if c["reproduces"] else "**Not reproduced**"
    return "\n".join([
        f"{outcome}: relearning B restores A for base unlearning but much less for LU.",
        "",
        f"- base unlearning: accuracy on A after relearning B = {c['base_acc_A']:.3f} "
        f"({'at least' if c['base_restored'] else 'below'} the {RESTORED} taken as restored)",
        f"- LU: accuracy on A after relearning B = {c['lu_acc_A']:.3f}",
        f"- paired gap base − LU over chains = {cell(c['gap'], signed=True)} "
        f"(needed: ≥ {MUCH_LESS} with the 95 % interval above 0)",
        f"- relearning A, accuracy on B: base {table['base']['relearn_A_acc_B'].mean:.3f}, "
        f"LU {table['lu']['relearn_A_acc_B'].mean:.3f}",
    ])


def judged_markdown(judged: dict) -> str:
    rows = [{"checkpoint": c, "against": j.reference, "tolerance": f"±{j.tolerance:g}",
             **{role: diff_cell(j.differences[role], j.verdicts[role]) for role in TRUE_LABEL}}
            for by_checkpoint in judged.values() for c, j in by_checkpoint.items()]
    return pd.DataFrame(rows).to_markdown(index=False)


def checkpoints_markdown(summary: dict) -> str:
    rows = [{"checkpoint": name, **{role: cell(m[role]) for role in TRUE_LABEL}} for name, m in summary.items()]
    return pd.DataFrame(rows).to_markdown(index=False)


def report(cfg: LayeredConfig, summary: dict, table: dict, c: dict, judged: dict) -> str:
    d, u, t = cfg.data, cfg.unlearn, cfg.audit.tolerance
    return "\n".join([
        "# Layered Unlearning on 2-D Gaussian mixtures",
        "",
        f"{d.assignment} assignment of {d.gaussians} Gaussians per set, {d.samples} training and "
        f"{d.test_samples} held-out points per set, RBF grid {cfg.model.grid}x{cfg.model.grid} "
        f"(sigma {cfg.model.sigma}), hidden layers {list(cfg.model.hidden)}; unlearning phases "
        f"{u.epochs} epochs, batch {u.batch_size}, lr {u.lr}. {cfg.audit.chains} independent chains (each its own "
        "data, init model and oracle); every accuracy on held-out points, as mean over chains [95 % percentile "
        "bootstrap interval].",
        "",
        "## What relearning restores beyond the attack's own effect",
        "",
        "The attack fine-tunes on one set alone, labelled 1. Each model is judged against a reference that never "
        "trained on A or B, after the same attack: `oracle`, retrained from scratch, and `oracle_base`, the oracle "
        "given base's unlearning phase too (base's schedule: the attack moves a model less the longer it trained). "
        "model − reference is the difference of the means over chains with its exact permutation interval; the "
        "verdict compares it with the tolerance (≈ equivalent, ≠ different, ? inconclusive). The paired column is "
        "the mean per-chain difference (same chain: same data).",
        "",
        restored_markdown(judged),
        "",
        attack_effect_markdown(judged),
        "",
        "## Table 1: accuracy on the other set after the relearn attack",
        "",
        table1_markdown(table),
        "",
        "## The paper's claim",
        "",
        claim_markdown(c, table),
        "",
        "## Every method checkpoint against the references",
        "",
        f"model − reference [95 % CI] and verdict per set; tolerance ±{t.unlearned:g} without an attack, "
        f"±{t.relearned:g} after one (audit.tolerance); 'different' is Holm-corrected over the four sets of a row.",
        "",
        judged_markdown(judged),
        "",
        "## Every checkpoint",
        "",
        "A, B, retain: share predicted 1; null: share of the uniform background predicted 0.",
        "",
        checkpoints_markdown(summary),
        "",
    ])
