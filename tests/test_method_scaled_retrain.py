"""scaled_retrain: a fresh network trained on the kept data for its budget, whose head is then rescaled so that its
median retain confidence is the original's; the rescaling changes no prediction."""
from __future__ import annotations

import copy
import dataclasses

import torch

from unlearning.core import rng
from unlearning.core.train import predict
from unlearning.methods import scaled_retrain
from unlearning.methods.shared import label_confidence


def median_confidence(model, part) -> float:
    return float(label_confidence(predict(model, part.x).double(), part.y).median())


def test_the_head_is_rescaled_to_the_originals_retain_confidence(tiny_exp, tiny_models):
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["scaled_retrain"]
    assert params.calibrate
    plain_params = dataclasses.replace(params, calibrate=False)
    scaled = scaled_retrain.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits, params, rng.generator(0, "t"))
    plain = scaled_retrain.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits, plain_params,
                                   rng.generator(0, "t"))
    original = median_confidence(tiny_models["pretrained"], splits.retain)
    assert abs(median_confidence(scaled, splits.retain) - original) < 1e-3
    assert abs(median_confidence(plain, splits.retain) - original) > 0.5  # a short retrain is less sure
    for name, value in plain.state_dict().items():  # the same network up to the head's scale
        if not name.startswith("head."):
            assert torch.equal(value, scaled.state_dict()[name]), name
    scale = scaled.head.weight / plain.head.weight  # [K, D]: one factor everywhere
    assert torch.allclose(scale, scale.flatten()[0].expand_as(scale), rtol=1e-5)
    assert torch.equal(predict(scaled, splits.retain.x).argmax(1), predict(plain, splits.retain.x).argmax(1))


def test_trains_a_fresh_network_on_retain_and_new_only(tiny_exp, tiny_models):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["scaled_retrain"], calibrate=False)
    # uncalibrated, the result owes nothing to the weights it was given: the original and the retrain as starts
    got = [scaled_retrain.unlearn(copy.deepcopy(tiny_models[m]), splits, params, rng.generator(0, "t")).state_dict()
           for m in ("pretrained", "oracle")]
    for name, value in got[0].items():
        assert torch.equal(value, got[1][name]), name
    seen = []
    model = copy.deepcopy(tiny_models["pretrained"])
    model.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]) if module.training else None)
    scaled_retrain.unlearn(model, splits, params, rng.generator(0, "t"))
    images = torch.cat(seen)
    assert len(images) == params.epochs * len(splits.target)
    assert not (images.flatten(1)[:, None] == splits.forget.x.flatten(1)[None]).all(-1).any()
