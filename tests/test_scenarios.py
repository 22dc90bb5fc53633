"""Class forgetting and random-subset forgetting through the same splits, methods and attacks."""
from __future__ import annotations

import copy

import pytest
import torch
from tiny_params import tiny_raw

from unlearning.core import config, rng
from unlearning.attacks.relearn import relearn_curve
from unlearning.core.experiment import Experiment
from unlearning.methods import METHODS
from unlearning.metrics import accuracies
from unlearning.core.train import fit

SCENARIOS = {
    "forget_class": {"kind": "forget_class", "pretrain_classes": list(range(10)), "forget": 9, "learn": None,
                     "forget_fraction": 1.0},
    "forget_subset": {"kind": "forget_subset", "pretrain_classes": list(range(10)), "forget": 3, "learn": None,
                      "forget_fraction": 0.75},
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def scenario_exp(request, tiny_exp):
    """(experiment, pretrained model, oracle model) of a scenario on the tiny digits, seed 0."""
    raw = yaml_raw(tiny_exp)
    raw["scenario"] = SCENARIOS[request.param]
    exp = Experiment(config.parse(raw), tiny_exp.device, tiny_exp.tensors)
    splits = exp.splits(0)
    models = [fit(exp.new_model(0), part.x, part.y, exp.cfg.train, rng.generator(0, which))
              for which, part in (("pretrained", splits.pretrain), ("oracle", splits.target))]
    return exp, *models


def yaml_raw(exp) -> dict:
    return tiny_raw()


def test_forget_class_splits_and_oracle(tiny_exp):
    raw = yaml_raw(tiny_exp)
    raw["scenario"] = SCENARIOS["forget_class"]
    exp = Experiment(config.parse(raw), tiny_exp.device, tiny_exp.tensors)
    train, test = exp.splits(0), exp.splits(0, "test")
    assert len(train.new) == 0 and train.num_slots == 10
    assert (train.forget.y == 9).all() and not (train.retain.y == 9).any()
    assert len(test.forget) == int((tiny_exp.tensors["test_y"] == 9).sum())


def test_forget_subset_draws_one_fixed_share_of_one_class_for_every_chain(tiny_exp):
    raw = yaml_raw(tiny_exp)
    raw["scenario"] = SCENARIOS["forget_subset"]
    exp = Experiment(config.parse(raw), tiny_exp.device, tiny_exp.tensors)
    threes = int((tiny_exp.tensors["train_y"] == 3).sum())
    a, other_chain = exp.splits(0), Experiment(exp.cfg, exp.device, exp.tensors).splits(1)
    assert len(a.forget) == round(0.75 * threes) and (a.forget.y == 3).all()
    assert (a.retain.y == 3).sum() == threes - len(a.forget)  # the rest of the class is retained
    # the forget request is the same in every chain (the per-example score compares chains on each image)
    assert torch.equal(a.forget.x, other_chain.forget.x)
    assert len(exp.splits(0, "test").forget) == 0  # no test image is forgotten ...
    assert torch.equal(exp.evaluation(0).forget.x, a.forget.x)  # ... models are scored on the forgotten ones


def test_oracle_targets(scenario_exp):
    exp, pretrained, oracle = scenario_exp
    evaluation = exp.evaluation(0)
    oracle_acc, original_acc = accuracies(oracle, evaluation), accuracies(pretrained, evaluation)
    if exp.cfg.scenario.kind == "forget_class":
        assert oracle_acc["forget_acc"] < 0.1  # the slot is never trained
    else:
        assert oracle_acc["forget_acc"] > 0.7  # unseen 3s are still recognised: the target is not zero
    assert original_acc["forget_acc"] > 0.9


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_runs_in_both_scenarios(scenario_exp, name):
    exp, pretrained, _ = scenario_exp
    model = METHODS[name].unlearn(copy.deepcopy(pretrained), exp.splits(0), exp.cfg.methods[name],
                                  rng.generator(0, "test", name))
    before, after = accuracies(pretrained, exp.evaluation(0)), accuracies(model, exp.evaluation(0))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert after["retain_acc"] > 0.7, after
    if exp.cfg.scenario.kind == "forget_class" and name != "original":
        assert after["forget_acc"] < before["forget_acc"] - 0.3, after


def test_relearn_runs_in_both_scenarios(scenario_exp):
    exp, _, oracle = scenario_exp
    train = exp.splits(0)
    forget_test = None if exp.cfg.scenario.kind == "forget_subset" else exp.splits(0, "test").forget
    curve = relearn_curve(copy.deepcopy(oracle), train.forget, train.target, forget_test, 8, exp.cfg.relearn,
                          rng.generator(0, "relearn"))
    assert [p["step"] for p in curve][:2] == [0, exp.cfg.relearn.eval_every]
    assert curve[-1]["step"] == exp.cfg.relearn.steps


@pytest.mark.parametrize("edit,key", [
    ({"kind": "forget_subset", "learn": None, "forget_fraction": 1.0}, "scenario.forget_fraction"),
    ({"kind": "forget_class", "learn": 3, "forget_fraction": 1.0}, "scenario.learn"),
    ({"kind": "forget_class", "learn": None, "forget_fraction": 0.5}, "scenario.forget_fraction"),
    ({"kind": "replace_class", "learn": None, "forget_fraction": 1.0}, "scenario.learn"),
])
def test_inconsistent_scenarios_name_the_key(tiny_raw, edit, key):
    tiny_raw["scenario"].update(edit)
    with pytest.raises(config.ConfigError) as err:
        config.parse(tiny_raw)
    assert err.value.key == key
