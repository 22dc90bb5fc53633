"""The Selective Amnesia scenario on tiny data (scikit-learn 8x8 digits): the cVAE learns, the Fisher is right,
forgetting works, bad params stop a stage, and the whole DVC pipeline of scenarios/amnesia runs."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from unlearning.core import data, rng
from unlearning.amnesia import baselines, classifier, cvae, evaluation, selective_amnesia
from unlearning.amnesia.config import load, parse
from unlearning.amnesia.elbo import draw_eps, mean_negative_elbo, negative_elbo, train_cvae
from unlearning.amnesia.fisher import diagonal_fisher, generate
from unlearning.amnesia.methods import Task
from unlearning.core.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).with_name("amnesia_tiny_params.yaml")


@pytest.fixture(scope="module")
def cfg():
    return load(TINY)


@pytest.fixture(scope="module")
def digits(cfg):
    tensors = data.build(cfg.data.name, cfg.data.test_fraction)
    return {k: v.float() / 255.0 if k.endswith("_x") else v for k, v in tensors.items()}  # x in [0, 1]


@pytest.fixture(scope="module")
def original(cfg, digits):
    model = cvae.build(cfg.cvae, (1, 8, 8), 0)
    return train_cvae(model, digits["train_x"], digits["train_y"], cfg.cvae, rng.generator(0, "test", "cvae"))


@pytest.fixture(scope="module")
def judge(cfg, digits):
    return classifier.train(cfg.classifier, digits["train_x"], digits["train_y"])


def scores(cfg, judge, model) -> dict[str, float]:
    return evaluation.judge(judge, model, cfg.forget, cfg.retained, 50, rng.generator(0, "test", "judge"))


def test_training_lowers_the_negative_elbo(cfg, digits, original):
    fresh = cvae.build(cfg.cvae, (1, 8, 8), 0)
    x, y = digits["test_x"], digits["test_y"]
    before = mean_negative_elbo(fresh, x, y, rng.generator(0, "e"))
    after = mean_negative_elbo(original, x, y, rng.generator(0, "e"))
    assert after < before - 10, (before, after)  # nats per 8x8 image, on held-out images


def test_fisher_is_the_mean_of_squared_per_sample_gradients(original):
    before = copy.deepcopy(original.state_dict())
    fisher = diagonal_fisher(original, 6, rng.generator(0, "fisher"))
    params = dict(original.named_parameters())
    assert fisher.keys() == params.keys()
    for name, value in fisher.items():
        assert value.shape == params[name].shape and (value >= 0).all(), name
    assert sum(v.sum() for v in fisher.values()) > 0
    # the same draws, one sample at a time with plain autograd
    gen = rng.generator(0, "fisher")
    x, y = generate(original, 6, gen, "cpu")
    eps = draw_eps(original, 6, gen, "cpu")
    slow = {n: torch.zeros_like(p) for n, p in params.items()}
    for i in range(6):
        grads = torch.autograd.grad(negative_elbo(original, x[i:i + 1], y[i:i + 1], eps[i:i + 1]).sum(),
                                    list(params.values()))
        for n, g in zip(params, grads):
            slow[n] += g.pow(2) / 6
    for n in params:
        torch.testing.assert_close(fisher[n], slow[n], rtol=1e-3, atol=1e-6)
    for n, v in original.state_dict().items():
        assert torch.equal(v, before[n]), n


def test_selective_amnesia_forgets_the_label_and_keeps_the_others(cfg, judge, original):
    before = scores(cfg, judge, original)
    # no real image of the forgotten label: Selective Amnesia must not need one
    task = Task(cfg.forget, cfg.retained, forget_x=torch.empty(0, 1, 8, 8))
    model = selective_amnesia.unlearn(copy.deepcopy(original), task, cfg.methods["selective_amnesia"],
                                      rng.generator(0, "test", "sa"))
    after = scores(cfg, judge, model)
    assert before["forget_prob"] > 0.8, before
    assert after["forget_entropy"] > before["forget_entropy"] + 1.0, (before, after)
    assert after["forget_prob"] < 0.2, after
    assert after["retained_acc"] > 0.85, after


def test_gradient_ascent_lowers_the_forgotten_label(cfg, digits, judge, original):
    forget_x = digits["train_x"][digits["train_y"] == cfg.forget]
    task = Task(cfg.forget, cfg.retained, forget_x=forget_x)
    model = baselines.unlearn(copy.deepcopy(original), task, cfg.methods["gradient_ascent"],
                              rng.generator(0, "test", "ga"))
    after = scores(cfg, judge, model)
    assert after["forget_prob"] < 0.3 and after["retained_acc"] > 0.85, after


def test_relearn_trains_a_copy(cfg, digits, original):
    forget_x = digits["train_x"][digits["train_y"] == cfg.forget]
    attacked = evaluation.relearn(original, forget_x, cfg.forget, 4, 3, 1e-3, rng.generator(0, "r"))
    changed = [not torch.equal(a, b) for a, b in zip(attacked.parameters(), original.parameters())]
    assert any(changed)
    assert attacked is not original


@pytest.mark.parametrize("path, value, key", [
    (("forget",), 12, "forget"),
    (("cvae", "latent"), 0, "cvae.latent"),
    (("methods", "selective_amnesia", "ewc_weight"), -1.0, "methods.selective_amnesia.ewc_weight"),
    (("methods", "selective_amnesia", "lamda"), 1.0, "methods.selective_amnesia.lamda"),
    (("methods", "forget_everything"), {}, "methods.forget_everything"),
    (("relearn", "samples"), [], "relearn.samples"),
])
def test_bad_params_name_the_key(path, value, key):
    raw = yaml.safe_load(TINY.read_text())
    block = raw
    for part in path[:-1]:
        block = block[part]
    block[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        parse(raw)
    assert err.value.key == key


def test_missing_key_is_named():
    raw = yaml.safe_load(TINY.read_text())
    del raw["classifier"]["seed"]
    with pytest.raises(ConfigError, match="classifier.seed"):
        parse(raw)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_stage_with_a_bad_key_exits_2_and_writes_nothing(tmp_path):
    raw = yaml.safe_load(TINY.read_text())
    raw["cvae"]["epochs"] = -3
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    done = subprocess.run([sys.executable, "-m", "stages.amnesia.train", "original"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cvae.epochs" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_dvc_repro_of_the_amnesia_pipeline(tmp_path):
    """The scenario folder, the library and tiny params in a fresh git + DVC repository."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    scenario = tmp_path / "scenarios" / "amnesia"
    shutil.copytree(ROOT / "scenarios" / "amnesia", scenario,
                    ignore=shutil.ignore_patterns("data", "models", "metrics", "plots", "dvc.lock"))
    shutil.copy(TINY, scenario / "params.yaml")
    env = {**_env(), "PYTHONPATH": str(tmp_path / "src")}

    def run(*cmd, cwd=tmp_path):
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    run("git", "init", "-q")
    run(sys.executable, "-m", "dvc", "init", "-q")
    run("git", "add", "-A")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    run(sys.executable, "-m", "dvc", "repro", "-q", cwd=scenario)
    summary = json.loads((scenario / "metrics" / "summary.json").read_text())
    assert set(summary) == {"original", "oracle", "selective_amnesia", "gradient_ascent", "judge"}
    for name in ("original", "oracle", "selective_amnesia", "gradient_ascent"):
        for metric in ("forget_entropy", "forget_prob", "retained_acc", "relearn_k4_forget_prob"):
            assert summary[name][metric] is not None, (name, metric)
    assert summary["selective_amnesia"]["forget_entropy"] > summary["original"]["forget_entropy"]
    assert "## Targets for selective_amnesia" in (scenario / "metrics" / "report.md").read_text()
    pngs = {p.name for p in (scenario / "plots").glob("*.png")}
    assert {"samples.png", "samples_original.png", "samples_selective_amnesia.png"} <= pngs
    assert "up to date" in run(sys.executable, "-m", "dvc", "status", cwd=scenario)
