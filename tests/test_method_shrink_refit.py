"""shrink_refit: the start is (1 - reset) x the given weights + reset x a fresh initialisation, then the kept data
refit it; calibrated, the head is rescaled to the original's median retain confidence without changing a
prediction."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from unlearning.core import rng
from unlearning.core.train import fit, predict
from unlearning.methods import shrink_refit
from unlearning.methods.shared import fresh_init


def run(model, splits, params):
    return shrink_refit.unlearn(copy.deepcopy(model), splits, params, rng.generator(0, "t")).state_dict()


def test_reset_runs_from_fine_tuning_to_a_fresh_network(tiny_exp, tiny_models):
    splits = tiny_exp.splits(0)
    # the last weights, not the tail's average: the fine-tuning below is one plain fit
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate=False, average_tail=0.0)
    assert 0 < params.reset < 1
    starts = ("pretrained", "oracle")
    # reset 1: a fresh network, whatever it was given
    fresh = [run(tiny_models[m], splits, dataclasses.replace(params, reset=1.0)) for m in starts]
    assert all(torch.equal(v, fresh[1][k]) for k, v in fresh[0].items())
    # in between, the given weights still shape the result
    mixed = [run(tiny_models[m], splits, params) for m in starts]
    assert not torch.equal(mixed[0]["head.weight"], mixed[1]["head.weight"])
    # reset 0: fine-tuning the given weights on retain + new (the fresh draw comes first from the generator)
    generator = rng.generator(0, "t")
    fresh_init(copy.deepcopy(tiny_models["pretrained"]), generator)  # what the fresh draw takes from it
    target = splits.target
    tuned = fit(copy.deepcopy(tiny_models["pretrained"]), target.x, target.y, params, generator).state_dict()
    kept = run(tiny_models["pretrained"], splits, dataclasses.replace(params, reset=0.0))
    assert all(torch.equal(v, tuned[k]) for k, v in kept.items())


def test_the_start_is_the_interpolation(tiny_exp, tiny_models, monkeypatch):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate=False)
    starts = []
    monkeypatch.setattr(shrink_refit, "fit", lambda model, *a, **k: starts.append(copy.deepcopy(model)) or model)
    for reset in (0.0, params.reset, 1.0):
        shrink_refit.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits,
                             dataclasses.replace(params, reset=reset), rng.generator(0, "t"))
    kept, between, fresh = (s.head.weight for s in starts)
    assert torch.equal(kept, tiny_models["pretrained"].head.weight)
    assert torch.allclose(between, (1 - params.reset) * kept + params.reset * fresh, atol=1e-6)


def test_the_head_is_rescaled_to_the_originals_retain_confidence(tiny_exp, tiny_models):
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate_samples=None)  # every retain image
    assert params.calibrate
    retain = splits.retain
    calibrated, plain = (shrink_refit.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits, p,
                                              rng.generator(0, "t"))
                         for p in (params, dataclasses.replace(params, calibrate=False)))

    def median(model) -> float:
        return shrink_refit.median_confidence(predict(model, retain.x).double(), retain.y)

    original = median(tiny_models["pretrained"])
    assert abs(median(calibrated) - original) < 1e-3
    assert abs(median(plain) - original) > 0.5  # a short refit is less sure than the 20-epoch original
    for name, value in plain.state_dict().items():  # the same network up to the head's scale
        if not name.startswith("head."):
            assert torch.equal(value, calibrated.state_dict()[name]), name
    scale = calibrated.head.weight / plain.head.weight  # [K, D]: one factor everywhere
    assert torch.allclose(scale, scale.flatten()[0].expand_as(scale), rtol=1e-5)
    assert torch.equal(predict(calibrated, retain.x).argmax(1), predict(plain, retain.x).argmax(1))


def test_the_calibrated_statistic_is_the_forgetting_scores():
    from unlearning.forgetting_score import logit_confidence
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(101, 10, generator=generator, dtype=torch.float64) * 5  # [N, K]
    labels = torch.randint(10, (101,), generator=generator)
    expected = float(logit_confidence(logits[None], labels)[0].median())
    assert shrink_refit.median_confidence(logits, labels) == pytest.approx(expected, abs=1e-12)


def test_the_calibration_can_read_an_evenly_spaced_share_of_the_retain_images(tiny_exp, tiny_models):
    """calibrate_samples: both medians are taken on that many retain images, evenly spaced (each class keeps its
    share), and the calibrated median on them is the original's there; null reads every image. The training is the
    same either way: only the head's scale differs."""
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["shrink_refit"]
    retain = splits.retain
    assert params.calibrate
    x, y = shrink_refit.calibration_images(retain.x, retain.y, None)
    assert x is retain.x and y is retain.y
    samples = len(retain.y) // 4
    x, y = shrink_refit.calibration_images(retain.x, retain.y, samples)
    assert len(y) == samples
    rows = [i for i in range(len(retain.y)) if any(torch.equal(retain.x[i], image) for image in x[:3])]
    assert rows[0] == 0 and rows[1] > 2  # spread over the set, not its head
    whole, share = (torch.bincount(labels, minlength=splits.num_slots) / len(labels) for labels in (retain.y, y))
    assert torch.allclose(whole, share, atol=0.05)

    def calibrated(n):
        return shrink_refit.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits,
                                    dataclasses.replace(params, calibrate_samples=n), rng.generator(0, "t"))

    def median(model) -> float:
        return shrink_refit.median_confidence(predict(model, x).double(), y)

    sub, every = calibrated(samples), calibrated(None)
    assert abs(median(sub) - median(tiny_models["pretrained"])) < 1e-3
    assert not torch.equal(sub.head.weight, every.head.weight)
    for name, value in sub.state_dict().items():
        if not name.startswith("head."):
            assert torch.equal(value, every.state_dict()[name]), name
    with pytest.raises(Exception, match="calibrate_samples"):
        dataclasses.replace(params, calibrate_samples=0)


def test_the_refits_last_steps_are_averaged_into_the_weights(tiny_exp, tiny_models):
    """average_tail: the weights returned (uncalibrated) are the mean of the refit's last round(tail x steps)
    iterates, not the last one; tail 0 returns the last one, as a plain fit does."""
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["shrink_refit"], calibrate=False, epochs=2)
    assert 0 < params.average_tail < 1
    target = splits.target
    steps = params.epochs * -(-len(target.y) // params.batch_size)
    averaged = round(params.average_tail * steps)
    assert 2 <= averaged < steps

    # the same start and the same fit, each step's weights kept
    generator = rng.generator(0, "t")
    model = copy.deepcopy(tiny_models["pretrained"])
    fresh = copy.deepcopy(model)
    fresh_init(fresh, generator)
    with torch.no_grad():
        for mine, new in zip((*model.parameters(), *model.buffers()), (*fresh.parameters(), *fresh.buffers())):
            if mine.is_floating_point():
                mine.lerp_(new, params.reset)
    path = []
    fit(model, target.x, target.y, params, generator,
        on_step=lambda step: path.append({k: v.clone() for k, v in model.state_dict().items()}))
    assert len(path) == steps
    tail_mean = {k: torch.stack([w[k] for w in path[-averaged:]]).mean(0) for k in path[-1]}

    result = run(tiny_models["pretrained"], splits, params)
    for name, value in result.items():
        assert torch.allclose(value, tail_mean[name], atol=1e-6), name
    assert not torch.allclose(result["head.weight"], path[-1]["head.weight"], atol=1e-4)
    last = run(tiny_models["pretrained"], splits, dataclasses.replace(params, average_tail=0.0))
    assert all(torch.equal(v, path[-1][k]) for k, v in last.items())
    with pytest.raises(Exception, match="average_tail"):
        dataclasses.replace(params, average_tail=1.5)
