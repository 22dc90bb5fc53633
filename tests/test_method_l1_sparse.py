"""l1_sparse: SGD as the paper (checked against torch.optim.SGD), the decaying gamma, the sparsity it reports."""
from __future__ import annotations

import copy
import dataclasses
import json

import pytest
import torch
from torch import nn

from unlearning.core import rng
from unlearning.core.config import SGDConfig
from unlearning.core.train import fit
from unlearning.methods import METHODS, l1_sparse


def test_fit_with_momentum_steps_as_torch_sgd():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    x, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    ours = fit(copy.deepcopy(model), x, y, SGDConfig(epochs=2, batch_size=8, lr=0.05, momentum=0.9),
               torch.Generator().manual_seed(1))
    theirs, generator = copy.deepcopy(model), torch.Generator().manual_seed(1)
    optimiser = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    for _ in range(2):  # the shared loop's batching: one seeded permutation per epoch
        order = torch.randperm(40, generator=generator)
        for start in range(0, 40, 8):
            idx = order[start:start + 8]
            optimiser.zero_grad()
            nn.functional.cross_entropy(theirs(x[idx]), y[idx]).backward()
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_gamma_is_the_references_per_epoch_decay():
    """gamma (1 - e / E) for epoch e of E: the reference code's alpha * (1 - epoch / unlearn_epochs)."""
    assert [l1_sparse.gamma_at(e, 4, 0.5) for e in range(4)] == [0.5, 0.375, 0.25, 0.125]


def test_every_step_of_an_epoch_uses_that_epochs_gamma(tiny_exp, pretrained, monkeypatch):
    params = dataclasses.replace(tiny_exp.cfg.methods["l1_sparse"], epochs=3)
    target = tiny_exp.splits(0).target
    per_epoch = -(-len(target) // params.batch_size)
    weights = []
    real_norm = l1_sparse.l1_norm

    def spy(model):
        norm = real_norm(model)
        return _Recorder(norm, weights)

    monkeypatch.setattr(l1_sparse, "l1_norm", spy)
    l1_sparse.unlearn(pretrained, tiny_exp.splits(0), params, rng.generator(0, "l1"))
    want = [params.l1 * (1 - e / 3) for e in range(3) for _ in range(per_epoch)]
    assert weights == pytest.approx(want)


class _Recorder:
    """Stands in for ||theta||_1 and records the scalar it is multiplied by (gamma of that step)."""

    def __init__(self, norm, log):
        self.norm, self.log = norm, log

    def __rmul__(self, gamma):
        self.log.append(float(gamma))
        return gamma * self.norm


def test_l1_sparse_ends_with_more_near_zero_weights_than_finetune(tiny_exp, tiny_models):
    params = tiny_exp.cfg.methods["l1_sparse"]
    splits = tiny_exp.splits(0)
    finetune = METHODS["finetune"].unlearn(copy.deepcopy(tiny_models["pretrained"]), splits,
                                           tiny_exp.cfg.methods["finetune"], rng.generator(0, "zoo", "ft"))
    # the same SGD run with a negligible gamma: the difference is the L1 term alone
    unpenalised = l1_sparse.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits,
                                    dataclasses.replace(params, l1=1e-12), rng.generator(0, "zoo", "l1"))
    sparse = l1_sparse.unlearn(copy.deepcopy(tiny_models["pretrained"]), splits, params,
                               rng.generator(0, "zoo", "l1"))
    share = {name: l1_sparse.near_zero_share(m)
             for name, m in (("finetune", finetune), ("gamma~0", unpenalised), ("l1", sparse))}
    assert share["l1"] > share["finetune"] + 0.05, share
    assert share["l1"] > share["gamma~0"] + 0.05, share


def test_report_counts_the_near_zero_weight_entries():
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 5e-4, -2e-3, 1.0], [-1e-4, 0.5, 0.3, -0.2]]))
        model.bias.zero_()  # biases are not counted
    assert l1_sparse.report(model) == {"near_zero_share": 3 / 8}


def test_unlearn_stage_records_the_near_zero_share_of_each_saved_model(tmp_path, tiny_raw, tiny_exp):
    """The stage puts report(model) into runs/l1_sparse.json, one entry per chain, of the weights it saved."""
    from test_bad_input import run_stage  # the stage as dvc runs it, in a scratch workspace
    for stage in ("download", "pretrain", "unlearn"):
        result = run_stage(tmp_path, tiny_raw, stage, *(["l1_sparse"] if stage == "unlearn" else []))
        assert result.returncode == 0, result.stderr
    runs = json.loads((tmp_path / "runs" / "l1_sparse.json").read_text())
    assert sorted(runs) == [f"seed{seed}" for seed in range(tiny_raw["audit"]["chains"])]
    for key, run in runs.items():
        model = tiny_exp.new_model(int(key.removeprefix("seed")))
        model.load_state_dict(torch.load(tmp_path / "models" / "unlearned" / "l1_sparse" / f"{key}.pt"))
        assert run["near_zero_share"] == l1_sparse.near_zero_share(model) > 0.05, key
