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


def test_gamma_decays_linearly_from_twice_gamma_to_zero_with_mean_gamma():
    gammas = torch.tensor([l1_sparse.gamma_at(t, 100, 0.5) for t in range(101)])
    assert gammas[0] == 1.0 and gammas[-1] == 0.0
    assert (gammas[1:] < gammas[:-1]).all()
    assert gammas[:-1].mean().item() == pytest.approx(0.5, abs=0.01)


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
