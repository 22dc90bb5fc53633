"""fisher_forgetting: noise variance alpha / Fisher with the reference's clamps, row means and head factor; the
forgotten slot's head row zeroed; weights the retain set pins down move less."""
from __future__ import annotations

import copy

import torch

from unlearning.core import rng
from unlearning.methods import fisher_forgetting


def test_noise_variance_is_the_references_rule_on_hand_numbers():
    fisher = {"w": torch.tensor([[1.0, 0.01], [1e-9, 100.0]]), "b": torch.tensor([0.5, 2.0]),
              "head.w": torch.tensor([[1e-9, 1e-9]])}
    var = fisher_forgetting.noise_variance(fisher, {"head.w"}, alpha=0.1)
    # 1/F clamped at 1e3 (1e2 for the head), times alpha, averaged over each row; x10 for 1-d and head
    row0, row1 = 0.1 * (1.0 + 100.0) / 2, 0.1 * (1e3 + 0.01) / 2
    torch.testing.assert_close(var["w"], torch.tensor([[row0, row0], [row1, row1]]))
    torch.testing.assert_close(var["b"], torch.tensor([0.1 * 2.0 * 10, 0.1 * 0.5 * 10]))
    torch.testing.assert_close(var["head.w"], torch.tensor([[0.1 * 1e2 * 10, 0.1 * 1e2 * 10]]))


def test_noise_follows_the_inverse_retain_fisher_and_zeroes_the_forgotten_row(tiny_exp, tiny_models):
    original = tiny_models["pretrained"]
    splits = tiny_exp.splits(0)
    params = tiny_exp.cfg.methods["fisher_forgetting"]
    model = fisher_forgetting.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "ff"))
    # the retain set's empirical Fisher of the first layer, by per-sample loops (independent of the method)
    layer = original.body[1]
    f = torch.zeros_like(layer.weight)
    probe = copy.deepcopy(original)
    for n in range(0, len(splits.retain), 7):
        probe.zero_grad()
        torch.nn.functional.cross_entropy(probe(splits.retain.x[n:n + 1]), splits.retain.y[n:n + 1]).backward()
        f += probe.body[1].weight.grad.pow(2)
    f /= len(range(0, len(splits.retain), 7))
    inverse = (1 / (f + 1e-8)).clamp(max=1e3).mean(1)  # [out]: the rows' mean inverse Fisher
    moved = (model.body[1].weight - layer.weight).pow(2).mean(1)  # [out]
    loose, pinned = inverse >= inverse.quantile(0.75), inverse <= inverse.quantile(0.25)
    assert moved[loose].mean() > 1.5 * moved[pinned].mean()  # loose rows (small Fisher) get the larger noise
    # replace_class: no retained image has the forgotten slot, so its head row is ~0 (variance 1e-4)
    assert model.head.weight[splits.forget_slot].abs().max() < 0.06
    assert original.head.weight[splits.forget_slot].abs().max() > 0.1
