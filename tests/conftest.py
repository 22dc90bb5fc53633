"""Shared fixtures: the tiny params file, and a tiny experiment (scikit-learn digits) whose pretrained and
oracle models are trained once per test session."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
import yaml

from unlearning import config, data, rng
from unlearning.experiment import Experiment
from unlearning.train import fit

TINY_PARAMS = Path(__file__).with_name("tiny_params.yaml")

# One intra-op thread, as in the stages: tiny models lose more to thread synchronisation than they gain.
torch.set_num_threads(1)


@pytest.fixture
def tiny_raw() -> dict:
    """The tiny params as a plain dict, fresh for each test so that tests can edit it."""
    return yaml.safe_load(TINY_PARAMS.read_text())


@pytest.fixture(scope="session")
def tiny_cfg() -> config.Config:
    return config.load(TINY_PARAMS)


@pytest.fixture(scope="session")
def tiny_exp(tiny_cfg, tmp_path_factory) -> Experiment:
    path = tmp_path_factory.mktemp("data") / "digits.pt"
    torch.save(data.build(tiny_cfg.data.name, tiny_cfg.data.test_fraction), path)
    return Experiment.open(tiny_cfg, path)


@pytest.fixture(scope="session")
def tiny_models(tiny_exp) -> dict:
    """{'pretrained': model, 'oracle': model} for seed 0, trained exactly as the pipeline trains them."""
    cfg, splits = tiny_exp.cfg, tiny_exp.splits(0)
    out = {}
    for which, part in (("pretrained", splits.pretrain), ("oracle", splits.target)):
        out[which] = fit(tiny_exp.new_model(0), part.x, part.y, cfg.train, rng.generator(0, which))
    return out


@pytest.fixture
def pretrained(tiny_models):
    """A fresh copy of the tiny pretrained model that a test may modify."""
    return copy.deepcopy(tiny_models["pretrained"])
