"""salun: only the most forget-salient weights move, and with the mask opened fully it is salun_rl, bit for bit
(the two differ only by the mask)."""
from __future__ import annotations

import copy
import dataclasses

import torch

from method_helpers import assert_only_masked_weights_move, top_gradient_mask
from unlearning.core import rng
from unlearning.methods import salun, salun_rl


def test_only_the_largest_gradient_weights_move(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), dataclasses.replace(tiny_exp.cfg.methods["salun"], fraction=0.2)
    mask = top_gradient_mask(copy.deepcopy(original), splits.forget.x, splits.forget.y, params.fraction)
    model = salun.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "salun"))
    assert_only_masked_weights_move(original, model, mask)


def test_salun_with_every_weight_salient_is_salun_rl(tiny_exp, tiny_models):
    rl = tiny_exp.cfg.methods["salun_rl"]
    params = salun.Params(epochs=rl.epochs, batch_size=rl.batch_size, lr=rl.lr, momentum=rl.momentum,
                          weight_decay=rl.weight_decay, fraction=1.0)
    a = salun.unlearn(copy.deepcopy(tiny_models["pretrained"]), tiny_exp.splits(0), params, rng.generator(0, "s"))
    b = salun_rl.unlearn(copy.deepcopy(tiny_models["pretrained"]), tiny_exp.splits(0), rl, rng.generator(0, "s"))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


def test_weight_decay_is_applied(tiny_exp, tiny_models):
    """A large weight decay shrinks the trained weights against none: the L2 term is in the loss."""
    base = dataclasses.replace(tiny_exp.cfg.methods["salun_rl"], epochs=1)
    norms = {}
    for wd in (0.0, 0.5):
        model = salun_rl.unlearn(copy.deepcopy(tiny_models["pretrained"]), tiny_exp.splits(0),
                                 dataclasses.replace(base, weight_decay=wd), rng.generator(0, "s"))
        norms[wd] = sum(p.detach().pow(2).sum().item() for p in model.parameters())
    assert norms[0.5] < 0.9 * norms[0.0], norms
