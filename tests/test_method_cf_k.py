"""cf_k (Goel et al.'s CF-k): only the last k linear layers train, on the kept data; every other weight is
bit-identical."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from method_helpers import without_forget
from unlearning.core import config, rng
from unlearning.methods import cf_k


@pytest.mark.parametrize("k", [1, 2])
def test_cf_k_trains_exactly_the_last_k_linear_layers(tiny_exp, tiny_models, k):
    params = dataclasses.replace(tiny_exp.cfg.methods["cf_k"], k=k)
    original = tiny_models["pretrained"]
    model = cf_k.unlearn(copy.deepcopy(original), tiny_exp.splits(0), params, rng.generator(0, "cf"))
    linears = [m for m in original.modules() if isinstance(m, torch.nn.Linear)]  # forward order, head last
    trained = {id(p) for m in linears[-k:] for p in m.parameters()}
    for (name, before), after in zip(original.named_parameters(), model.parameters()):
        if id(before) in trained:
            assert not torch.equal(before, after), name
        else:
            assert torch.equal(before, after), name


def test_cf_k_never_reads_the_forget_images(tiny_exp, pretrained):
    params, splits = tiny_exp.cfg.methods["cf_k"], tiny_exp.splits(0)
    a = cf_k.unlearn(copy.deepcopy(pretrained), splits, params, rng.generator(0, "cf"))
    b = cf_k.unlearn(copy.deepcopy(pretrained), without_forget(splits), params, rng.generator(0, "cf"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_k_above_the_models_layers_names_the_key(tiny_exp, pretrained):
    params = dataclasses.replace(tiny_exp.cfg.methods["cf_k"], k=4)  # the tiny MLP has 3 linear layers
    with pytest.raises(config.ConfigError) as err:
        cf_k.unlearn(pretrained, tiny_exp.splits(0), params, rng.generator(0, "cf"))
    assert err.value.key == "methods.cf_k.k" and "3 linear layers" in str(err.value)
