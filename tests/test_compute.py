"""The machine-independent compute count: a plain fit counts epochs x samples with gradients, predictions count
as forward passes, a model's copy counts into the same counter, and the validation curve does not count."""
from __future__ import annotations

import copy

import torch

from unlearning import compute
from unlearning.core import rng
from unlearning.core.config import FitConfig
from unlearning.core.train import fit, predict


def test_a_plain_fit_counts_epochs_times_samples(tiny_exp):
    part, cfg = tiny_exp.splits(0).target, FitConfig(epochs=3, batch_size=32, lr=1e-3)
    model = tiny_exp.new_model(0)
    with compute.counting(model) as counter:
        fit(model, part.x, part.y, cfg, rng.generator(0, "count"))
    assert counter.grad == 3 * len(part) and counter.forward == 0
    assert counter.passes == compute.BACKWARD_WEIGHT * 3 * len(part)


def test_forward_passes_copies_and_uncounted_blocks(tiny_exp):
    x = tiny_exp.splits(0).forget.x
    model = tiny_exp.new_model(0)
    with compute.counting(model) as counter:
        predict(model, x)  # inference: forward only
        teacher = copy.deepcopy(model)  # a method's frozen copy still costs compute
        with torch.no_grad():
            teacher.features(x[:5])
        with compute.uncounted():
            predict(model, x)
    after = predict(model, x[:3])  # outside the block: the hook is gone
    assert counter.forward == len(x) + 5 and counter.grad == 0 and after.shape[0] == 3
    assert counter.record() == {"grad_samples": 0, "forward_samples": len(x) + 5}
