"""One test per zoo method, on the mechanism that defines it (test_methods.py checks the outcome of all)."""
from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unlearning.core import config, rng
from unlearning.methods import METHODS, ewc, mi_regularizer
from unlearning.methods import shared
from unlearning.core.train import predict


def run(name, tiny_exp, model, **overrides):
    params = dataclasses.replace(tiny_exp.cfg.methods[name], **overrides)
    return METHODS[name].unlearn(model, tiny_exp.splits(0), params, rng.generator(0, "zoo", name))


def flat(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_mutual_information_is_zero_for_identical_groups_and_ln2_for_separable():
    probs = torch.rand(6, 4, generator=torch.Generator().manual_seed(0)).softmax(1)
    same = torch.cat([probs, probs])  # both groups hold the same predictions
    z = torch.tensor([False] * 6 + [True] * 6)
    assert mi_regularizer.mutual_information(same, z).item() == pytest.approx(0.0, abs=1e-6)
    apart = torch.cat([F.one_hot(torch.zeros(6, dtype=torch.long), 4), F.one_hot(torch.ones(6, dtype=torch.long), 4)])
    assert mi_regularizer.mutual_information(apart.float(), z).item() == pytest.approx(math.log(2), rel=1e-4)
    assert mi_regularizer.mutual_information(probs, torch.zeros(6, dtype=torch.bool)).item() == 0.0


def test_fisher_fast_path_matches_per_sample_gradients_and_is_non_negative(tiny_exp, pretrained):
    part = tiny_exp.splits(0).retain
    x, y = part.x[:40], part.y[:40]
    fast = shared.diagonal_fisher(pretrained, x, y, batch_size=16)
    assert all(p.grad is None for p in pretrained.parameters())  # the model is left as it was
    slow = {name: value / len(y) for name, value in shared._loop_sums(pretrained, x, y).items()}
    for name, value in fast.items():
        assert (value >= 0).all(), name
        torch.testing.assert_close(value, slow[name], rtol=1e-4, atol=1e-10)


def test_fisher_falls_back_for_layers_other_than_linear():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    values = shared.diagonal_fisher(model, x, y)
    assert set(values) == {n for n, _ in model.named_parameters()}
    assert values["0.weight"].sum() > 0


def test_ewc_anchor_pulls_weights_towards_the_pretrained_ones(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    retain = tiny_exp.splits(0).retain
    weights = ewc.anchor_weights(shared.diagonal_fisher(copy.deepcopy(original), retain.x, retain.y))
    reference = {n: p.detach().clone() for n, p in original.named_parameters()}
    drift = {}
    for anchor in (1e-3, 1e4):
        model = run("ewc", tiny_exp, copy.deepcopy(original), anchor=anchor)
        drift[anchor] = ewc.anchor_penalty(model, weights, reference).item()
    assert ewc.anchor_penalty(original, weights, reference).item() == 0.0
    assert drift[1e4] < 0.2 * drift[1e-3], drift


def test_neggrad_plus_ascends_the_forget_loss(tiny_exp, tiny_models, pretrained):
    forget = tiny_exp.splits(0).forget

    def forget_loss(model):
        return F.cross_entropy(predict(model, forget.x), forget.y).item()

    model = run("neggrad_plus", tiny_exp, pretrained)
    assert forget_loss(model) > forget_loss(tiny_models["pretrained"]) + 1.0
    with pytest.raises(config.ConfigError, match="alpha"):
        dataclasses.replace(tiny_exp.cfg.methods["neggrad_plus"], alpha=1.0)


def test_salun_changes_only_salient_weights(tiny_exp, tiny_models, pretrained):
    params = tiny_exp.cfg.methods["salun"]
    forget = tiny_exp.splits(0).forget
    masks = shared.saliency_masks(copy.deepcopy(tiny_models["pretrained"]), forget.x, forget.y,
                                           params.fraction)
    model = run("salun", tiny_exp, pretrained)
    before = dict(tiny_models["pretrained"].named_parameters())
    changed = 0
    for name, p in model.named_parameters():
        moved = p.detach() != before[name].detach()
        assert not (moved & ~masks[name]).any(), name  # nothing outside the mask moved
        changed += moved.sum().item()
    assert 0 < changed <= params.fraction * flat(model).numel() + 1
