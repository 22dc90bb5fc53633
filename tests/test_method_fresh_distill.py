"""fresh_distill: a fresh student taught by the labels and by the original's outputs on the retain images, with
the forgotten slot's column left out of the distillation target."""
from __future__ import annotations

import copy
import dataclasses

import torch

from unlearning.core import rng
from unlearning.methods import fresh_distill


def unlearned(teacher, splits, params):
    return fresh_distill.unlearn(copy.deepcopy(teacher), splits, params, rng.generator(0, "t")).state_dict()


def with_head_row_changed(model, slot: int):
    """A copy of `model` whose output for `slot` alone differs (its head row and bias redrawn)."""
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.head.weight[slot] = torch.randn(changed.head.weight.shape[1], generator=torch.Generator().manual_seed(1))
        changed.head.bias[slot] += 3.0
    return changed


def test_the_forgotten_slot_teaches_nothing_and_the_other_slots_do(tiny_exp, tiny_models):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["fresh_distill"], calibrate=False)
    assert params.weight > 0
    teacher = tiny_models["pretrained"]
    base = unlearned(teacher, splits, params)
    # a teacher that differs only in the forgotten slot's output: the student is the same, bit for bit
    same = unlearned(with_head_row_changed(teacher, splits.forget_slot), splits, params)
    assert all(torch.equal(value, same[name]) for name, value in base.items())
    # a teacher that differs in another slot's output teaches another student
    other = (splits.forget_slot + 1) % splits.num_slots
    differs = unlearned(with_head_row_changed(teacher, other), splits, params)
    assert not torch.equal(base["head.weight"], differs["head.weight"])
    # and without the distillation term the teacher's outputs do not matter at all
    labels_only = dataclasses.replace(params, weight=0.0)
    assert all(torch.equal(v, unlearned(with_head_row_changed(teacher, other), splits, labels_only)[k])
               for k, v in unlearned(teacher, splits, labels_only).items())
    assert not torch.equal(base["head.weight"], unlearned(teacher, splits, labels_only)["head.weight"])


def test_without_slot_drops_one_column():
    logits = torch.arange(12.0).view(2, 6)
    assert fresh_distill.without_slot(logits, 2).tolist() == [[0, 1, 3, 4, 5], [6, 7, 9, 10, 11]]
    assert fresh_distill.without_slot(logits, 5).shape == (2, 5)
