"""The verdicts against the distribution of retrains (unlearning.audit, unlearning.report): calibration of the
forgetting score on real tiny models, the band verdicts and flags on known per-chain values, and the report."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from unlearning import audit
from unlearning.core import rng
from unlearning.forgetting_score import forgetting_quality, logit_confidence, score_ceiling
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
    top = score_ceiling(retrain, rng.generator(0, "test"), repeats=5)
    assert exact > 0.1 and top > 0.1, (exact, top)
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
    return pd.DataFrame(rows).assign(gap_to_oracle=0.0, runtime_s=1.0)


def noisy(centre: float, n: int = 32, seed: int = 0, spread: float = 0.01) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    return (centre + spread * torch.randn(n, generator=g)).clamp(0, 1).tolist()


def test_band_verdicts_and_flags_on_known_values():
    """'hider': outputs like the retrains' on the forget set, probe far above them; 'wiper': forget accuracy below
    the band (the retrains still recognise a forgotten subset); 'twin': the retrains' values in another chain
    order (the same mean: a paired difference of mean 0 is inside the band whatever the draw)."""
    retrain = {"forget_acc": noisy(0.80, seed=1), "probe_recall": noisy(0.5, seed=2), "test_acc": noisy(0.9)}
    table = per_chain({
        "oracle": retrain,
        "twin": {metric: values[::-1] for metric, values in retrain.items()},
        "hider": {"forget_acc": noisy(0.80, seed=6), "probe_recall": noisy(0.9, seed=7),
                  "test_acc": noisy(0.9, seed=8)},
        "wiper": {"forget_acc": noisy(0.05, seed=9), "probe_recall": noisy(0.5, seed=10), "test_acc": noisy(0.9)},
    })
    nothing = {name: torch.zeros(32, 3, dtype=torch.float64) for name in ("oracle", "twin", "hider", "wiper")}
    audits = {name: audit.audit_model(name, table, nothing, list(range(32)), True, 0.2)
              for name in ("oracle", "twin", "hider", "wiper")}
    assert audits["twin"].verdicts == {"forget_acc": "inside", "test_acc": "inside", "probe_recall": "inside"}
    assert audits["hider"].hiding and not audits["hider"].over_forget and audits["hider"].outside == ["P↑"]
    assert audits["wiper"].over_forget and not audits["wiper"].hiding and audits["wiper"].outside == ["F↓"]
    assert not audits["twin"].hiding and not audits["twin"].over_forget
    for a in audits.values():  # every interval of a [0, 1] metric stays in [0, 1]
        for interval in a.metrics.values():
            assert 0 <= interval.low <= interval.mean <= interval.high <= 1


def test_the_report_opens_with_a_verdict_table_of_at_most_120_columns(tiny_cfg):
    table = per_chain({"oracle": {"forget_acc": noisy(0.0), "test_acc": noisy(0.9)},
                       "original": {"forget_acc": noisy(0.95), "test_acc": noisy(0.85)},
                       "finetune": {"forget_acc": noisy(0.01), "test_acc": noisy(0.9, seed=3)}})
    conf = {"oracle": torch.randn(32, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)}
    conf["finetune"] = conf["oracle"] + 0.1
    conf["original"] = conf["oracle"] + 10.0
    top = audit.ceiling(conf)
    audits = [audit.audit_model(name, table, conf, list(range(32)), name == "finetune", top)
              for name in ("original", "finetune", "oracle")]
    by_name = {a.model: a for a in audits}
    assert by_name["original"].forgetting.mean == 0.0 < by_name["finetune"].forgetting.mean
    assert by_name["original"].speedup is None and by_name["finetune"].speedup.mean == pytest.approx(1.0)
    lines = verdict_table(audits, top).splitlines()
    assert max(len(line) for line in lines) <= 120, lines
    assert [line.split("|")[1].strip() for line in lines[2:]] == ["finetune", "original", "retrain"]
    text = report(audits, top, tiny_cfg, ["head_mask"], {"original": {"diverged_chains": 0}})
    assert lines[0] in text.split("\n\n")[2] and "Over-forgetting (forget-set accuracy below the retrain band): " \
        "none." in text


def test_a_model_diverged_on_every_chain_is_a_row_that_says_so():
    """Its metrics are NaN on every chain (and so is its speed-up): the verdict table says 'diverged', never 'nan'.
    With fewer than 4 chains there is no ceiling: the retrain row says why instead of 'nan'."""
    nan = [float("nan")] * 3
    table = per_chain({"oracle": {"forget_acc": noisy(0.0, n=3), "test_acc": noisy(0.9, n=3)},
                       "scrub": {"forget_acc": nan, "test_acc": nan}})
    table.loc[table.model == "scrub", "runtime_s"] = float("nan")
    conf = {"oracle": torch.randn(3, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64),
            "scrub": torch.full((3, 20), float("nan"), dtype=torch.float64)}
    top = audit.ceiling(conf)
    audits = [audit.audit_model(name, table, conf, [0, 1, 2], name == "scrub", top) for name in ("scrub", "oracle")]
    text = verdict_table(audits, top)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()[2:]}
    assert "nan" not in text
    assert rows["scrub"].split("|")[2].strip() == "diverged"
    assert "(< 4 chains)" in rows["retrain"]
