"""npo: (2 / beta) log(1 + (p / p_ref)^beta) on forget images against the frozen pretrained model, plus the
retain cross-entropy (NPO+RT)."""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.methods import npo


def test_npo_loss_on_hand_numbers():
    p, p_ref, beta = torch.tensor([0.5, 0.1]), torch.tensor([0.5, 0.4]), 0.1
    want = 2 / beta * torch.log(1 + (p / p_ref) ** beta)
    torch.testing.assert_close(npo.npo_loss(p.log(), p_ref.log(), beta), want)


def test_the_loss_reads_the_pretrained_reference_and_the_retain_cross_entropy(tiny_exp, tiny_models, monkeypatch):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["npo"]
    captured = {}
    monkeypatch.setattr(npo, "fit", lambda model, x, y, cfg, generator, **kw: captured.update(x=x, y=y, **kw))
    npo.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "npo"))
    loss, x, y = captured["loss"], captured["x"], captured["y"]
    n_kept = len(splits.target)
    forget_idx = torch.arange(n_kept, n_kept + 8)
    with torch.no_grad():
        # at the start the model is its own reference: p = p_ref, loss = (2 / beta) ln 2 for every forget image
        value = loss(original, x[forget_idx], y[forget_idx], forget_idx)
        assert math.isclose(value.item(), 2 / params.beta * math.log(2), rel_tol=1e-4)
        kept_idx = torch.arange(0, 8)
        value = loss(original, x[kept_idx], y[kept_idx], kept_idx)
        want = params.retain_weight * F.cross_entropy(original(x[kept_idx]), y[kept_idx])
        assert math.isclose(value.item(), want.item(), rel_tol=1e-4)
