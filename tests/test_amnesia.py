"""The Selective Amnesia scenario on tiny data (scikit-learn 8x8 digits): the cVAE learns, the Fisher is right,
forgetting works, bad params stop a stage, and the whole DVC pipeline of scenarios/amnesia runs over all ten
digits. The tiny settings are an overlay of scenarios/amnesia/params.yaml (tests/amnesia_tiny_overlay.yaml).
The judge's calibration: tests/test_amnesia_judge.py; intervals and verdicts: tests/test_amnesia_intervals.py."""
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

from unlearning import overlay
from unlearning.amnesia import baselines, classifier, cvae, evaluation, selective_amnesia
from unlearning.amnesia.config import parse
from unlearning.amnesia.elbo import draw_eps, mean_negative_elbo, negative_elbo, train_cvae
from unlearning.amnesia.fisher import diagonal_fisher, generate
from unlearning.amnesia.methods import Task
from unlearning.core import data, rng
from unlearning.core.config import ConfigError, read_yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "amnesia"
OVERLAY = Path(__file__).with_name("amnesia_tiny_overlay.yaml")


def tiny_raw() -> dict:
    """scenarios/amnesia/params.yaml with the tiny overlay applied: a fresh dict each call."""
    return overlay.merged(read_yaml(SCENARIO / "params.yaml"), overlay.read(OVERLAY))


@pytest.fixture(scope="module")
def cfg():
    return parse(tiny_raw())


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


def scores(judge, model, forget: int = 0) -> dict[str, float]:
    return evaluation.judge(judge, model, forget, 50, rng.generator(0, "test", "judge"))


def test_the_tiny_settings_are_an_overlay_not_a_copy():
    lines = [line for line in OVERLAY.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) <= 15, "the overlay holds only what the tests change"
    params = yaml.safe_load((SCENARIO / "params.yaml").read_text())
    assert tiny_raw()["methods"]["selective_amnesia"]["ewc_weight"] == params["methods"]["selective_amnesia"][
        "ewc_weight"]  # a key the overlay leaves alone comes from params.yaml
    with pytest.raises(ConfigError, match="cvae.latnet"):  # a key params.yaml does not have is an error
        overlay.merged(params, {"cvae": {"latnet": 4}})


def test_training_lowers_the_negative_elbo(cfg, digits, original):
    fresh = cvae.build(cfg.cvae, (1, 8, 8), 0)
    x, y = digits["test_x"], digits["test_y"]
    before = mean_negative_elbo(fresh, x, y, rng.generator(0, "e"))
    after = mean_negative_elbo(original, x, y, rng.generator(0, "e"))
    assert after < before - 10, (before, after)  # nats per 8x8 image, on held-out images


def test_an_oracle_starts_from_an_independent_initialisation(cfg):
    a, b = cvae.build(cfg.cvae, (1, 8, 8), 0), cvae.build(cfg.cvae, (1, 8, 8), 0, "oracle", "3")
    assert not torch.equal(a.decoder[0].weight, b.decoder[0].weight)
    assert torch.equal(b.decoder[0].weight, cvae.build(cfg.cvae, (1, 8, 8), 0, "oracle", "3").decoder[0].weight)


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
    before = scores(judge, original)
    # no real image of the forgotten label: Selective Amnesia must not need one
    task = Task(0, tuple(range(1, 10)), forget_x=torch.empty(0, 1, 8, 8))
    model = selective_amnesia.unlearn(copy.deepcopy(original), task, cfg.methods["selective_amnesia"],
                                      rng.generator(0, "test", "sa"))
    after = scores(judge, model)
    assert before["forget_prob"] > 0.8, before
    assert after["forget_entropy"] > before["forget_entropy"] + 1.0, (before, after)
    assert after["forget_prob"] < 0.2, after
    assert after["retained_acc"] > 0.85, after


def test_gradient_ascent_moves_only_the_decoder_and_forgets(cfg, digits, judge, original):
    task = Task.of(0, digits["train_x"], digits["train_y"])
    model = baselines.unlearn(copy.deepcopy(original), task, cfg.methods["gradient_ascent"],
                              rng.generator(0, "test", "ga"))
    for (name, a), b in zip(original.named_parameters(), model.parameters()):
        assert torch.equal(a, b) == (not name.startswith("decoder.")), name
    before, after = scores(judge, original), scores(judge, model)
    assert after["forget_prob"] < 0.3 and after["retained_acc"] > 0.85, after
    assert after["forget_entropy"] > before["forget_entropy"] + 1.0, (before, after)


def test_relearn_trains_a_copy(digits, original):
    forget_x = digits["train_x"][digits["train_y"] == 0]
    attacked = evaluation.relearn(original, forget_x, 0, 4, 3, 1e-3, rng.generator(0, "r"))
    changed = [not torch.equal(a, b) for a, b in zip(attacked.parameters(), original.parameters())]
    assert any(changed)
    assert attacked is not original


def test_one_forgotten_digit_may_be_a_bare_integer():
    raw = tiny_raw()
    raw["forget"] = 3  # what `dvc exp run -S forget=3` writes
    assert parse(raw).forget == (3,)


@pytest.mark.parametrize("path, value, key", [
    (("forget",), [0, 12], "forget[1]"),
    (("forget",), [3, 3], "forget"),
    (("chains",), 1, "chains"),
    (("cvae", "latent"), 0, "cvae.latent"),
    (("classifier", "outlier_weight"), -1.0, "classifier.outlier_weight"),
    (("methods", "selective_amnesia", "ewc_weight"), -1.0, "methods.selective_amnesia.ewc_weight"),
    (("methods", "selective_amnesia", "lamda"), 1.0, "methods.selective_amnesia.lamda"),
    (("methods", "gradient_ascent", "train_encoder"), "no", "methods.gradient_ascent.train_encoder"),
    (("methods", "forget_everything"), {}, "methods.forget_everything"),
    (("evaluate", "tolerance", "forget_prob"), -0.1, "evaluate.tolerance.forget_prob"),
    (("relearn", "samples"), [], "relearn.samples"),
])
def test_bad_params_name_the_key(path, value, key):
    raw = tiny_raw()
    block = raw
    for part in path[:-1]:
        block = block[part]
    block[path[-1]] = value
    with pytest.raises(ConfigError) as err:
        parse(raw)
    assert err.value.key == key


def test_missing_key_is_named():
    raw = tiny_raw()
    del raw["classifier"]["seed"]
    with pytest.raises(ConfigError, match="classifier.seed"):
        parse(raw)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("stage, path, value, key", [
    (["amnesia.train", "original"], ("cvae", "epochs"), -3, "cvae.epochs"),
    (["amnesia.train", "oracle"], ("forget",), [0, 12], "forget[1]"),
    (["amnesia.classifier"], ("classifier", "members"), 0, "classifier.members"),
    (["amnesia.evaluate"], ("evaluate", "tolerance", "forget_prob"), None, "evaluate.tolerance.forget_prob"),
])
def test_stage_with_a_bad_key_exits_2_and_writes_nothing(tmp_path, stage, path, value, key):
    raw = tiny_raw()
    block = raw
    for part in path[:-1]:
        block = block[part]
    block[path[-1]] = value
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    done = subprocess.run([sys.executable, str(ROOT / "src" / "run_stage.py"), *stage], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and key in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_dvc_repro_of_the_amnesia_pipeline_over_every_digit(tmp_path):
    """The scenario folder, the library and the tiny params in a fresh git + DVC repository: every digit, two
    chains; then a one-digit request reruns the oracles but not the originals."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    scenario = tmp_path / "scenarios" / "amnesia"
    scenario.mkdir(parents=True)
    for name in ("dvc.yaml", ".gitignore"):
        shutil.copy(SCENARIO / name, scenario / name)
    (scenario / "params.yaml").write_text(yaml.safe_dump(tiny_raw(), sort_keys=False))
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
    assert set(summary) == {"judge", *(f"digit{d}" for d in range(10))}
    for d in range(10):
        assert set(summary[f"digit{d}"]) == {"original", "oracle", "selective_amnesia", "gradient_ascent"}
        for name, values in summary[f"digit{d}"].items():
            for metric in ("forget_entropy", "forget_prob", "retained_acc", "retained_min_acc"):
                assert values[f"{metric}_low"] <= values[metric] <= values[f"{metric}_high"], (d, name, metric)
        assert summary[f"digit{d}"]["selective_amnesia"]["forget_entropy"] > summary[f"digit{d}"]["original"][
            "forget_entropy"], d
    assert {"grey_max_class", "noise_max_class", "surrogate_max_class", "test_acc"} <= set(summary["judge"])
    per_chain = (scenario / "metrics" / "per_chain.csv").read_text().splitlines()
    assert len(per_chain) == 1 + 10 * 2 * 4  # header + digit x chain x model
    report = (scenario / "metrics" / "report.md").read_text()
    for title in ("## The judge on images with no digit", "## selective_amnesia, per forgotten digit",
                  "## gradient_ascent against the oracle", "## Targets for selective_amnesia"):
        assert title in report
    pngs = {p.name for p in (scenario / "plots").glob("*.png")}
    assert {"forgotten.png", "samples.png", "samples_original.png", "samples_selective_amnesia.png"} <= pngs
    assert "up to date" in run(sys.executable, "-m", "dvc", "status", cwd=scenario)
    raw = tiny_raw()
    raw["forget"] = 3
    (scenario / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    status = run(sys.executable, "-m", "dvc", "status", cwd=scenario)
    assert "oracle:" in status and "original:" not in status and "classifier:" not in status, status


def test_the_ewc_penalty_and_its_gradient_are_the_formulas(original):
    model = copy.deepcopy(original)
    gen = rng.generator(0, "test", "ewc")
    anchor = {n: p.detach() + torch.randn(p.shape, generator=gen) for n, p in model.named_parameters()}
    fisher = {n: torch.rand(p.shape, generator=gen) for n, p in model.named_parameters()}
    value = selective_amnesia.ewc_penalty(model, anchor, fisher)
    (3 * value).backward()
    expected = sum(((p - anchor[n]).pow(2) * fisher[n]).sum() for n, p in model.named_parameters())
    torch.testing.assert_close(value, expected.detach())
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.grad, 3 * 2 * fisher[n] * (p.detach() - anchor[n]))
