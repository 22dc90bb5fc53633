"""The training phases of the scenario as data: which checkpoint each starts from, how each set is labelled,
which params block sets its epochs / batch / lr. Every phase is one call of the shared `train.fit`.

As in the paper, every phase before the attack trains on all four roles, the null background labelled 0 and
the retain set labelled 1, so that unlearning A and B has to keep retain (and the background) right; the
relearn attack trains on the attacked set alone, labelled 1."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.core.config import FitConfig
from unlearning.core.train import fit

KEEP = {"null": 0, "retain": 1}  # what every non-attack phase also trains on


@dataclass(frozen=True)
class Phase:
    name: str
    start: str | None  # the checkpoint fine-tuned by this phase; None = a fresh model
    labels: dict  # role -> label 0/1 for every role in the training set
    block: str  # the params block with this phase's FitConfig: pretrain | unlearn | relearn


def _relearn(start: str, attacked: str) -> Phase:
    return Phase(f"{start}_relearn_{attacked}", start, {attacked: 1}, "relearn")


# The oracles' attacks are the references: what relearning alone yields on a model that never learned A or B.
# oracle_base is the oracle given base's unlearning phase as well, so that its schedule (pretrain, then an
# unlearning phase with a fresh optimiser) is base's: the attack moves a model less the longer it trained.
RELEARN_FROM = ("base", "lu", "oracle", "oracle_base")
PHASES = {p.name: p for p in [
    Phase("init", None, {**KEEP, "A": 1, "B": 1}, "pretrain"),
    Phase("oracle", None, {**KEEP, "A": 0, "B": 0}, "pretrain"),  # never learned A or B: relabelled from scratch
    Phase("base", "init", {**KEEP, "A": 0, "B": 0}, "unlearn"),  # unlearn A and B at once
    Phase("lu_partial", "init", {**KEEP, "A": 0, "B": 1}, "unlearn"),  # LU layer 1: A only, B kept
    Phase("lu", "lu_partial", {**KEEP, "A": 0, "B": 0}, "unlearn"),  # LU layer 2: then B
    Phase("oracle_base", "oracle", {**KEEP, "A": 0, "B": 0}, "unlearn"),  # base's phase, run on the oracle
    *[_relearn(start, attacked) for start in RELEARN_FROM for attacked in ("A", "B")],
]}


def training_set(points: dict, phase: Phase, seeds: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """points: role -> [S, n, 2] -> x [N, S, 2], y float [N, S] (N = n * roles in the phase).

    Each seed's rows are shuffled by its own generator: `fit` draws one batch order for all seeds, and row
    i of seed s is then an independent random point of seed s, so each seed sees its own batch sequence."""
    x = torch.cat([points[role] for role in phase.labels], dim=1)  # [S, N, 2]
    y = torch.cat([torch.full((points[role].shape[1],), float(label)) for role, label in phase.labels.items()])
    order = torch.stack([torch.randperm(len(y), generator=rng.generator(s, "layered", phase.name, "shuffle"))
                         for s in seeds])  # [S, N]
    x = torch.gather(x, 1, order[..., None].expand(-1, -1, 2))
    return x.transpose(0, 1).contiguous(), y[order].T.contiguous()


def per_seed_bce(model, x: torch.Tensor, y: torch.Tensor, extra=None) -> torch.Tensor:
    """Sum over seeds of each seed's mean binary cross-entropy: every seed's weights get exactly the
    gradient of its own loss, as if trained alone. x [B, S, 2], y [B, S]."""
    return F.binary_cross_entropy_with_logits(model(x), y, reduction="none").mean(0).sum()


def run(model, points: dict, phase: Phase, settings: FitConfig, seeds: tuple[int, ...]):
    """Train `model` (the ensemble of every seed) in place for one phase and return it."""
    device = next(model.parameters()).device
    x, y = training_set(points, phase, seeds)
    # The shared batch order is independent of the seed list, so a seed's result does not depend on
    # which other seeds run beside it.
    order = rng.generator(0, "layered", "batch-order", phase.name)
    return fit(model, x.to(device), y.to(device), settings, order, loss=per_seed_bce, desc=phase.name)
