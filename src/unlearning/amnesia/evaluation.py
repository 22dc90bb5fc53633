"""What the judge classifier says about a cVAE's samples, and the relearn attack.

forget_entropy   mean entropy H(p(y | x)) of the judge on images generated for the forgotten label
                 (nats; ln 10 = 2.303 is 'no idea which digit this is', what the calibrated judge says of no digit)
forget_prob      mean p(forgotten label | x) on the same images (0.1 = chance, and the judge's answer on no digit)
retained_acc     judge accuracy on images generated for the retained labels (are they still drawn well?)
retained_min_acc the same for the worst retained label, worst_class that label"""
from __future__ import annotations

import copy

import torch

from unlearning.amnesia.config import NUM_LABELS, retained
from unlearning.amnesia.elbo import mean_negative_elbo, train_cvae
from unlearning.core.config import FitConfig
from unlearning.core.train import predict


@torch.no_grad()
def label_probs(judge, model, per_label: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """per_label images generated for every label (one z draw shared by all labels), scored by the judge ->
    probs [10 * per_label, 10], labels [10 * per_label]."""
    device = next(model.parameters()).device
    labels = torch.arange(NUM_LABELS, device=device).repeat_interleave(per_label)  # [10 * per_label]
    return predict(judge, model.sample(labels, generator)).softmax(1), labels


def sample_metrics(probs: torch.Tensor, labels: torch.Tensor, forget: int) -> dict[str, float]:
    """probs [N, 10], labels [N] from label_probs -> the metrics of the module docstring for one forgotten label.
    One sampling serves every forgotten label: the original model is the same for all of them."""
    p = probs[labels == forget]  # [per_label, 10]
    entropy = -(p * p.clamp_min(1e-12).log()).sum(1)
    correct = (probs.argmax(1) == labels).float()
    kept = retained(forget)
    per_label = torch.stack([correct[labels == c].mean() for c in kept])  # [9]
    keep = torch.isin(labels, torch.tensor(kept, device=labels.device))
    return {
        "forget_entropy": entropy.mean().item(),
        "forget_prob": p[:, forget].mean().item(),
        "retained_acc": correct[keep].mean().item(),
        "retained_min_acc": per_label.min().item(),
        "worst_class": kept[int(per_label.argmin())],
    }


def judge(judge_model, model, forget: int, per_label: int, generator: torch.Generator) -> dict[str, float]:
    return sample_metrics(*label_probs(judge_model, model, per_label, generator), forget)


@torch.no_grad()
def forget_metrics(judge_model, model, forget: int, n: int, generator: torch.Generator) -> dict[str, float]:
    """forget_entropy and forget_prob from n images generated for the forgotten label only (after an attack, the
    retained labels are not asked about: a tenth of judge's sampling)."""
    device = next(model.parameters()).device
    p = predict(judge_model, model.sample(torch.full((n,), forget, device=device), generator)).softmax(1)  # [n, 10]
    return {"forget_entropy": (-(p * p.clamp_min(1e-12).log()).sum(1)).mean().item(),
            "forget_prob": p[:, forget].mean().item()}


def relearn(model, forget_x: torch.Tensor, forget: int, k: int, steps: int, lr: float,
            generator: torch.Generator):
    """A copy of `model` after `steps` full-batch Adam steps of ELBO training on k real images of the
    forgotten label drawn from forget_x [N, C, H, W] (all of them when N < k)."""
    chosen = torch.randperm(len(forget_x), generator=generator)[:k].to(forget_x.device)
    x = forget_x[chosen]
    y = torch.full((len(x),), forget, dtype=torch.long, device=x.device)
    attacker = copy.deepcopy(model)
    settings = FitConfig(epochs=1, batch_size=len(x), lr=lr)
    return train_cvae(attacker, x, y, settings, generator, steps=steps, desc=f"relearn k={k}")


@torch.no_grad()
def likelihood(model, x: torch.Tensor, y: torch.Tensor, forget: int, generator: torch.Generator) -> dict[str, float]:
    """-ELBO (nats per image, lower = better explained) of real test images x [N, C, H, W] in [0, 1] with
    labels y [N], split into the forgotten label and the rest: forgetting should raise the first only."""
    mine = y == forget
    return {
        "forget_test_nelbo": mean_negative_elbo(model, x[mine], y[mine], generator),
        "retained_test_nelbo": mean_negative_elbo(model, x[~mine], y[~mine], generator),
    }
