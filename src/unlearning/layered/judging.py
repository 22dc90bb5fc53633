"""Every method's numbers judged against the oracle's distribution over chains, as the main pipeline judges every
model against its retrains (unlearning.audit).

The relearn attack alone moves a model: fine-tuned on B, a model that never learned A also predicts much of A as 1,
because A and B are mixtures of nearby Gaussians. So "relearning B restores A" only says that A was remembered
where it goes beyond what the same attack gives the oracle (trained from scratch with A and B labelled 0). Each
method checkpoint is compared with the oracle checkpoint after the same attack (or none):

  base             vs oracle                 lu             vs oracle
  base_relearn_A   vs oracle_relearn_A       lu_relearn_A   vs oracle_relearn_A
  base_relearn_B   vs oracle_relearn_B       lu_relearn_B   vs oracle_relearn_B

The attack moves a model less the longer it trained, and base trained twice (pretrain, then unlearning), so each
method is also judged against oracle_base, the oracle given base's unlearning phase: the same schedule as base,
never trained on A or B. The two references bracket the attack's own effect.

Per role (accuracy on A, B, retain, null): the method's and the reference's means over chains with their
bootstrap intervals (unlearning.stats), the difference method - reference with the exact permutation interval of
unlearning.equivalence (unpaired, as in the main pipeline; chain i's method and reference share its data, which
ties their values together, so the unpaired interval errs wide), and its verdict against the declared tolerance:
equivalent, different (Holm over the four roles of one checkpoint) or inconclusive. Beside it, the paired view the
shared data allows: the mean per-chain difference with its bootstrap interval."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from unlearning import equivalence, stats
from unlearning.core import rng
from unlearning.layered.config import ToleranceParams
from unlearning.layered.metrics import TRUE_LABEL, by_chain, interval

METHODS = ("base", "lu")
ATTACKS = (None, "A", "B")  # no attack, relearn A, relearn B
REFERENCES = ("oracle", "oracle_base")  # the retrain (as the main pipeline's), and the retrain with base's schedule
OTHER = {"A": "B", "B": "A"}  # the set an attack is meant to restore: relearning B, the accuracy on A


def name(start: str, attack: str | None) -> str:
    return start if attack is None else f"{start}_relearn_{attack}"


@dataclass
class Judged:
    """One method checkpoint against a reference checkpoint after the same attack."""

    start: str  # the method: base or lu
    checkpoint: str
    reference: str
    attack: str | None
    tolerance: float
    model: dict[str, stats.Interval]  # role -> the method's mean and bootstrap interval
    oracle: dict[str, stats.Interval]  # role -> the reference's (oracle or oracle_base after the same attack)
    differences: dict[str, equivalence.Difference]  # role -> mean(method) - mean(reference), permutation interval
    paired: dict[str, stats.Interval]  # role -> mean over chains of (method - reference), bootstrap interval
    verdicts: dict[str, str]  # role -> equivalent / different / inconclusive / n/a


def judge_one(per_chain: pd.DataFrame, start: str, attack: str | None, tolerance: float,
              reference: str = "oracle") -> Judged:
    checkpoint, reference = name(start, attack), name(reference, attack)
    model, oracle, differences, paired = {}, {}, {}, {}
    for role in TRUE_LABEL:
        mine, theirs = by_chain(per_chain, checkpoint, role), by_chain(per_chain, reference, role)  # [N] each
        model[role] = interval(mine, checkpoint, role)
        oracle[role] = interval(theirs, reference, role)
        differences[role] = equivalence.difference(mine, theirs,
                                                   rng.generator(0, "layered", "difference", checkpoint, role))
        paired[role] = interval(mine - theirs, "paired", checkpoint, role, bounds=None)
    verdicts = equivalence.verdicts(differences, dict.fromkeys(differences, tolerance))
    return Judged(start, checkpoint, reference, attack, tolerance, model, oracle, differences, paired, verdicts)


def judge(per_chain: pd.DataFrame, tolerance: ToleranceParams, reference: str = "oracle") -> dict[str, Judged]:
    """checkpoint -> its judgement against `reference` (one of REFERENCES), for every method and attack."""
    out = {}
    for start in METHODS:
        for attack in ATTACKS:
            t = tolerance.unlearned if attack is None else tolerance.relearned
            out[name(start, attack)] = judge_one(per_chain, start, attack, t, reference)
    return out


def restored(judged: dict[str, Judged]) -> list[tuple[Judged, str]]:
    """(judgement, role) of what each attack is meant to restore: relearn B -> A first (the paper's headline), then
    relearn A -> B."""
    return [(judged[name(start, attack)], OTHER[attack]) for attack in ("B", "A") for start in METHODS]


def summary(judged: dict[str, Judged]) -> dict:
    """JSON-ready: checkpoint -> role -> the difference to the oracle, its intervals and verdict."""
    def one(j: Judged, role: str) -> dict:
        d, p = j.differences[role], j.paired[role]
        return {"oracle": j.oracle[role].mean, "diff": d.mean, "diff_low": d.low, "diff_high": d.high,
                "paired_low": p.low, "paired_high": p.high, "verdict": j.verdicts[role]}

    return {c: {"vs": j.reference, "tolerance": j.tolerance, **{role: one(j, role) for role in TRUE_LABEL}}
            for c, j in judged.items()}
