"""Every registered method on tiny data: it lowers forget accuracy and keeps the retained classes."""
from __future__ import annotations

import pytest
import torch

from unlearning.core import rng
from unlearning.methods import METHODS
from unlearning.metrics import accuracies

RETAIN_FLOOR = 0.75  # the tiny pretrained model scores ~0.95 on retained digits


@pytest.mark.parametrize("name", sorted(set(METHODS) - {"original"}))
def test_method_lowers_forget_accuracy_and_keeps_retain(name, tiny_exp, tiny_models, pretrained):
    test = tiny_exp.splits(0, "test")
    before = accuracies(tiny_models["pretrained"], test)
    after = accuracies(METHODS[name].unlearn(pretrained, tiny_exp.splits(0), tiny_exp.cfg.methods[name],
                                             rng.generator(0, "test", name)), test)
    assert before["forget_acc"] > 0.8
    assert after["forget_acc"] < before["forget_acc"] - 0.3, after
    assert after["retain_acc"] > RETAIN_FLOOR, after


def test_original_leaves_every_weight_untouched(tiny_exp, tiny_models, pretrained):
    model = METHODS["original"].unlearn(pretrained, tiny_exp.splits(0), tiny_exp.cfg.methods["original"],
                                         rng.generator(0, "test"))
    for name, value in tiny_models["pretrained"].state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_replacement_methods_learn_the_new_class(tiny_exp, pretrained):
    """Class replacement is forget 6 *and* learn 3: the training methods must reach the new class."""
    test = tiny_exp.splits(0, "test")
    model = METHODS["finetune"].unlearn(pretrained, tiny_exp.splits(0), tiny_exp.cfg.methods["finetune"],
                                        rng.generator(0, "test"))
    assert accuracies(model, test)["new_acc"] > 0.7


def test_last_layers_freezes_everything_below(tiny_exp, tiny_models, pretrained):
    model = METHODS["last_layers"].unlearn(pretrained, tiny_exp.splits(0), tiny_exp.cfg.methods["last_layers"],
                                           rng.generator(0, "test"))
    first = tiny_models["pretrained"].body[1].weight  # the first Linear (layers=2 of 3 are trainable)
    assert torch.equal(model.body[1].weight, first)
    assert not torch.equal(model.head.weight, tiny_models["pretrained"].head.weight)


def test_saliency_freeze_changes_only_salient_weights(tiny_exp, tiny_models, pretrained):
    params = tiny_exp.cfg.methods["saliency_freeze"]
    model = METHODS["saliency_freeze"].unlearn(pretrained, tiny_exp.splits(0), params, rng.generator(0, "t"))
    before = torch.cat([p.flatten() for p in tiny_models["pretrained"].parameters()])
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    changed = (before != after).float().mean().item()
    assert 0 < changed <= params.fraction + 1e-3
