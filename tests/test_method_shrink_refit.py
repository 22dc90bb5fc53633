"""shrink_refit: the start is (1 - reset) x the given weights + reset x a fresh initialisation, then the kept data
refit it."""
from __future__ import annotations

import copy
import dataclasses

import torch

from unlearning.core import rng
from unlearning.core.train import fit
from unlearning.methods import shrink_refit
from unlearning.methods.shared import fresh_init


def run(model, splits, params):
    return shrink_refit.unlearn(copy.deepcopy(model), splits, params, rng.generator(0, "t")).state_dict()


def test_reset_runs_from_fine_tuning_to_a_fresh_network(tiny_exp, tiny_models):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate=False)
    assert 0 < params.reset < 1
    starts = ("pretrained", "oracle")
    # reset 1: a fresh network, whatever it was given
    fresh = [run(tiny_models[m], splits, dataclasses.replace(params, reset=1.0)) for m in starts]
    assert all(torch.equal(v, fresh[1][k]) for k, v in fresh[0].items())
    # in between, the given weights still shape the result
    mixed = [run(tiny_models[m], splits, params) for m in starts]
    assert not torch.equal(mixed[0]["head.weight"], mixed[1]["head.weight"])
    # reset 0: fine-tuning the given weights on retain + new (the fresh draw comes first from the generator)
    generator = rng.generator(0, "t")
    fresh_init(copy.deepcopy(tiny_models["pretrained"]), generator)  # what the fresh draw takes from it
    target = splits.target
    tuned = fit(copy.deepcopy(tiny_models["pretrained"]), target.x, target.y, params, generator).state_dict()
    kept = run(tiny_models["pretrained"], splits, dataclasses.replace(params, reset=0.0))
    assert all(torch.equal(v, tuned[k]) for k, v in kept.items())


def test_the_start_is_the_interpolation(tiny_exp, tiny_models, monkeypatch):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate=False)
    starts = []
    monkeypatch.setattr(shrink_refit, "fit", lambda model, *a, **k: starts.append(copy.deepcopy(model)) or model)
    for reset in (0.0, params.reset, 1.0):
        shrink_refit.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits,
                             dataclasses.replace(params, reset=reset), rng.generator(0, "t"))
    kept, between, fresh = (s.head.weight for s in starts)
    assert torch.equal(kept, tiny_models["pretrained"].head.weight)
    assert torch.allclose(between, (1 - params.reset) * kept + params.reset * fresh, atol=1e-6)
