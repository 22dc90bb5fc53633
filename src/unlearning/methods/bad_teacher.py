"""bad_teacher: unlearning with a competent and an incompetent teacher (Chundawat, Tarun, Mandal & Kankanhalli,
AAAI 2023, "Can Bad Teaching Induce Forgetting? Unlearning in Deep Networks Using an Incompetent Teacher").
The student (the model) distils, image by image, the competent teacher (a frozen copy of the pretrained model) on
a random `retain_share` of the retain images and an incompetent teacher (the same architecture, randomly
initialised, frozen) on the forget images: KL(teacher || student) of the temperature-softened predictions, the
teacher chosen per image by its role. No label is read: the forget images are pulled towards a random network's
near-uniform output, the retained ones held where they were. The new class of class replacement is not shown
(the competent teacher never saw it), so this method does not learn it.

Settings as the authors' code: Adam, lr 1e-4, batch 256, one epoch over forget + 30 % of retain, temperature 1.
Measured on mnist-5k's validation split (docs/sources.md): at lr 1e-4 the one epoch is a handful of steps."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from unlearning.core.config import FitConfig, positive, require
from unlearning.core.train import fit, predict
from unlearning.methods.shared import distill_kl, reinitialise

SOURCE = "Bad Teacher (Chundawat et al. 2023)"
TOUCHES = "forget + retain"


@dataclass(frozen=True)
class Params(FitConfig):
    retain_share: float  # share of the retain images drawn (seeded) for the competent teacher; the source's 0.3
    temperature: float  # distillation temperature T; the source's 1

    def __post_init__(self):
        super().__post_init__()
        positive(self, "temperature")
        require(0 < self.retain_share <= 1, "retain_share", f"must be in (0, 1], got {self.retain_share!r}")


def incompetent_teacher(model, generator):
    """A frozen copy of `model` with every layer freshly initialised."""
    teacher = copy.deepcopy(model)
    reinitialise([m for m in teacher.modules() if hasattr(m, "reset_parameters")], generator)
    return teacher


def unlearn(model, splits, params: Params, generator):
    retain, forget = splits.retain, splits.forget
    drawn = torch.randperm(len(retain), generator=generator)[:round(params.retain_share * len(retain))]
    drawn = drawn.to(retain.y.device)
    x = torch.cat([retain.x[drawn], forget.x])  # [N_r + N_f, ...]
    # per image: the competent teacher's logits on retain, the incompetent teacher's on forget  [N_r + N_f, K]
    teacher_logits = torch.cat([predict(model, retain.x[drawn]),
                                predict(incompetent_teacher(model, generator), forget.x)]).clone()
    idx = torch.arange(len(x), device=x.device)

    def loss(model, xb, yb, idx_b):
        return distill_kl(model(xb), teacher_logits[idx_b], params.temperature).mean()

    return fit(model, x, idx, params, generator, loss=loss, extra=idx, desc="bad_teacher")
