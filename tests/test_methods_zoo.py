"""One test per zoo method, on the mechanism that defines it (test_methods.py checks the outcome of all)."""
from __future__ import annotations

import copy
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from unlearning import config, rng
from unlearning.methods import METHODS, boundary_shrink, ewc, fisher, mi_regularizer, saliency_freeze, scrub, ssd
from unlearning.train import predict


def run(name, tiny_exp, model, **overrides):
    params = dataclasses.replace(tiny_exp.cfg.methods[name], **overrides)
    return METHODS[name].unlearn(model, tiny_exp.splits(0), params, rng.generator(0, "zoo", name))


def flat(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_mutual_information_is_zero_for_identical_groups_and_ln2_for_separable():
    probs = torch.rand(6, 4, generator=torch.Generator().manual_seed(0)).softmax(1)
    same = torch.cat([probs, probs])  # both groups hold the same predictions
    z = torch.tensor([False] * 6 + [True] * 6)
    assert mi_regularizer.mutual_information(same, z).item() == pytest.approx(0.0, abs=1e-6)
    apart = torch.cat([F.one_hot(torch.zeros(6, dtype=torch.long), 4), F.one_hot(torch.ones(6, dtype=torch.long), 4)])
    assert mi_regularizer.mutual_information(apart.float(), z).item() == pytest.approx(math.log(2), rel=1e-4)
    assert mi_regularizer.mutual_information(probs, torch.zeros(6, dtype=torch.bool)).item() == 0.0


def test_fisher_fast_path_matches_per_sample_gradients_and_is_non_negative(tiny_exp, pretrained):
    part = tiny_exp.splits(0).retain
    x, y = part.x[:40], part.y[:40]
    fast = fisher.diagonal_fisher(pretrained, x, y, batch_size=16)
    assert all(p.grad is None for p in pretrained.parameters())  # the model is left as it was
    slow = {name: value / len(y) for name, value in fisher._loop_sums(pretrained, x, y).items()}
    for name, value in fast.items():
        assert (value >= 0).all(), name
        torch.testing.assert_close(value, slow[name], rtol=1e-4, atol=1e-10)


def test_fisher_falls_back_for_layers_other_than_linear():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    x, y = torch.randn(5, 1, 8, 8), torch.tensor([0, 1, 2, 0, 1])
    values = fisher.diagonal_fisher(model, x, y)
    assert set(values) == {n for n, _ in model.named_parameters()}
    assert values["0.weight"].sum() > 0


def test_ewc_anchor_pulls_weights_towards_the_pretrained_ones(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    retain = tiny_exp.splits(0).retain
    weights = ewc.anchor_weights(fisher.diagonal_fisher(copy.deepcopy(original), retain.x, retain.y))
    reference = {n: p.detach().clone() for n, p in original.named_parameters()}
    drift = {}
    for anchor in (1e-3, 1e4):
        model = run("ewc", tiny_exp, copy.deepcopy(original), anchor=anchor)
        drift[anchor] = ewc.anchor_penalty(model, weights, reference).item()
    assert ewc.anchor_penalty(original, weights, reference).item() == 0.0
    assert drift[1e4] < 0.2 * drift[1e-3], drift


def test_neggrad_plus_ascends_the_forget_loss(tiny_exp, tiny_models, pretrained):
    forget = tiny_exp.splits(0).forget

    def forget_loss(model):
        return F.cross_entropy(predict(model, forget.x), forget.y).item()

    model = run("neggrad_plus", tiny_exp, pretrained)
    assert forget_loss(model) > forget_loss(tiny_models["pretrained"]) + 1.0
    with pytest.raises(config.ConfigError, match="alpha"):
        dataclasses.replace(tiny_exp.cfg.methods["neggrad_plus"], alpha=1.0)


def test_l1_sparse_makes_the_weights_sparser_than_plain_finetuning(tiny_exp, tiny_models):
    params = tiny_exp.cfg.methods["l1_sparse"]
    plain = METHODS["finetune"].unlearn(
        copy.deepcopy(tiny_models["pretrained"]), tiny_exp.splits(0),
        METHODS["finetune"].Params(params.epochs, params.batch_size, params.lr), rng.generator(0, "zoo", "l1"))
    sparse = run("l1_sparse", tiny_exp, copy.deepcopy(tiny_models["pretrained"]))
    assert flat(sparse).abs().sum() < 0.8 * flat(plain).abs().sum()
    near_zero = {k: (flat(m).abs() < 1e-3).float().mean().item() for k, m in (("plain", plain), ("l1", sparse))}
    assert near_zero["l1"] > near_zero["plain"] + 0.05, near_zero


def test_salun_changes_only_salient_weights(tiny_exp, tiny_models, pretrained):
    params = tiny_exp.cfg.methods["salun"]
    forget = tiny_exp.splits(0).forget
    masks = saliency_freeze.saliency_masks(copy.deepcopy(tiny_models["pretrained"]), forget.x, forget.y,
                                           params.fraction)
    model = run("salun", tiny_exp, pretrained)
    before = dict(tiny_models["pretrained"].named_parameters())
    changed = 0
    for name, p in model.named_parameters():
        moved = p.detach() != before[name].detach()
        assert not (moved & ~masks[name]).any(), name  # nothing outside the mask moved
        changed += moved.sum().item()
    assert 0 < changed <= params.fraction * flat(model).numel() + 1


def test_scrub_leaves_the_teacher_unchanged_and_moves_forget_predictions_away(tiny_exp, tiny_models, pretrained):
    teacher = copy.deepcopy(tiny_models["pretrained"])
    splits = tiny_exp.splits(0)
    student = scrub.scrub(pretrained, teacher, splits, tiny_exp.cfg.methods["scrub"], rng.generator(0, "zoo"))
    for name, value in tiny_models["pretrained"].state_dict().items():
        assert torch.equal(teacher.state_dict()[name], value), name
    assert not torch.equal(flat(student), flat(teacher))

    def kl(part):
        return scrub.distill_kl(predict(student, part.x), predict(teacher, part.x), 1.0).mean().item()

    assert kl(splits.forget) > 5 * kl(splits.retain)


def test_ssd_dampens_only_the_selected_parameters(tiny_exp, tiny_models, pretrained):
    params = tiny_exp.cfg.methods["ssd"]
    splits = tiny_exp.splits(0)
    original = tiny_models["pretrained"]
    factors = ssd.dampening_factors(
        fisher.diagonal_fisher(copy.deepcopy(original), splits.forget.x, splits.forget.y),
        fisher.diagonal_fisher(copy.deepcopy(original), splits.pretrain.x, splits.pretrain.y), params)
    model = run("ssd", tiny_exp, pretrained)
    before = dict(original.named_parameters())
    dampened = 0
    for name, p in model.named_parameters():
        factor, old, new = factors[name], before[name].detach(), p.detach()
        assert ((factor > 0) & (factor <= 1)).all(), name
        keep = factor == 1
        assert torch.equal(new[keep], old[keep]), name  # outside the dampened set: bit-identical
        torch.testing.assert_close(new[~keep], old[~keep] * factor[~keep])
        assert (new[~keep].abs() <= old[~keep].abs()).all(), name
        dampened += (~keep).sum().item()
    assert 0 < dampened < 0.5 * flat(model).numel()


def test_boundary_shrink_labels_are_the_nearest_other_class(tiny_exp, pretrained):
    forget = tiny_exp.splits(0).forget
    clean = predict(pretrained, forget.x)
    runner_up = clean.masked_fill(F.one_hot(forget.y, clean.shape[1]).bool(), float("-inf")).argmax(1)
    # a zero step is no attack: the label is the clean runner-up
    assert torch.equal(boundary_shrink.boundary_labels(pretrained, forget.x, forget.y, 0.0), runner_up)
    labels = boundary_shrink.boundary_labels(pretrained, forget.x, forget.y, 0.5)
    assert (labels != forget.y).all()
    # after the FGSM step the label is still a near class: among the clean top-3 other slots for most images
    top3 = clean.masked_fill(F.one_hot(forget.y, clean.shape[1]).bool(), float("-inf")).topk(3, dim=1).indices
    assert (top3 == labels[:, None]).any(1).float().mean() > 0.8


@pytest.mark.parametrize("method, key, value", [
    ("mi_regularizer", "gamma", 0.0), ("ewc", "anchor", -1.0), ("ewc", "fisher_samples", 0), ("neggrad_plus", "alpha", 1.5),
    ("l1_sparse", "l1", 0.0), ("salun", "fraction", 1.5), ("scrub", "max_epochs", 99),
    ("ssd", "selection", 0.0), ("boundary_shrink", "step", -0.1),
])
def test_zoo_params_reject_bad_values_naming_the_key(tiny_raw, method, key, value):
    tiny_raw["methods"][method][key] = value
    with pytest.raises(config.ConfigError) as err:
        config.parse(tiny_raw)
    assert err.value.key == f"methods.{method}.{key}"
