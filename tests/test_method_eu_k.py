"""eu_k (EU-k): the last k linear layers start from a fresh default initialisation, then only they train."""
from __future__ import annotations

import copy
import dataclasses
import math

import torch

from unlearning.core import rng
from unlearning.methods import eu_k


def test_top_layers_are_reinitialised_before_training_and_the_rest_frozen(tiny_exp, tiny_models, monkeypatch):
    original = tiny_models["pretrained"]
    params = dataclasses.replace(tiny_exp.cfg.methods["eu_k"], k=2)
    at_start = {}
    real_fit = eu_k.fit

    def spy(model, x, y, cfg, generator, **kwargs):
        at_start.update({n: p.detach().clone() for n, p in model.named_parameters()})
        return real_fit(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(eu_k, "fit", spy)
    model = eu_k.unlearn(copy.deepcopy(original), tiny_exp.splits(0), params, rng.generator(0, "eu"))
    linears = [m for m in original.modules() if isinstance(m, torch.nn.Linear)]
    top = {id(p) for m in linears[-2:] for p in m.parameters()}
    for (name, before), after in zip(original.named_parameters(), model.parameters()):
        if id(before) in top:
            fan_in = before.shape[-1] if before.dim() > 1 else None
            # PyTorch's default Linear init: uniform within +-1/sqrt(fan_in); the pretrained weights exceed it
            bound = 1 / math.sqrt(fan_in if fan_in else dict(original.named_parameters())[name[:-4] + "weight"]
                                  .shape[1])
            assert at_start[name].abs().max() <= bound + 1e-6, name
            if before.dim() > 1:  # the pretrained weight matrices exceed it: the check tells fresh from pretrained
                assert before.abs().max() > bound, name
            assert not torch.equal(after, at_start[name]), name  # and then it trained
        else:
            assert torch.equal(before, after) and torch.equal(at_start[name], before), name
