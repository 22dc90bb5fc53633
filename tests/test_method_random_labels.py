"""The random-label family: study B's random_labels and last_layers train on a few relabelled forget images alone;
SalUn's RL (salun_rl) on every forget image relabelled plus the kept data. Labels are never the true slot."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from method_helpers import forget_only, row_index
from unlearning.core import config, rng
from unlearning.methods import last_layers, random_labels, salun_rl, shared


def captured_fit(monkeypatch, module) -> list:
    """Replace the module's fit by one that records (x, y, trainable) and then trains as fit does."""
    calls, real = [], module.fit

    def recording(model, x, y, cfg, generator, **kwargs):
        calls.append((x, y, kwargs.get("trainable")))
        return real(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(module, "fit", recording)
    return calls


def test_relabelled_sample_draws_forget_images_under_other_labels(tiny_exp):
    forget, slots = tiny_exp.splits(0).forget, tiny_exp.splits(0).num_slots
    sample = shared.relabelled_sample(forget, 50, slots, rng.generator(0, "rl"))
    where = row_index(sample.x, forget.x)
    assert len(sample) == 50 and (where >= 0).all() and len(set(where.tolist())) == 50  # 50 distinct forget images
    assert (sample.y != forget.y[where]).all() and ((sample.y >= 0) & (sample.y < slots)).all()
    assert len(shared.relabelled_sample(forget, 10 ** 6, slots, rng.generator(0, "rl"))) == len(forget)


@pytest.mark.parametrize("module", [random_labels, last_layers])
def test_seed_baselines_train_only_on_relabelled_forget_images(monkeypatch, tiny_exp, pretrained, module):
    name = module.__name__.rsplit(".", 1)[-1]
    params, splits = tiny_exp.cfg.methods[name], tiny_exp.splits(0)
    calls = captured_fit(monkeypatch, module)
    module.unlearn(pretrained, forget_only(splits), params, rng.generator(0, name))  # retain/new unreadable
    (x, y, _), = calls
    where = row_index(x, splits.forget.x)
    assert len(y) == min(params.samples, len(splits.forget)) and (where >= 0).all()
    assert (y != splits.forget.y[where]).all()  # never the true slot


def test_last_layers_moves_only_its_layers(tiny_exp, tiny_models):
    params = dataclasses.replace(tiny_exp.cfg.methods["last_layers"], layers=1)
    original = tiny_models["pretrained"]
    model = last_layers.unlearn(copy.deepcopy(original), tiny_exp.splits(0), params, rng.generator(0, "ll"))
    for (name, before), after in zip(original.named_parameters(), model.parameters()):
        assert torch.equal(before, after) != name.startswith("head."), name  # only the head (layer 1) moved


def test_salun_rl_trains_kept_data_and_every_forget_image_under_other_labels(monkeypatch, tiny_exp, pretrained):
    splits = tiny_exp.splits(0)
    calls = captured_fit(monkeypatch, salun_rl)
    salun_rl.unlearn(pretrained, splits, tiny_exp.cfg.methods["salun_rl"], rng.generator(0, "rl"))
    (x, y, trainable), = calls
    n_kept = len(splits.target)
    assert trainable is None  # every weight trains (salun is the masked variant)
    assert torch.equal(x[:n_kept], splits.target.x) and torch.equal(y[:n_kept], splits.target.y)
    assert torch.equal(x[n_kept:], splits.forget.x) and (y[n_kept:] != splits.forget.y).all()


def test_last_layers_above_the_models_layers_names_the_key(tiny_exp, pretrained):
    params = dataclasses.replace(tiny_exp.cfg.methods["last_layers"], layers=4)
    with pytest.raises(config.ConfigError) as err:
        last_layers.unlearn(pretrained, tiny_exp.splits(0), params, rng.generator(0, "ll"))
    assert err.value.key == "methods.last_layers.layers"
