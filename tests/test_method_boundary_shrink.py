"""boundary_shrink: labels from one explicit FGSM step in pixel units, training on the forget images only."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.methods import boundary_shrink


def explicit_fgsm_labels(model, x, y, epsilon, reference_images):
    """Back to [0, 1] pixels (per channel: min -> 0, max -> 1), one signed-gradient step of epsilon, clamp, round to
    1/255, back to normalised units, argmax of the model."""
    low = reference_images.amin(dim=(0, 2, 3), keepdim=True)
    span = reference_images.amax(dim=(0, 2, 3), keepdim=True) - low
    x_in = x.clone().requires_grad_(True)
    F.cross_entropy(model(x_in), y).backward()
    pixels = (x - low) / span
    stepped = torch.clamp(pixels + epsilon * x_in.grad.sign(), 0, 1)
    stepped = torch.round(stepped * 255) / 255
    with torch.no_grad():
        return model(stepped * span + low).argmax(1)


def test_labels_are_the_argmax_after_an_explicit_fgsm_step(tiny_exp, tiny_models):
    model = copy.deepcopy(tiny_models["pretrained"]).eval()
    splits = tiny_exp.splits(0)
    forget = splits.forget
    low, high = boundary_shrink.pixel_range(splits.pretrain.x)
    got = boundary_shrink.boundary_labels(model, forget.x, forget.y, 0.1, low, high)
    want = explicit_fgsm_labels(copy.deepcopy(model), forget.x, forget.y, 0.1, splits.pretrain.x)
    assert torch.equal(got, want)
    assert (got != forget.y).any()  # the step crosses a boundary for some images ...
    # ... and a zero step keeps the model's own prediction: the own class is allowed (the reference's rule)
    clean = boundary_shrink.boundary_labels(model, forget.x, forget.y, 0.0, low, high)
    with torch.no_grad():
        assert torch.equal(clean, model(forget.x).argmax(1))
    assert (clean == forget.y).any()


def test_fine_tunes_on_the_forget_images_only_with_their_boundary_labels(tiny_exp, pretrained, monkeypatch):
    seen = []
    real_fit = boundary_shrink.fit

    def spy(model, x, y, cfg, generator, **kwargs):
        seen.append((x, y))
        return real_fit(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(boundary_shrink, "fit", spy)
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["boundary_shrink"]
    # the labels by the explicit step, not by boundary_labels: an edit there must not move the expectation too
    labels = explicit_fgsm_labels(copy.deepcopy(pretrained).eval(), splits.forget.x, splits.forget.y,
                                  params.epsilon, splits.pretrain.x)
    assert (labels != splits.forget.y).any()  # so that training on the own labels would differ
    boundary_shrink.unlearn(pretrained, splits, params, rng.generator(0, "zoo"))
    assert len(seen) == 1
    assert torch.equal(seen[0][0], splits.forget.x) and torch.equal(seen[0][1], labels)
