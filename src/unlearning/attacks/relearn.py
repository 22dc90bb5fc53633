"""Relearn attack: fine-tune on k forget-train samples (never test images) and watch how fast the forgotten
behaviour comes back on the forget-test split. A model that truly forgot relearns as slowly as the oracle.

The k forget samples are mixed 1:1 with k samples of what the model should still know (retain + new):
trained on forget samples alone, any model, the oracle included, learns "always answer the old slot" within
a few steps, which would say nothing about what it remembered."""
from __future__ import annotations

import torch

from unlearning.core.config import FitConfig, RelearnConfig
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit, predict


def forget_accuracy(model, forget_test: Part) -> float:
    """Share of forget-test images predicted in their old slot."""
    return (predict(model, forget_test.x).argmax(1) == forget_test.y).float().mean().item()


def draw(part: Part, k: int, generator: torch.Generator) -> tuple[Part, Part]:
    """(k samples of a part without replacement, the samples not drawn); all of them when it holds fewer."""
    order = torch.randperm(len(part), generator=generator).to(part.y.device)
    chosen, rest = order[:k], order[k:]
    return Part(part.x[chosen], part.y[chosen]), Part(part.x[rest], part.y[rest])


def relearn_curve(model, forget_train: Part, keep_train: Part, forget_test: Part | None, k: int,
                  cfg: RelearnConfig, generator: torch.Generator) -> list[dict]:
    """Full-batch Adam for cfg.steps steps on k forget samples (labelled with their old slot) plus k samples
    of keep_train (what the model should still know). Forget accuracy is measured on forget_test, or, when it is
    None (subset forgetting, where the forgotten images are training images), on the forget samples the attacker
    did not draw. Returns [{"step": s, "forget_acc": a}] for s = 0, eval_every, 2 * eval_every, ..., steps."""
    (attack_forget, not_drawn), (attack_keep, _) = draw(forget_train, k, generator), draw(keep_train, k, generator)
    forget_test = not_drawn if forget_test is None else forget_test
    x, y = concat(attack_forget, attack_keep)
    curve = [{"step": 0, "forget_acc": forget_accuracy(model, forget_test)}]

    def record(step: int) -> None:
        if step % cfg.eval_every == 0 or step == cfg.steps:
            curve.append({"step": step, "forget_acc": forget_accuracy(model, forget_test)})

    settings = FitConfig(epochs=1, batch_size=len(y), lr=cfg.lr)
    fit(model, x, y, settings, generator, steps=cfg.steps, on_step=record, desc=f"relearn k={k}")
    return curve
