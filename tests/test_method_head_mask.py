"""head_mask: the forgotten slot's logit is the constant mask_logit for every input; nothing else changes."""
from __future__ import annotations

import torch

from unlearning.core import rng
from unlearning.methods import head_mask


def test_forgotten_slot_outputs_the_mask_logit_and_every_other_output_is_unchanged(tiny_exp, tiny_models,
                                                                                    pretrained):
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["head_mask"]
    slot, x = splits.forget_slot, splits.pretrain.x  # x: [N, C, H, W], the forget images included
    original = tiny_models["pretrained"]
    with torch.no_grad():
        before = original(x)  # [N, slots]
        after = head_mask.unlearn(pretrained, splits, params, rng.generator(0, "t"))(x)
    # exactly the constant: a head row left in place would add w . features to it
    assert (after[:, slot] == params.mask_logit).all()
    others = torch.arange(splits.num_slots) != slot
    assert torch.equal(after[:, others], before[:, others])
    assert (before.argmax(1) == slot).any() and not (after.argmax(1) == slot).any()
    # hiding, not unlearning: every weight below the head is the original's
    for (name, new), old in zip(pretrained.named_parameters(), original.parameters()):
        if not name.startswith("head."):
            assert torch.equal(new, old), name
