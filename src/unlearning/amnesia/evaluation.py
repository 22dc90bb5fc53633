"""What the judge classifier says about a cVAE's samples, and the relearn attack.

forget_entropy   mean entropy H(p(y | x)) of the classifier on images generated for the forgotten label
                 (nats; ln 10 = 2.303 is 'no idea which digit this is', the forgetting target)
forget_prob      mean p(forgotten label | x) on the same images (0.1 = chance)
retained_acc     classifier accuracy on images generated for the retained labels (are they still drawn well?)
retained_min_acc the same for the worst retained label"""
from __future__ import annotations

import copy

import torch

from unlearning.amnesia.elbo import mean_negative_elbo, train_cvae
from unlearning.core.config import FitConfig
from unlearning.core.train import predict


@torch.no_grad()
def judge(classifier, model, forget: int, retained: tuple[int, ...], per_label: int,
          generator: torch.Generator) -> dict[str, float]:
    """Generate per_label images for every label (one z draw shared by all labels) and score them."""
    device = next(model.parameters()).device
    labels = torch.arange(10, device=device).repeat_interleave(per_label)  # [10 * per_label]
    probs = predict(classifier, model.sample(labels, generator)).softmax(1)  # [10 * per_label, 10]
    mine = labels == forget
    p = probs[mine]
    entropy = -(p * p.clamp_min(1e-12).log()).sum(1)
    keep = torch.isin(labels, torch.tensor(retained, device=device))
    correct = (probs.argmax(1) == labels).float()
    per_label_acc = [correct[labels == c].mean().item() for c in retained]
    return {
        "forget_entropy": entropy.mean().item(),
        "forget_prob": p[:, forget].mean().item(),
        "retained_acc": correct[keep].mean().item(),
        "retained_min_acc": min(per_label_acc),
    }


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


@torch.no_grad()
def judge_reference(classifier, image_shape: tuple[int, ...], forget: int, n: int,
                    generator: torch.Generator) -> dict[str, float]:
    """What the judge says about images that hold no digit at all: uniform noise (the surrogate Selective
    Amnesia trains towards) and flat grey (a decoder's mean image of that noise). Their entropy is, in practice,
    the highest forget_entropy a noise-surrogate method can reach under this judge."""
    device = next(classifier.parameters()).device
    out = {}
    for name, x in (("noise", torch.rand(n, *image_shape, generator=generator)),
                    ("grey", torch.full((1, *image_shape), 0.5))):
        p = predict(classifier, x.to(device)).softmax(1)
        out[f"{name}_entropy"] = (-(p * p.clamp_min(1e-12).log()).sum(1)).mean().item()
        out[f"{name}_forget_prob"] = p[:, forget].mean().item()
    return out
