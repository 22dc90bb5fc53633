"""metrics/report.md of the amnesia scenario: the judge's calibration, a table per model with a row per forgotten
digit (mean over chains [95 % bootstrap interval]), each method against the oracle's distribution (difference of
means [95 % permutation interval] and verdict), and the issue's targets for Selective Amnesia, judged on intervals."""
from __future__ import annotations

import pandas as pd

from unlearning.amnesia import intervals
from unlearning.amnesia.config import Config

# the metrics of summary.json (per digit and model, with _low / _high): the ones the tables show
SUMMARY_METRICS = ("forget_entropy", "forget_prob", "retained_acc", "retained_min_acc", "relearn_k10_forget_prob",
                   "relearn_k100_forget_prob", "forget_test_nelbo", "retained_test_nelbo")
# (metric, comparison, threshold) that Selective Amnesia should meet (H = 2.19, p = 0.058 in the paper)
TARGETS = (("forget_entropy", ">=", 2.0), ("forget_prob", "<=", 0.1), ("retained_acc", ">=", 0.9))
COLUMNS = {"forget_entropy": "H", "forget_prob": "p(forgotten)", "retained_acc": "retained acc",
           "retained_min_acc": "worst retained acc", "forget_test_nelbo": "forget test -ELBO"}
GLOSSARY = """\
- H (forget_entropy): mean entropy (nats) of the judge's p(y | x) on images generated for the forgotten label;
  ln 10 = 2.303 means the judge cannot tell which digit it sees, which is what it says of an image with no digit.
- p(forgotten) (forget_prob): mean p(forgotten label | x) on the same images (0.1 = chance = no digit).
- retained acc / worst retained acc (retained_acc / retained_min_acc): judge accuracy on images generated for the
  other nine labels (all / the worst label; `worst class` names that label and in how many chains it was the worst).
- forget test -ELBO (forget_test_nelbo; retained_test_nelbo in per_chain.csv): nats per real test image of the
  forgotten (other) labels, lower = better explained.
- relearn kK p: p(forgotten) after the relearn attack (ELBO training on K real train images of the forgotten
  label); the oracle, which never saw the label, shows how much K images teach from scratch.
"""


def cell(mean: float, low: float, high: float, places: int = 3) -> str:
    if pd.isna(low) or pd.isna(high):
        return f"{mean:.{places}f}"
    return f"{mean:.{places}f} [{low:.{places}f}, {high:.{places}f}]"


def _model_table(means: pd.DataFrame, worst: pd.Series, model: str, relearn: list[str],
                 targets: bool) -> str:
    rows = []
    for digit, group in means[means.model == model].groupby("digit", sort=False):
        m = group.set_index("metric")
        places = {"forget_test_nelbo": 1}
        row = {"digit": digit}
        for metric, title in COLUMNS.items():
            row[title] = cell(*m.loc[metric, ["mean", "low", "high"]], places.get(metric, 3))
            if metric == "retained_min_acc":
                row["worst class"] = worst[(digit, model)]
        for metric in relearn:
            row[f"relearn k{metric.split('_')[1][1:]} p"] = cell(*m.loc[metric, ["mean", "low", "high"]])
        if targets:
            row["targets H / p / acc"] = " / ".join(
                intervals.target_status(*m.loc[metric, ["low", "high"]], op, threshold)
                for metric, op, threshold in TARGETS)
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def _oracle_table(verdicts: pd.DataFrame, model: str) -> str:
    rows = []
    for digit, group in verdicts[verdicts.model == model].groupby("digit", sort=False):
        row = {"digit": digit}
        for r in group.itertuples():
            title = COLUMNS.get(r.metric, r.metric.replace("relearn_", "relearn ").replace("_forget_prob", " p"))
            row[title] = f"{r.difference:+.3f} [{r.low:+.3f}, {r.high:+.3f}] {r.verdict}"
        rows.append(row)
    return pd.DataFrame(rows).to_markdown(index=False)


def _judge_lines(judge: dict) -> list[str]:
    rows = [{"image": kind, "largest class probability": f"{out['max_class']:.3f}", "H (nats)": f"{out['entropy']:.3f}"}
            for kind, out in judge["no_digit"].items()]
    return ["## The judge on images with no digit", "",
            f"Test accuracy on real test digits: {judge['test_acc']:.3f}. Largest probability any class gets on any "
            "image (uniform: 0.100, target <= 0.15) and mean entropy (uniform: 2.303):", "",
            pd.DataFrame(rows).to_markdown(index=False), ""]


def _target_summary(means: pd.DataFrame) -> list[str]:
    sa = means[means.model == "selective_amnesia"]
    lines = ["## Targets for selective_amnesia", "",
             "Per digit, judged on the 95 % interval of the mean over chains: met (the whole interval on the good "
             "side), missed (all on the bad side), unclear (it straddles the threshold).", ""]
    for metric, op, threshold in TARGETS:
        status = {}
        for r in sa[sa.metric == metric].itertuples():
            status.setdefault(intervals.target_status(r.low, r.high, op, threshold), []).append(str(r.digit))
        said = "; ".join(f"{k} on {', '.join(v)}" for k, v in sorted(status.items()))
        lines.append(f"- {COLUMNS[metric]} {op} {threshold}: {said}")
    return [*lines, ""]


def report(cfg: Config, per_chain: pd.DataFrame, means: pd.DataFrame, verdicts: pd.DataFrame, judge: dict) -> str:
    relearn = sorted((m for m in means.metric.unique() if m.startswith("relearn_") and m.endswith("forget_prob")),
                     key=lambda m: int(m.split("_")[1][1:]))
    worst = intervals.worst_classes(per_chain)
    models = list(per_chain.model.unique())
    lines = [f"# Selective Amnesia on a conditional VAE: forget each of {list(cfg.forget)} ({cfg.data.name})", "",
             f"Every number: the mean over {cfg.chains} independent chains [its 95 % percentile bootstrap interval, "
             "unlearning.stats]. Chain i: an original cVAE from its own initialisation, each method's forgetting of "
             "it, and a retrain without the digit (oracle) from an independent initialisation. The relearn attack "
             f"runs on the first {cfg.relearn.chains} chains.", "",
             *_judge_lines(judge)]
    for model in ["selective_amnesia", *[m for m in models if m != "selective_amnesia"]]:
        if model in models:
            lines += [f"## {model}, per forgotten digit", "",
                      _model_table(means, worst, model, relearn, model == "selective_amnesia"), ""]
    for model in cfg.methods:
        lines += [f"## {model} against the oracle", "",
                  "mean(method) - mean(oracle) over chains [95 % permutation interval] and the verdict against the "
                  f"tolerance ({', '.join(f'{k} {v}' for k, v in vars(cfg.evaluate.tolerance).items())}).", "",
                  _oracle_table(verdicts, model), ""]
    if "selective_amnesia" in models:
        lines += _target_summary(means)
    return "\n".join([*lines, "## Metrics", "", GLOSSARY])
