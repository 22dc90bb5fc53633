"""ewc: the anchor weights each parameter by its diagonal retain Fisher (per-sample squared gradients)."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.methods import ewc


def test_anchor_weights_are_the_normalised_per_sample_fisher(tiny_exp, tiny_models, monkeypatch):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["ewc"]
    seen = []
    real = ewc.anchor_penalty
    monkeypatch.setattr(ewc, "anchor_penalty", lambda model, w, ref: (seen.append(w), real(model, w, ref))[1])
    ewc.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "ewc"))
    weights = seen[0]
    # the same draw of retain images (the method's first use of its generator), squared per-sample gradients
    drawn = torch.randperm(len(splits.retain), generator=rng.generator(0, "ewc"))[:params.fisher_samples]
    probe = copy.deepcopy(original).eval()
    fisher = {n: torch.zeros_like(p) for n, p in probe.named_parameters()}
    for i in drawn.tolist():
        probe.zero_grad()
        F.cross_entropy(probe(splits.retain.x[i:i + 1]), splits.retain.y[i:i + 1]).backward()
        for n, p in probe.named_parameters():
            fisher[n] += p.grad.pow(2)
    total = sum(f.sum() for f in fisher.values())
    for name, f in fisher.items():
        torch.testing.assert_close(weights[name], f / total, rtol=1e-3, atol=1e-9)
