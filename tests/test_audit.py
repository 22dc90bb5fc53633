"""The verdicts against the distribution of retrains (unlearning.audit, unlearning.report): calibration of the
forgetting score on real tiny models, the verdicts and flags on known per-chain values, the ceiling, and the
report."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from unlearning import audit
from unlearning.core import rng
from unlearning.forgetting_score import forgetting_quality, logit_confidence
from unlearning.methods import METHODS
from unlearning.report import report, verdict_table
from unlearning.core.train import fit, predict

CHAINS = 8


@pytest.fixture(scope="module")
def confidences(tiny_exp) -> dict[str, torch.Tensor]:
    """Each forget-train example's confidence [models, E] under 8 originals (own initialisations), head_mask made
    from each, and 16 retrains (independent initialisations), trained as the pipeline trains them."""
    cfg, train = tiny_exp.cfg, tiny_exp.splits(0)

    def confidence(model) -> torch.Tensor:
        return logit_confidence(predict(model, train.forget.x).double()[None], train.forget.y)[0]

    originals = [fit(tiny_exp.new_model(i), train.pretrain.x, train.pretrain.y, cfg.train,
                     rng.generator(i, "pretrained")) for i in range(CHAINS)]
    retrains = [fit(tiny_exp.new_model(i, "retrain"), train.target.x, train.target.y, cfg.train,
                    rng.generator(i, "oracle")) for i in range(2 * CHAINS)]
    out = {"original": torch.stack([confidence(m) for m in originals]),
           "retrain": torch.stack([confidence(m) for m in retrains])}
    masked = [METHODS["head_mask"].unlearn(m, train, cfg.methods["head_mask"], None) for m in originals]
    out["head_mask"] = torch.stack([confidence(m) for m in masked])
    return out


def test_retrain_halves_score_high_original_and_head_mask_near_zero(confidences):
    retrain = confidences["retrain"]
    exact = forgetting_quality(retrain[:CHAINS], retrain[CHAINS:])  # an exact retrain, chain for chain
    assert exact > 0.1, exact
    for name in ("original", "head_mask"):
        assert forgetting_quality(confidences[name], retrain[:CHAINS]) < 0.02 < exact / 5, name


def test_retrain_and_original_models_start_from_independent_initialisations(tiny_exp):
    original, retrain = tiny_exp.new_model(0), tiny_exp.new_model(0, "retrain")
    assert not torch.equal(original.head.weight, retrain.head.weight)
    assert torch.equal(tiny_exp.new_model(0, "retrain").head.weight, retrain.head.weight)


def per_chain(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """{model: {metric: [value per chain]}} -> the evaluate stage's per-chain table."""
    rows = []
    for model, metrics in values.items():
        for chain in range(len(next(iter(metrics.values())))):
            rows.append({"model": model, "seed": chain, **{m: v[chain] for m, v in metrics.items()}})
    return pd.DataFrame(rows).assign(gap_to_oracle=0.0)


def noisy(centre: float, n: int = 32, seed: int = 0, spread: float = 0.01) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    return (centre + spread * torch.randn(n, generator=g)).clamp(0, 1).tolist()


def test_verdicts_and_flags_on_known_values(tiny_cfg):
    """'hider': outputs like the retrains' on the forget set, probe far above them; 'wiper': forget accuracy far
    below the retrains' (they still recognise a forgotten subset); 'twin': the retrains' values in another order
    (the same distribution: equivalent on every metric)."""
    retrain = {"forget_acc": noisy(0.80, seed=1), "probe_recall": noisy(0.5, seed=2), "test_acc": noisy(0.9)}
    table = per_chain({
        "oracle": retrain,
        "twin": {metric: values[::-1] for metric, values in retrain.items()},
        "hider": {"forget_acc": noisy(0.80, seed=6), "probe_recall": noisy(0.9, seed=7),
                  "test_acc": noisy(0.9, seed=8)},
        "wiper": {"forget_acc": noisy(0.05, seed=9), "probe_recall": noisy(0.5, seed=10), "test_acc": noisy(0.9)},
    })
    nothing = {name: torch.zeros(32, 3, dtype=torch.float64) for name in ("oracle", "twin", "hider", "wiper")}
    audits = {name: audit.audit_model(name, table, nothing, list(range(32)), tiny_cfg.audit)
              for name in ("oracle", "twin", "hider", "wiper")}
    assert audits["twin"].verdicts == {m: "equivalent" for m in ("forget_acc", "test_acc", "probe_recall")}
    assert audits["hider"].hiding and not audits["hider"].over_forget and audits["hider"].flagged == ["P↑"]
    assert audits["wiper"].over_forget and not audits["wiper"].hiding and audits["wiper"].flagged == ["F↓"]
    assert not audits["twin"].hiding and not audits["twin"].over_forget
    assert audits["oracle"].verdicts == {}


def test_the_ceiling_is_the_exact_retrain_score_and_sets_every_share(tiny_cfg):
    table = per_chain({name: {"forget_acc": noisy(0.0, seed=i), "test_acc": noisy(0.9, seed=i)}
                       for i, name in enumerate(("oracle", "oracle_b", "finetune"))})
    gen = torch.Generator().manual_seed(0)
    conf = {"oracle": torch.randn(32, 50, generator=gen, dtype=torch.float64),
            "oracle_b": torch.randn(32, 50, generator=gen, dtype=torch.float64)}
    conf["finetune"] = conf["oracle_b"] + 0.7
    audits = [audit.audit_model(name, table, conf, list(range(32)), tiny_cfg.audit) for name in conf]
    ceiling = audit.apply_ceiling(audits, tiny_cfg.audit)
    by_name = {a.model: a for a in audits}
    assert ceiling == by_name["oracle_b"].forgetting and by_name["oracle_b"].ceiling_share == 1.0
    assert by_name["finetune"].ceiling_share == pytest.approx(by_name["finetune"].forgetting.mean / ceiling.mean)
    assert by_name["finetune"].ceiling_share < 0.8 and not by_name["finetune"].passes
    assert by_name["oracle_b"].passes  # an exact retrain: share 1, every metric equivalent
    low, high = ceiling.low, ceiling.high
    assert 0 < low < high and len(by_name["oracle_b"].score_draws) == audit.SCORE_RESAMPLES


def test_the_report_opens_with_a_verdict_table_of_at_most_120_columns(tiny_cfg):
    table = per_chain({"oracle": {"forget_acc": noisy(0.0), "test_acc": noisy(0.9)},
                       "oracle_b": {"forget_acc": noisy(0.0, seed=4), "test_acc": noisy(0.9, seed=5)},
                       "original": {"forget_acc": noisy(0.95), "test_acc": noisy(0.85)},
                       "finetune": {"forget_acc": noisy(0.01), "test_acc": noisy(0.9, seed=3)}})
    conf = {"oracle": torch.randn(32, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)}
    conf["oracle_b"] = torch.randn(32, 50, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    conf["finetune"] = conf["oracle"] + 0.1
    conf["original"] = conf["oracle"] + 10.0
    audits = [audit.audit_model(name, table, conf, list(range(32)), tiny_cfg.audit)
              for name in ("original", "finetune", "oracle", "oracle_b")]
    ceiling = audit.apply_ceiling(audits, tiny_cfg.audit)
    by_name = {a.model: a for a in audits}
    assert by_name["original"].forgetting.mean == 0.0 < by_name["finetune"].forgetting.mean
    lines = verdict_table(audits).splitlines()
    assert max(len(line) for line in lines) <= 120, lines
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["finetune", "original", "exact retrain"]
    rates = {"forget_acc": {"any": 0.04, "different": 0.0}, "test_acc": {"any": 0.05, "different": 0.0},
             "(any metric)": {"any": float("nan"), "different": 0.0}}
    text = report(audits, ceiling, rates, tiny_cfg, ["head_mask"], {"original": {"diverged_chains": 0}})
    assert lines[0] in text.split("\n\n")[2] and "Over-forgetting (forget-set accuracy different below the " \
        "retrains'): original." not in text and "How often the verdicts flag an exact retrain" in text
    assert "| forget | ±0.01     | 4.0%" in text and max(len(line) for line in text.splitlines()) <= 120


def test_a_model_diverged_on_every_chain_is_a_row_that_says_so(tiny_cfg):
    """Its metrics are NaN on every chain: the verdict table says 'diverged', never 'nan'. With fewer than 4
    chains there is no score, and the row says why."""
    nan = [float("nan")] * 3
    table = per_chain({"oracle": {"forget_acc": noisy(0.0, n=3), "test_acc": noisy(0.9, n=3)},
                       "oracle_b": {"forget_acc": noisy(0.0, n=3, seed=1), "test_acc": noisy(0.9, n=3, seed=2)},
                       "scrub": {"forget_acc": nan, "test_acc": nan}})
    conf = {"oracle": torch.randn(3, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64),
            "oracle_b": torch.randn(3, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64),
            "scrub": torch.full((3, 20), float("nan"), dtype=torch.float64)}
    audits = [audit.audit_model(name, table, conf, [0, 1, 2], tiny_cfg.audit) for name in conf]
    assert audit.apply_ceiling(audits, tiny_cfg.audit) is None
    text = verdict_table(audits)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()[2:]}
    assert "nan" not in text
    assert rows["scrub"].split("|")[2].strip() == "diverged"
    assert "(< 4 chains)" in rows["exact retrain"]
    assert all(v == "n/a" for v in next(a for a in audits if a.model == "oracle_b").verdicts.values())


def test_the_score_interval_covers_independent_replications():
    """Two draws of one normal distribution, 32 models a side: the recentred bootstrap interval of one sample's
    score contains the mean score of 40 independent replications, and is no narrower than their spread."""
    gen = torch.Generator().manual_seed(11)
    draw = lambda: torch.randn(32, 300, generator=gen, dtype=torch.float64)  # noqa: E731
    replications = torch.tensor([forgetting_quality(draw() + 0.3, draw()) for _ in range(40)])
    score, draws, _ = audit.score_interval(draw() + 0.3, draw(), torch.Generator().manual_seed(12))
    assert score.low <= replications.mean().item() <= score.high, (score, replications.mean())
    assert score.high - score.low >= 2 * 1.96 * replications.std().item()
    assert abs(draws.mean() - score.mean) < 1e-9
