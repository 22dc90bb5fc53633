"""boundary_expanding: the forget images are trained onto an extra shadow output, which is then pruned."""
from __future__ import annotations

import copy

import torch

from unlearning.core import rng
from unlearning.methods import boundary_expanding


def test_forget_images_train_onto_a_shadow_output_that_is_pruned(tiny_exp, tiny_models, monkeypatch):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["boundary_expanding"]
    seen = []
    real_fit = boundary_expanding.fit

    def spy(model, x, y, cfg, generator, **kwargs):
        seen.append((model(x[:3]).shape, x, y))
        return real_fit(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(boundary_expanding, "fit", spy)
    model = boundary_expanding.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "be"))
    (shape, x, y), = seen
    assert shape == (3, splits.num_slots + 1)  # widened by one output
    assert torch.equal(x, splits.forget.x) and (y == splits.num_slots).all()  # all labelled with the shadow
    assert model(splits.forget.x[:3]).shape == (3, splits.num_slots)  # pruned back
    assert not torch.equal(model.head.weight, original.head.weight)  # the kept outputs were trained
