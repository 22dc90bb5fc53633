"""evaluate: accuracy of every checkpoint on the held-out points of each set, per chain; every method judged
against the oracle's distribution over chains (unlearning.layered.judging).

Writes metrics/per_seed.csv (a row per checkpoint and chain), metrics/summary.json (a row per number in
`dvc metrics diff --all --targets metrics/summary.json`) and metrics/report.md."""
from __future__ import annotations

import math

import pandas as pd

from stages.base.common import stage
from stages.layered.common import METRICS, load_config, load_model, load_points
from unlearning.core import io
from unlearning.layered import judging, metrics, phases
from unlearning.layered.report import report
from unlearning.stats import Interval


def jsonable(tree):
    """Intervals -> {mean, low, high}; floats rounded to 6 decimals, NaN and ±inf -> null; the rest as is."""
    if isinstance(tree, Interval):
        return jsonable({"mean": tree.mean, "low": tree.low, "high": tree.high})
    if isinstance(tree, dict):
        return {k: jsonable(v) for k, v in tree.items()}
    if isinstance(tree, float):
        return round(tree, 6) if math.isfinite(tree) else None
    return tree


@stage
def main() -> None:
    cfg = load_config()
    test = load_points(cfg, "test")
    rows = []
    for name in phases.PHASES:
        rows += metrics.per_chain_rows(name, load_model(cfg, name), test, cfg.chains)
    per_chain = pd.DataFrame(rows)
    summary = metrics.summarise(per_chain)
    table = metrics.table1(summary)
    claim = metrics.claim(per_chain)
    judged = {ref: judging.judge(per_chain, cfg.audit.tolerance, ref) for ref in judging.REFERENCES}
    with io.atomic_path(METRICS / "per_seed.csv") as tmp:
        per_chain.to_csv(tmp, index=False, float_format="%.6g")
    io.write_json(METRICS / "summary.json", jsonable({"claim": claim, **{f"vs_{ref}": judging.summary(j)
                                                                         for ref, j in judged.items()},
                                                      "table1": table, "checkpoints": summary}))
    io.write_text(METRICS / "report.md", report(cfg, summary, table, claim, judged))


if __name__ == "__main__":
    main()
