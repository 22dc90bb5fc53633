"""Shared fixtures: the tiny params (params.yaml with tests/tiny_overlay.yaml), a tiny experiment (scikit-learn
digits) whose pretrained and oracle models are trained once per test session, and one reproduced and committed
tiny DVC project (`tiny_run`)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from dvc_project import make_run
from tiny_params import TINY_PARAMS, tiny_raw as tiny_params_raw

from unlearning.core import config, data, rng
from unlearning.core.experiment import Experiment
from unlearning.core.train import fit


# One intra-op thread, as in the stages: tiny models lose more to thread synchronisation than they gain.
torch.set_num_threads(1)


@pytest.fixture
def tiny_raw() -> dict:
    """The tiny params as a plain dict, fresh for each test so that tests can edit it."""
    return tiny_params_raw()


@pytest.fixture(scope="session")
def tiny_cfg() -> config.Config:
    return config.load(TINY_PARAMS)


@pytest.fixture(scope="session")
def tiny_exp(tiny_cfg, tmp_path_factory) -> Experiment:
    path = tmp_path_factory.mktemp("data") / "digits.pt"
    torch.save(data.build(tiny_cfg.data.name, tiny_cfg.data.test_fraction), path)
    return Experiment.open(tiny_cfg, path, test=True)  # the tests are evaluation code too


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


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A user's clone after `dvc repro` and `git commit` (three methods), for the DVC usage and remote tests; a
    test that changes its workspace puts it back."""
    return make_run(tmp_path_factory.mktemp("run") / "project", ("original", "finetune", "head_mask"))
