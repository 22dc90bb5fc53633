"""The Layered Unlearning scenario on tiny settings: data, features, phases, metrics, the stages' error
handling, and one end-to-end `dvc repro` of scenarios/layered."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from unlearning.core.config import ConfigError
from unlearning.layered import config, data, metrics, phases
from unlearning.layered.model import RBFEnsemble, rbf_centres, rbf_features

ROOT = Path(__file__).resolve().parents[1]
TINY = Path(__file__).with_name("layered_tiny_params.yaml")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As in the stages: batches of 32 points, where a second intra-op thread only adds spin-waiting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_raw() -> dict:
    return yaml.safe_load(TINY.read_text())


@pytest.fixture(scope="module")
def cfg() -> config.LayeredConfig:
    return config.load(TINY)


@pytest.fixture(scope="module")
def points(cfg) -> dict:
    return data.generate(cfg.data, cfg.seeds)["points"]


@pytest.fixture(scope="module")
def trained(cfg, points) -> dict:
    """init, base and LU's first layer of the tiny seeds, trained as the pipeline trains them."""
    out = {"init": phases.run(RBFEnsemble(cfg.model, cfg.data.half_width, cfg.seeds), points["train"],
                              phases.PHASES["init"], cfg.pretrain, cfg.seeds)}
    for name in ("base", "lu_partial"):
        out[name] = phases.run(copy.deepcopy(out["init"]), points["train"], phases.PHASES[name], cfg.unlearn,
                               cfg.seeds)
    return out


def test_generated_shapes_ranges_and_determinism(cfg):
    d = data.generate(cfg.data, cfg.seeds)
    seeds, g = len(cfg.seeds), cfg.data.gaussians
    assert d["means"].shape == (seeds, 3, g, 2) and d["cov"].shape == (seeds, 3, g, 2, 2)
    for split, n in (("train", cfg.data.samples), ("test", cfg.data.test_samples)):
        assert set(d["points"][split]) == {"null", "A", "B", "retain"}
        for role, x in d["points"][split].items():
            assert x.shape == (seeds, n, 2) and x.dtype == torch.float32, role
    assert d["points"]["train"]["null"].abs().max() <= cfg.data.half_width
    assert d["means"].abs().max() <= cfg.data.mean_half_width
    eigen = torch.linalg.eigvalsh(d["cov"])
    assert eigen.min() >= cfg.data.cov_scale - 1e-4  # 4 I + 0.1 U^T U: never narrower than 4 I
    # a seed's data depend on that seed alone: generated alone, seed 1 gets the same points
    alone = data.generate(cfg.data, (cfg.seeds[1],))
    assert torch.equal(alone["points"]["test"]["B"][0], d["points"]["test"]["B"][1])
    assert not torch.equal(d["points"]["train"]["A"][0], d["points"]["train"]["A"][1])


def test_assignment_modes_separate_or_interleave_the_sets():
    means = torch.rand(6, 15, 2) * 100 - 50  # six draws of 3 sets x 5 Gaussians
    share = {}
    for mode in config.ASSIGNMENTS:
        grouped = []
        for i, flat in enumerate(means):
            sets = data.assign(flat, mode, torch.Generator().manual_seed(i), random_state=i)
            assert torch.bincount(sets, minlength=3).tolist() == [5, 5, 5], mode
            grouped.append(flat[torch.argsort(sets, stable=True)].reshape(3, 5, 2))
        share[mode] = data.same_set_neighbour_share(torch.stack(grouped)).mean().item()
    # nearest neighbour of a mean in its own set: most of the time for k-means, rarely when interleaved
    assert share["k-means"] >= 0.65, share
    assert share["adversarial"] <= 0.35, share
    assert share["k-means"] - share["adversarial"] >= 0.4, share


def test_rbf_features_are_gaussian_bumps_on_a_grid():
    centres = rbf_centres(12, 60.0)
    assert centres.shape == (144, 2)
    assert centres.min() == -60 and centres.max() == 60
    x = torch.stack([centres[17], centres[17] + torch.tensor([8.0, 0.0])])[:, None, :]  # [2, 1, 2]
    phi = rbf_features(x, centres, 8.0)
    assert phi.shape == (2, 1, 144)
    assert phi[0, 0, 17] == pytest.approx(1.0, abs=1e-5)
    assert phi[1, 0, 17] == pytest.approx(torch.exp(torch.tensor(-0.5)).item(), abs=1e-4)  # one sigma away
    assert phi.max() <= 1 + 1e-6 and phi.min() >= 0


def test_ensemble_seeds_are_independent(cfg):
    """Seed s's initial weights and gradients depend on seed s alone."""
    model = RBFEnsemble(cfg.model, 60.0, (0, 1))
    alone = RBFEnsemble(cfg.model, 60.0, (1,))
    assert torch.equal(model.weights[0][1], alone.weights[0][0])
    x = torch.randn(8, 2, 2) * 30
    y = torch.randint(0, 2, (8, 2)).float()
    grads = []
    for labels in (y, torch.stack([y[:, 0], 1 - y[:, 1]], 1)):  # change seed 1's labels only
        model.zero_grad()
        phases.per_seed_bce(model, x, labels).backward()
        grads.append(model.weights[0].grad.clone())
    assert torch.equal(grads[0][0], grads[1][0]) and not torch.equal(grads[0][1], grads[1][1])


def test_training_set_labels_and_per_seed_shuffles():
    # role r's points all sit at x = 10 * r, so the label of every row can be checked against its role
    roles = ("null", "A", "B", "retain")
    points = {r: torch.full((2, 5, 2), 10.0 * i) for i, r in enumerate(roles)}
    for name in ("init", "base", "lu_partial", "lu_relearn_B"):
        phase = phases.PHASES[name]
        x, y = phases.training_set(points, phase, (0, 1))
        assert x.shape == (5 * len(phase.labels), 2, 2) and y.shape == x.shape[:2]
        role_of_row = [[roles[int(v) // 10] for v in x[:, s, 0]] for s in range(2)]
        for s in range(2):
            assert sorted(set(role_of_row[s])) == sorted(phase.labels)
            assert [phase.labels[r] for r in role_of_row[s]] == y[:, s].int().tolist()
        assert role_of_row[0] != role_of_row[1] or name == "lu_relearn_B"  # each seed its own order
    assert phases.PHASES["lu_relearn_B"].labels == {"B": 1}  # the attack: B alone, no retain, no null


def test_base_unlearning_forgets_a_and_b_and_keeps_retain(cfg, points, trained):
    test = points["test"]
    init = metrics.accuracies(trained["init"], test)
    base = metrics.accuracies(trained["base"], test)
    layer1 = metrics.accuracies(trained["lu_partial"], test)
    assert init["A"].min() > 0.9 and init["B"].min() > 0.9, init
    assert base["A"].max() < 0.15 and base["B"].max() < 0.15, base
    assert base["retain"].min() > 0.85 and base["null"].min() > 0.85, base
    assert layer1["A"].max() < 0.15 and layer1["B"].min() > 0.85, layer1  # LU's first layer keeps B


def _per_seed(lu_on_a: float) -> pd.DataFrame:
    rows = []
    for seed, wobble in enumerate((-0.02, 0.0, 0.02)):
        for start, on_a in (("base", 0.9), ("lu", lu_on_a), ("oracle", 0.8)):
            rows.append({"checkpoint": f"{start}_relearn_B", "seed": seed, "A": on_a + wobble, "B": 1.0})
            rows.append({"checkpoint": f"{start}_relearn_A", "seed": seed, "A": 1.0, "B": 0.9 + wobble})
    return pd.DataFrame(rows)


def test_verdict_is_computed_from_the_numbers():
    assert metrics.verdict(_per_seed(lu_on_a=0.3))["reproduces"]
    assert not metrics.verdict(_per_seed(lu_on_a=0.85))["reproduces"]
    table = metrics.table1(_per_seed(lu_on_a=0.3))
    assert table["lu"]["relearn_B_acc_A"] == pytest.approx(0.3)
    assert table["base"]["relearn_A_acc_B"] == pytest.approx(0.9)


@pytest.mark.parametrize("edit, key", [
    (lambda r: r["data"].update(bogus=1), "data.bogus"),
    (lambda r: r["data"].update(assignment="spiral"), "data.assignment"),
    (lambda r: r["model"].pop("sigma"), "model.sigma"),
    (lambda r: r["relearn"].update(lr=0), "relearn.lr"),
    (lambda r: r.update(seeds=[]), "seeds"),
])
def test_bad_params_name_their_key(tiny_raw, edit, key):
    edit(tiny_raw)
    with pytest.raises(ConfigError) as err:
        config.parse(tiny_raw)
    assert err.value.key == key


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("stage, edit, key", [
    ("download", lambda r: r["data"].update(bogus=1), "data.bogus"),
    ("evaluate", lambda r: r["unlearn"].update(epochs=-1), "unlearn.epochs"),
])
def test_stage_with_bad_params_exits_2_and_writes_nothing(tmp_path, tiny_raw, stage, edit, key):
    edit(tiny_raw)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_raw))
    done = subprocess.run([sys.executable, "-m", f"stages.layered.{stage}"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_dvc_repro_of_the_layered_pipeline(tmp_path, tiny_raw):
    """A fresh repository holding src/ and scenarios/layered with the tiny params: `dvc repro` runs every
    stage and writes the metrics, the report and one plot per checkpoint."""
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    scenario = tmp_path / "scenarios" / "layered"
    scenario.mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "layered" / "dvc.yaml", scenario)
    (scenario / "params.yaml").write_text(yaml.safe_dump(tiny_raw))
    env = _env() | {"PYTHONPATH": str(tmp_path / "src")}

    def run(*cmd, cwd=tmp_path):
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout

    run("git", "init", "-q")
    run("dvc", "init", "-q")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "init")
    run("dvc", "repro", cwd=scenario)
    summary = yaml.safe_load((scenario / "metrics" / "summary.json").read_text())
    assert set(summary["checkpoints"]) == set(phases.PHASES)
    assert 0 <= summary["table1"]["lu"]["relearn_B_acc_A"] <= 1
    assert summary["checkpoints"]["base"]["A"] < 0.15 < 0.85 < summary["checkpoints"]["base"]["retain"]
    report = (scenario / "metrics" / "report.md").read_text()
    assert "Table 1" in report and ("**Reproduced**" in report or "**Not reproduced**" in report)
    assert {p.stem for p in (scenario / "plots").glob("*.png")} == {*phases.PHASES, "overview"}
    assert "up to date" in run("dvc", "status", cwd=scenario)
