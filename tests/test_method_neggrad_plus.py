"""neggrad_plus (NegGrad+): SGD on alpha * (CE(retain + new) + l2_pull / 2 ||theta - theta_0||^2) - (1 - alpha) *
CE(forget), each role averaged over its own images in the batch; checked against a plain torch loop over the same batches."""
from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.methods import neggrad_plus


def test_neggrad_plus_is_the_weighted_difference_of_the_two_roles(tiny_exp, pretrained):
    # a large pull, so that dropping it (or pulling to 0 instead of the start) shows in the weights
    params = dataclasses.replace(tiny_exp.cfg.methods["neggrad_plus"], epochs=1, alpha=0.7, l2_pull=0.5)
    splits = tiny_exp.splits(0)
    model = neggrad_plus.unlearn(copy.deepcopy(pretrained), splits, params, rng.generator(0, "np"))

    # by hand: kept images first, then forget images, one shuffled stream (the loop's one randperm per epoch)
    x = torch.cat([splits.target.x, splits.forget.x])
    y = torch.cat([splits.target.y, splits.forget.y])
    is_forget = torch.arange(len(y)) >= len(splits.target)
    hand = copy.deepcopy(pretrained)
    theta0 = [p.detach().clone() for p in hand.parameters()]
    optimiser = torch.optim.SGD(hand.parameters(), lr=params.lr, momentum=params.momentum)
    order = torch.randperm(len(y), generator=rng.generator(0, "np"))
    mixed_batches = 0
    for start in range(0, len(y), params.batch_size):
        idx = order[start:start + params.batch_size]
        forget_b = is_forget[idx]
        ce = F.cross_entropy(hand(x[idx]), y[idx], reduction="none")  # [B]
        kept_term = ce[~forget_b].mean() if (~forget_b).any() else ce.sum() * 0
        forget_term = ce[forget_b].mean() if forget_b.any() else ce.sum() * 0
        mixed_batches += int(forget_b.any() and (~forget_b).any())
        optimiser.zero_grad()
        pull = params.l2_pull / 2 * sum((p - p0).pow(2).sum() for p, p0 in zip(hand.parameters(), theta0))
        (params.alpha * (kept_term + pull) - (1 - params.alpha) * forget_term).backward()
        optimiser.step()
    assert mixed_batches > 0  # the test exercised batches holding both roles
    for a, b in zip(model.parameters(), hand.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
