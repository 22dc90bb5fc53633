"""evaluate: accuracy of every checkpoint on the held-out points of each set, per seed.

Writes metrics/per_seed.csv, metrics/summary.json (for `dvc metrics show`) and metrics/report.md."""
from __future__ import annotations

import pandas as pd

from stages.base.common import stage
from stages.layered.common import METRICS, load_config, load_model, load_points
from unlearning.core import io
from unlearning.layered import metrics, phases
from unlearning.layered.report import report
from unlearning.metrics import finite_or_none


def rounded(tree):
    """Nested dicts of floats -> JSON-safe (NaN -> null, 6 decimals)."""
    if isinstance(tree, dict):
        return {k: rounded(v) for k, v in tree.items()}
    return tree if isinstance(tree, bool) else finite_or_none(tree)


@stage
def main() -> None:
    cfg = load_config()
    test = load_points(cfg, "test")
    rows = []
    for name in phases.PHASES:
        rows += metrics.per_seed_rows(name, load_model(cfg, name), test, cfg.seeds)
    per_seed = pd.DataFrame(rows)
    summary = metrics.summarise(per_seed)
    table = metrics.table1(per_seed)
    verdict = metrics.verdict(per_seed)
    with io.atomic_path(METRICS / "per_seed.csv") as tmp:
        per_seed.to_csv(tmp, index=False, float_format="%.6g")
    io.write_json(METRICS / "summary.json", rounded({"table1": table, "verdict": verdict, "checkpoints": summary}))
    io.write_text(METRICS / "report.md", report(cfg, summary, table, verdict))


if __name__ == "__main__":
    main()
