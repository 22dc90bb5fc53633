"""ssd: the reference's importance estimator and the paper's selection and dampening."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.methods import ssd


def hand_importance(model, x, y, batch_size, seed):
    """The reference's loop, written out: per batch of a seeded permutation, backward of the mean CE, then
    accumulate grad^2; divide by the number of batches."""
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    sums = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    batches = 0
    for start in range(0, len(y), batch_size):
        idx = order[start:start + batch_size]
        model.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        for name, p in model.named_parameters():
            sums[name] += p.grad ** 2
        batches += 1
    model.zero_grad()
    return {name: s / batches for name, s in sums.items()}


def test_importance_is_the_mean_over_batches_of_the_squared_batch_gradient(tiny_exp, tiny_models):
    pretrained = tiny_models["pretrained"]
    forget = tiny_exp.splits(0).forget
    got = ssd.batch_fisher(copy.deepcopy(pretrained), forget.x, forget.y, 7, torch.Generator().manual_seed(3))
    want = hand_importance(copy.deepcopy(pretrained), forget.x, forget.y, 7, 3)
    assert set(got) == set(want)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=1e-12)
    # squaring the batch mean is not the mean of per-sample squares: one batch of everything is smaller
    per_sample = hand_importance(copy.deepcopy(pretrained), forget.x, forget.y, 1, 3)
    whole = hand_importance(copy.deepcopy(pretrained), forget.x, forget.y, len(forget), 3)
    assert sum(v.sum() for v in whole.values()) < 0.5 * sum(v.sum() for v in per_sample.values())


def test_ssd_dampens_exactly_the_selected_parameters(tiny_exp, tiny_models, pretrained):
    params = tiny_exp.cfg.methods["ssd"]
    splits = tiny_exp.splits(0)
    original = tiny_models["pretrained"]
    generator = rng.generator(0, "zoo", "ssd")  # unlearn draws the forget order first, then the full data's
    forget_imp = ssd.batch_fisher(copy.deepcopy(original), splits.forget.x, splits.forget.y, params.batch_size,
                                  generator)
    full_imp = ssd.batch_fisher(copy.deepcopy(original), splits.pretrain.x, splits.pretrain.y, params.batch_size,
                                generator)
    model = ssd.unlearn(pretrained, splits, params, rng.generator(0, "zoo", "ssd"))
    before = dict(original.named_parameters())
    dampened = 0
    for name, p in model.named_parameters():
        old, new = before[name].detach(), p.detach()
        selected = forget_imp[name] > params.selection * full_imp[name]
        factor = (params.dampening * full_imp[name] / forget_imp[name]).clamp(max=1.0)
        assert torch.equal(new[~selected], old[~selected]), name  # outside the selection: bit-identical
        torch.testing.assert_close(new[selected], old[selected] * factor[selected])
        dampened += int(selected.sum())
    assert 0 < dampened < 0.5 * sum(p.numel() for p in model.parameters())
