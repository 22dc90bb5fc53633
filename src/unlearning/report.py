"""metrics/report.md: methods ranked by their gap to the oracle, the attacks that look past the output, and the
relearn attack. Input: the long table of metrics.aggregate (model, metric, mean, ci95)."""
from __future__ import annotations

import pandas as pd

from unlearning.attacks.probe import HIDING_FORGET_ACC
from unlearning.config import Config
from unlearning.evaluation import GAP_METRICS

# A model is listed as over-forgetting when its forget accuracy is below the oracle's by more than this, on average
# (over_forget is a positive part, so seed-to-seed noise alone makes it slightly above 0).
OVER_FORGET_LEVEL = 0.05

RANKING = ("gap_to_oracle", "forget_acc", "over_forget", "retain_acc", "new_acc", "test_acc", "mia_efficacy",
           "mia_loss_auc", "probe_recall", "hiding", "js_forget", "js_test", "oracle_agreement", "speedup",
           "runtime_s")

LEGEND = f"""\
- gap_to_oracle: mean |model - oracle| over {", ".join(GAP_METRICS)}, per seed (SalUn's "Avg. Gap"; lower = closer).
- forget_acc: share of forgotten-class images still predicted in the old slot; retain_acc / new_acc: accuracy on
  the retained / the learned class; test_acc: accuracy on the final class set.
- over_forget: max(0, oracle's forget_acc - model's forget_acc), per seed: forgetting beyond the oracle's (~0 when
  a whole class is forgotten; in subset forgetting the oracle still recognises the forgotten images).
- mia_efficacy: share of forget-train images that an SVC trained on output features (retain-train = member,
  retained-class test = non-member) calls non-members (SalUn; the oracle's value is the target).
- mia_loss_auc: ROC AUC of the per-image loss, forget-train (members) vs forgotten-class test images; 0.5 = no
  membership signal.
- probe_recall: forgotten-class recall of a few-shot linear probe on the frozen features (attacks/probe.py).
- hiding: share of seeds flagged as hiding: forget_acc <= {HIDING_FORGET_ACC} while probe_recall is closer to the
  original's than to the oracle's.
- js_forget / js_test: mean Jensen-Shannon divergence (bits) to the oracle's softmax on the forget / all test images.
- relearn_acc_kK: forget_acc after the relearn attack with K samples; relearn_ratio_kK: the model's steps to
  relearn divided by the oracle's (1 = as hard as never learned)."""


def _cells(table: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """model x metric, each cell 'mean ± ci95' (or 'mean' with one seed)."""
    text = [f"{m:.3f}" if pd.isna(c) else f"{m:.3f} ± {c:.3f}" for m, c in zip(table["mean"], table["ci95"])]
    return table.assign(text=text).pivot(index="model", columns="metric", values="text").reindex(models)


def ranked(table: pd.DataFrame, models: list[str]) -> list[str]:
    """Methods by mean gap to the oracle, smallest first; the oracle last (its gap is 0 by definition)."""
    gap = table[table.metric == "gap_to_oracle"].set_index("model")["mean"]
    methods = sorted((m for m in models if m != "oracle"), key=lambda m: (gap.get(m, float("inf")), m))
    return [*methods, *(["oracle"] if "oracle" in models else [])]


def report(table: pd.DataFrame, models: list[str], cfg: Config, declared_hiding: list[str]) -> str:
    """declared_hiding: methods whose module says they hide (HIDING = True), checked against the probe."""
    order = ranked(table, models)
    cells = _cells(table, order)
    main = [c for c in RANKING if c in cells.columns]
    relearn = sorted((c for c in cells.columns if c.startswith("relearn_")),
                     key=lambda c: (c.split("_k")[0], int(c.split("_k")[1])))
    hiding = table[table.metric == "hiding"].set_index("model")["mean"]
    flagged = [m for m in order if hiding.get(m, 0) >= 0.5]
    missed = [m for m in declared_hiding if m in models and m not in flagged]
    over = table[table.metric == "over_forget"].set_index("model")["mean"]
    over_forgetting = [m for m in order if over.get(m, 0) > OVER_FORGET_LEVEL]
    scenario = cfg.scenario
    lines = [
        f"# Unlearning report: {cfg.data.name}, {scenario.kind}, forget {scenario.forget}"
        + (f", learn {scenario.learn}" if scenario.learn is not None else ""),
        "",
        f"Mean ± 95 % CI half-width over {len(cfg.seeds)} seed(s) {list(cfg.seeds)}; every model is compared "
        "with the retrain oracle of its own seed. Rows ranked by gap to the oracle (oracle last).",
        "",
        cells[main].reset_index().to_markdown(index=False),
        "",
        "## Relearn attack",
        "",
        cells[relearn].reset_index().to_markdown(index=False) if relearn else "(no relearn metrics)",
        "",
        "## Metrics",
        "",
        LEGEND,
        "",
        f"Hiding, not unlearning (output forgets, features do not): {', '.join(flagged) or 'none'}.",
    ]
    if missed:
        lines.append(f"Declared as hiding but not flagged by the probe: {', '.join(missed)}.")
    lines.append(f"Over-forgetting (forget_acc below the oracle's by more than {OVER_FORGET_LEVEL} on average): "
                 f"{', '.join(over_forgetting) or 'none'}.")
    return "\n".join(lines) + "\n"
