"""The shared training loop: it learns, it is deterministic, it freezes what it is told to freeze."""
from __future__ import annotations

import copy

import torch

from unlearning.core import rng
from unlearning.core.config import FitConfig
from unlearning.metrics import accuracies
from unlearning.core.train import Adam, fit


def test_fit_learns_the_pretrain_classes(tiny_exp, tiny_models):
    """The tiny pretrained model is far above chance on the classes it was trained on."""
    acc = accuracies(tiny_models["pretrained"], tiny_exp.splits(0, "test"))
    assert acc["retain_acc"] > 0.9 and acc["forget_acc"] > 0.8


def test_fit_is_deterministic_for_a_seed(tiny_exp):
    part, cfg = tiny_exp.splits(0).pretrain, FitConfig(epochs=2, batch_size=32, lr=1e-3)
    a = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    b = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(0, "x"))
    c = fit(tiny_exp.new_model(0), part.x, part.y, cfg, rng.generator(1, "x"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_fit_keeps_masked_and_unlisted_parameters_exact(tiny_exp, pretrained):
    original = copy.deepcopy(pretrained)
    head_mask = torch.zeros_like(pretrained.head.weight, dtype=torch.bool)
    head_mask[0] = True  # only the first row of the head may move
    part = tiny_exp.splits(0).target
    fit(pretrained, part.x, part.y, FitConfig(1, 64, 1e-2), rng.generator(0, "m"),
        trainable={"head.weight": head_mask, "head.bias": True})
    assert torch.equal(pretrained.head.weight[1:], original.head.weight[1:])
    assert not torch.equal(pretrained.head.weight[0], original.head.weight[0])
    assert not torch.equal(pretrained.head.bias, original.head.bias)
    assert torch.equal(pretrained.body[1].weight, original.body[1].weight)
    assert all(p.requires_grad for p in pretrained.parameters())  # restored for later callers


def test_fit_steps_mode_runs_exactly_that_many_steps(tiny_exp, pretrained):
    seen = []
    part = tiny_exp.splits(0).forget
    fit(pretrained, part.x, part.y, FitConfig(1, 16, 1e-3), rng.generator(0, "s"), steps=23, on_step=seen.append)
    assert seen == list(range(1, 24))


def test_adam_matches_torch_optim_adam():
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    b = copy.deepcopy(a)
    ours, reference = Adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    x, y = torch.randn(32, 12), torch.randint(0, 3, (32,))
    for _ in range(25):
        for model, opt in ((a, ours), (b, reference)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
