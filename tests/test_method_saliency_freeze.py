"""saliency_freeze: only the weights with the largest forget-loss gradient move."""
from __future__ import annotations

import copy

from method_helpers import top_gradient_mask
from unlearning.core import rng
from unlearning.methods import saliency_freeze


def test_only_the_largest_gradient_weights_move(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["saliency_freeze"]
    mask = top_gradient_mask(copy.deepcopy(original), splits.forget.x, splits.forget.y, params.fraction)
    model = saliency_freeze.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "sf"))
    moved_total = 0
    for (name, before), after in zip(original.named_parameters(), model.parameters()):
        moved = after.detach() != before.detach()
        assert not (moved & ~mask[name]).any(), name
        moved_total += int(moved.sum())
    assert moved_total > 0.5 * sum(int(m.sum()) for m in mask.values())
