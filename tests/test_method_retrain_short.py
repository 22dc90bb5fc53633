"""retrain_short: the model it returns owes nothing to the weights it was given, and it trains for its budget."""
from __future__ import annotations

import copy

import torch

from unlearning.core import rng
from unlearning.methods import retrain_short


def test_result_does_not_depend_on_the_given_weights(tiny_exp, tiny_models):
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["retrain_short"]
    # two unrelated starts (the original and the retrain), the same generator: the same model, bit for bit
    got = [retrain_short.unlearn(copy.deepcopy(tiny_models[m]), splits, params, rng.generator(0, "t")).state_dict()
           for m in ("pretrained", "oracle")]
    for name, value in got[0].items():
        assert torch.equal(value, got[1][name]), name
    assert not torch.equal(got[0]["head.weight"], tiny_models["pretrained"].state_dict()["head.weight"])


def test_trains_on_retain_and_new_for_its_share_of_the_retrains_epochs(tiny_exp, pretrained):
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["retrain_short"]
    seen = []  # rows of every training-mode forward pass, [B, ...] each

    def count(module, inputs, output):
        if module.training:
            seen.append(inputs[0].detach())

    pretrained.register_forward_hook(count)
    retrain_short.unlearn(pretrained, splits, params, rng.generator(0, "t"))
    images = torch.cat(seen)
    target = splits.target
    # budget: share x epochs passes over retain + new, to within one batch (whole optimiser steps)
    assert abs(len(images) - params.share * params.epochs * len(target)) <= params.batch_size
    assert 0 < params.share < 1 and len(images) < params.epochs * len(target)
    # none of the forget images was trained on: [seen, 1, D] == [1, forget, D]
    assert not (images.flatten(1)[:, None] == splits.forget.x.flatten(1)[None]).all(-1).any()
