"""The Layered Unlearning scenario on tiny settings (tests/layered_tiny_overlay.yaml over the scenario's
params.yaml): data, features, phases, metrics and the params' checks. The judging against the oracle:
test_layered_judging.py; the stages, their bad input and one `dvc repro`: test_layered_stages.py."""
from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from unlearning import overlay
from unlearning.core.config import ConfigError
from unlearning.layered import config, data, metrics, phases
from unlearning.layered.model import RBFEnsemble, rbf_centres, rbf_features

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "scenarios" / "layered" / "params.yaml"
TINY = Path(__file__).with_name("layered_tiny_overlay.yaml")


def tiny_params() -> dict:
    """scenarios/layered/params.yaml with the tests' overlay applied: the scenario's own keys, a few shrunk."""
    return overlay.merged(yaml.safe_load(PARAMS.read_text()), overlay.read(TINY))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As in the stages: batches of 32 points, where a second intra-op thread only adds spin-waiting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_raw() -> dict:
    return tiny_params()


@pytest.fixture(scope="module")
def cfg() -> config.LayeredConfig:
    return config.parse(tiny_params())


@pytest.fixture(scope="module")
def points(cfg) -> dict:
    return data.generate(cfg.data, cfg.chains)["points"]


@pytest.fixture(scope="module")
def trained(cfg, points) -> dict:
    """init, base and LU's first layer of the tiny seeds, trained as the pipeline trains them."""
    out = {"init": phases.run(RBFEnsemble(cfg.model, cfg.data.half_width, cfg.chains), points["train"],
                              phases.PHASES["init"], cfg.pretrain, cfg.chains)}
    for name in ("base", "lu_partial"):
        out[name] = phases.run(copy.deepcopy(out["init"]), points["train"], phases.PHASES[name], cfg.unlearn,
                               cfg.chains)
    return out


def test_generated_shapes_ranges_and_determinism(cfg):
    d = data.generate(cfg.data, cfg.chains)
    seeds, g = len(cfg.chains), cfg.data.gaussians
    assert d["means"].shape == (seeds, 3, g, 2) and d["cov"].shape == (seeds, 3, g, 2, 2)
    for split, n in (("train", cfg.data.samples), ("test", cfg.data.test_samples)):
        assert set(d["points"][split]) == {"null", "A", "B", "retain"}
        for role, x in d["points"][split].items():
            assert x.shape == (seeds, n, 2) and x.dtype == torch.float32, role
    assert d["points"]["train"]["null"].abs().max() <= cfg.data.half_width
    assert d["means"].abs().max() <= cfg.data.mean_half_width
    eigen = torch.linalg.eigvalsh(d["cov"])
    assert eigen.min() >= cfg.data.cov_scale - 1e-4  # 4 I + 0.1 U^T U: never narrower than 4 I
    # a chain's data depend on that chain alone: generated alone, chain 1 gets the same points
    alone = data.generate(cfg.data, (cfg.chains[1],))
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


def test_ensemble_chains_are_independent(cfg):
    """Chain s's initial weights and gradients depend on chain s alone; the oracle draws its own."""
    model = RBFEnsemble(cfg.model, 60.0, (0, 1))
    alone = RBFEnsemble(cfg.model, 60.0, (1,))
    assert torch.equal(model.weights[0][1], alone.weights[0][0])
    oracle = RBFEnsemble(cfg.model, 60.0, (0, 1), stream="oracle")
    assert not torch.equal(oracle.weights[0], model.weights[0])
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


def _per_chain(lu_on_a: float) -> pd.DataFrame:
    rows = []
    for chain, wobble in enumerate((-0.02, 0.0, 0.02)):
        for start, on_a in (("base", 0.9), ("lu", lu_on_a), ("oracle", 0.8), ("oracle_base", 0.7)):
            rows.append({"checkpoint": f"{start}_relearn_B", "chain": chain, "A": on_a + wobble, "B": 1.0,
                         "retain": 1.0, "null": 0.5})
            rows.append({"checkpoint": f"{start}_relearn_A", "chain": chain, "A": 1.0, "B": 0.9 + wobble,
                         "retain": 1.0, "null": 0.5})
    return pd.DataFrame(rows)


def test_claim_is_computed_from_the_numbers():
    assert metrics.claim(_per_chain(lu_on_a=0.3))["reproduces"]
    assert not metrics.claim(_per_chain(lu_on_a=0.85))["reproduces"]
    table = metrics.table1(metrics.summarise(_per_chain(lu_on_a=0.3)))
    assert table["lu"]["relearn_B_acc_A"].mean == pytest.approx(0.3)
    assert table["base"]["relearn_A_acc_B"].mean == pytest.approx(0.9)
    # bootstrap intervals of unlearning.stats: around the mean, inside [0, 1]
    lu = table["lu"]["relearn_B_acc_A"]
    assert 0 <= lu.low < lu.mean < lu.high <= 1


@pytest.mark.parametrize("edit, key", [
    (lambda r: r["data"].update(bogus=1), "data.bogus"),
    (lambda r: r["data"].update(assignment="spiral"), "data.assignment"),
    (lambda r: r["model"].pop("sigma"), "model.sigma"),
    (lambda r: r["relearn"].update(lr=0), "relearn.lr"),
    (lambda r: r["audit"].update(chains=1), "audit.chains"),
    (lambda r: r["audit"]["tolerance"].update(relearned=1.5), "audit.tolerance.relearned"),
    (lambda r: r["audit"]["tolerance"].pop("unlearned"), "audit.tolerance.unlearned"),
    (lambda r: r.update(seeds=[0, 1]), "seeds"),  # the former key: now an unknown one
])
def test_bad_params_name_their_key(tiny_raw, edit, key):
    edit(tiny_raw)
    with pytest.raises(ConfigError) as err:
        config.parse(tiny_raw)
    assert err.value.key == key
