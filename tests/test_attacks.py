"""The evaluation that looks past the output: representation probe, membership inference, relearn area,
distance and gap to the chain's retrain, confidence intervals. Tiny digits data (conftest.py)."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from unlearning.core import config, rng
from unlearning.attacks.mia import loss_auc, mia_efficacy, scored
from unlearning.attacks.probe import features
from unlearning.attacks.relearn import relearn_curve
from unlearning.core.config import FitConfig
from unlearning.evaluation import GAP_METRICS, ChainReference, _parts, model_metrics, relearn_metrics
from unlearning.core.experiment import Experiment
from unlearning.methods import METHODS
from unlearning.metrics import aggregate, ci95_halfwidth, gap_to_oracle, js_divergence
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit, predict


@pytest.fixture(scope="module")
def reference(tiny_exp, tiny_models) -> ChainReference:
    test = tiny_exp.splits(0, "test")
    return ChainReference.build(0, tiny_exp.splits(0), test, test, tiny_models["oracle"], probe_draws=5)


def test_probe_reads_the_class_from_the_original_and_head_mask_not_the_retrain(tiny_exp, tiny_models, pretrained,
                                                                              reference):
    # the few-shot probe must tell the original's features from the retrain's, or no hiding verdict could work
    recall = {name: model_metrics(tiny_models[name], reference)[0]["probe_recall"] for name in ("pretrained", "oracle")}
    assert recall["pretrained"] - recall["oracle"] > 0.1, recall
    masked = METHODS["head_mask"].unlearn(pretrained, tiny_exp.splits(0), tiny_exp.cfg.methods["head_mask"],
                                          rng.generator(0, "test"))
    hidden, confidence = model_metrics(masked, reference)
    assert hidden["forget_acc"] == 0.0 and hidden["probe_recall"] == recall["pretrained"]
    assert confidence.shape == (len(tiny_exp.splits(0).forget),) and bool((confidence < -1000).all())


def test_relearn_area_is_larger_for_the_original_than_for_the_retrain(tiny_exp, tiny_models, reference):
    cfg, train = tiny_exp.cfg, tiny_exp.splits(0)

    def curves(which: str) -> pd.DataFrame:
        rows = []
        for k in cfg.relearn.samples:
            model = copy.deepcopy(tiny_models[which])  # the attack trains; the shared fixture must not change
            for point in relearn_curve(model, train.forget, train.target, reference.scored.forget, k,
                                       cfg.relearn, rng.generator(0, "relearn", str(k))):
                rows.append({"k": k, **point})
        return pd.DataFrame(rows)

    oracle, original = relearn_metrics(curves("oracle")), relearn_metrics(curves("pretrained"))
    assert set(oracle) == {f"relearn_auc_k{k}" for k in cfg.relearn.samples}
    for key, area in original.items():
        assert 0 <= oracle[key] < area <= 1, (key, oracle[key], area)


def test_relearn_area_of_a_known_curve():
    curve = pd.DataFrame({"k": 8, "step": [0, 2, 4], "forget_acc": [0.0, 0.5, 1.0]})
    assert relearn_metrics(curve) == {"relearn_auc_k8": pytest.approx(0.5)}  # trapezoids: (0.5 + 1.5) / 2 / 4


def _few(part: Part, n: int, generator: torch.Generator) -> tuple[Part, Part]:
    """(n random samples of a part, the others)."""
    order = torch.randperm(len(part), generator=generator)
    return Part(part.x[order[:n]], part.y[order[:n]]), Part(part.x[order[n:]], part.y[order[n:]])


@pytest.fixture(scope="module")
def overfit(tiny_exp):
    """Two small models trained to zero loss on 16 images per retained class plus 16 forget-class images, the
    latter under random labels (digits' 6s are so easy that a model's loss on unseen 6s is as low as on seen ones;
    random labels can only be memorised, which is what membership inference detects): model 'seen' on forget
    images A, model 'unseen' on forget images B (disjoint). 'held_out': forget images neither model saw."""
    train = tiny_exp.splits(0)
    g = rng.generator(0, "test", "overfit")
    relabelled = Part(train.forget.x, torch.randint(0, train.num_slots, (len(train.forget),), generator=g))
    members, rest = _few(relabelled, 16, g)
    other_forget, held_out = _few(rest, 16, g)
    retain = concat(*[_few(Part(train.retain.x[train.retain.y == s], train.retain.y[train.retain.y == s]), 16, g)[0]
                      for s in train.retain.y.unique()])
    settings = FitConfig(epochs=150, batch_size=256, lr=0.01)  # full batch: 150 steps
    models = {}
    for name, forget in (("seen", members), ("unseen", other_forget)):
        part = concat(retain, forget)
        models[name] = fit(tiny_exp.new_model(0), part.x, part.y, settings, rng.generator(0, "test", name))
    return {"models": models, "members": members, "retain": retain, "held_out": held_out}


def test_loss_attack_finds_members_and_only_members(overfit):
    seen, unseen = (loss_auc(scored(model, overfit["members"]), scored(model, overfit["held_out"]))
                    for model in (overfit["models"]["seen"], overfit["models"]["unseen"]))
    assert seen > 0.9, seen
    assert abs(unseen - 0.5) < 0.15, unseen


def test_svc_attack_calls_seen_forget_images_members(tiny_exp, overfit):
    retained_test = tiny_exp.splits(0, "test").retain
    efficacy = {name: mia_efficacy(scored(model, overfit["retain"]), scored(model, retained_test),
                                   scored(model, overfit["members"]), rng.generator(0, "mia"))
                for name, model in overfit["models"].items()}
    assert efficacy["seen"] < 0.5 < efficacy["unseen"], efficacy


def test_js_divergence_is_zero_for_identical_models_only(tiny_exp, tiny_models):
    x = tiny_exp.splits(0, "test").forget.x
    mine, theirs = predict(tiny_models["pretrained"], x), predict(tiny_models["oracle"], x)
    assert js_divergence(mine, mine.clone()) == 0.0
    between = js_divergence(mine, theirs)
    assert 0.1 < between <= 1.0 and between == pytest.approx(js_divergence(theirs, mine))


def test_confidence_interval_shrinks_with_more_seeds():
    assert ci95_halfwidth(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.4841, abs=1e-4)  # t(0.975, 2) / sqrt(3)
    assert np.isnan(ci95_halfwidth(np.array([1.0])))
    draws = np.random.default_rng(0).normal(0.9, 0.05, size=40)
    widths = [aggregate(pd.DataFrame({"model": "m", "seed": range(n), "acc": draws[:n]})).ci95.item()
              for n in (3, 10, 40)]
    assert widths[0] > widths[1] > widths[2] > 0, widths


def test_gap_to_oracle_averages_absolute_differences_per_seed():
    per_seed = pd.DataFrame({"model": ["oracle", "a", "oracle", "a"], "seed": [0, 0, 1, 1],
                             "x": [0.5, 0.7, 0.4, 0.4], "y": [1.0, 0.0, 1.0, np.nan]})
    assert gap_to_oracle(per_seed, ("x", "y")).tolist() == pytest.approx([0.0, 0.6, 0.0, 0.0])


def test_one_forward_pass_gives_what_predict_and_features_give(tiny_exp, tiny_models, reference):
    """The evaluation reads every part from one stacked forward pass; it must equal part-by-part inference."""
    model, layout = tiny_models["pretrained"], reference.layout
    out = layout.forward(model)
    test = tiny_exp.splits(0, "test")
    for name, part in _parts(tiny_exp.splits(0), test, test).items():
        assert torch.allclose(layout.scored(out, name).logits, predict(model, part.x), atol=1e-5), name
        assert np.allclose(layout.features(out, name), features(model, part.x), atol=1e-5), name
        assert torch.equal(layout.scored(out, name).y, part.y), name
    # test.forget is scored.forget and test.class here: their rows are shared, not forwarded twice
    assert layout.rows["scored.forget"] == layout.rows["test.class"]
    train = tiny_exp.splits(0)
    assert len(layout.x) == sum(len(p) for p in (train.retain, train.new, train.forget, test.forget, test.retain,
                                                 test.new))


@pytest.mark.parametrize("kind", ["forget_class", "forget_subset"])
def test_every_metric_is_measured_in_the_other_scenarios(kind, tiny_exp, tiny_raw):
    from test_scenarios import SCENARIOS  # the tiny scenario blocks of the scenario tests

    exp = Experiment(config.parse({**tiny_raw, "scenario": SCENARIOS[kind]}), tiny_exp.device, tiny_exp.tensors)
    train = exp.splits(0)
    original, oracle = (fit(exp.new_model(0), part.x, part.y, exp.cfg.train, rng.generator(0, which))
                        for which, part in (("pretrained", train.pretrain), ("oracle", train.target)))
    ref = ChainReference.build(0, train, exp.splits(0, "test"), exp.evaluation(0), oracle, probe_draws=2)
    rows = [{"model": name, "seed": 0, **model_metrics(model, ref)[0]}
            for name, model in (("original", original), ("oracle", oracle))]
    for row in rows:
        for key in ("forget_acc", "retain_acc", "test_acc", "mia_efficacy", "mia_loss_auc", "probe_recall",
                    "js_test"):
            assert np.isfinite(row[key]), (kind, row["model"], key)
    gaps = gap_to_oracle(pd.DataFrame(rows), GAP_METRICS)  # new_acc is NaN here: skipped, not propagated
    assert gaps.iloc[1] == 0.0 and gaps.iloc[0] > 0
