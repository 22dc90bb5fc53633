"""saliency_freeze: only the weights with the largest forget-loss gradient move."""
from __future__ import annotations

import copy

from method_helpers import assert_only_masked_weights_move, top_gradient_mask
from unlearning.core import rng
from unlearning.methods import saliency_freeze


def test_only_the_largest_gradient_weights_move(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["saliency_freeze"]
    mask = top_gradient_mask(copy.deepcopy(original), splits.forget.x, splits.forget.y, params.fraction)
    model = saliency_freeze.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "sf"))
    assert_only_masked_weights_move(original, model, mask)
