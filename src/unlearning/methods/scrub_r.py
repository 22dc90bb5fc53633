"""scrub_r: SCRUB+R (Kurmanji et al. 2023, "Towards Unbounded Machine Unlearning", the rewinding variant for
subset forgetting). SCRUB (methods/shared.py: scrub_rounds, scrub's own loop) keeps a checkpoint of the student
before it starts and after every min epoch; at the end it rewinds to the checkpoint whose forget error (share of
forget images not predicted in their slot) is closest to a reference error: what a model that never trained on
the forget images gets wrong on images like them. Over-forgetting -- a forget error far above that -- is itself a
membership signal, which rewinding avoids.

The paper measures the reference on a held-out validation set of the forget distribution. Methods here see only the
train side, so the reference is a params key, `reference_error`, measured once on the validation split (the
retrains' error on held-out images of the forgotten class; docs/sources.md). Rewinding only applies when part of
the class is kept (subset forgetting: retained images share the forget slot); for a whole forgotten or replaced
class the retrain's error on it is 1 and SCRUB+R is SCRUB, as in the paper. Settings: scrub's."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from unlearning.core.config import require
from unlearning.core.train import predict
from unlearning.methods.shared import ScrubConfig, scrub_rounds

SOURCE = "SCRUB+R (Kurmanji et al. 2023)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(ScrubConfig):
    reference_error: float  # the forget error rewinding aims at, in [0, 1]: a retrain's error on unseen such images

    def __post_init__(self):
        super().__post_init__()
        require(0 <= self.reference_error <= 1, "reference_error", f"must be in [0, 1], got {self.reference_error!r}")


def forget_error(model, forget) -> float:
    return (predict(model, forget.x).argmax(1) != forget.y).float().mean().item()


def unlearn(model, splits, params: Params, generator):
    teacher = copy.deepcopy(model)
    if not bool((splits.retain.y == splits.forget_slot).any()):  # a whole class: no rewinding (plain SCRUB)
        return scrub_rounds(model, teacher, splits, params, generator)
    checkpoints = [(forget_error(model, splits.forget), copy.deepcopy(model.state_dict()))]

    def keep(student) -> None:
        checkpoints.append((forget_error(student, splits.forget), copy.deepcopy(student.state_dict())))

    scrub_rounds(model, teacher, splits, params, generator, on_epoch=keep)
    # the closest to the reference; on ties the later checkpoint (more SCRUB)
    best = min(reversed(range(len(checkpoints))), key=lambda i: abs(checkpoints[i][0] - params.reference_error))
    model.load_state_dict(checkpoints[best][1])
    return model
