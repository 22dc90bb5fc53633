"""`python src/pr_comment.py [--base BRANCH] [--out build/pr_comment.md]`: the Markdown a reviewer reads on a pull
request (`make report`; CI posts it with CML). Three parts: the headline table of this workspace (at most 8 columns,
from metrics/models/<model>.json), `dvc metrics diff --md <base>` (DVC lists only the metrics that changed) and the
key figures as images, linked by paths relative to the comment file."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MODELS = Path("metrics/models")
FIGURES = ("score", "differences", "relearn", "probe")  # plots/images/<name>.png, most telling first
COLUMNS = (("forgetting_score", "forgetting"), ("ceiling_share", "of top"), ("forget_acc", "forget"),
           ("test_acc", "test"), ("different", "different"), ("equivalent", "equivalent"), ("hiding", "hiding"))


def cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def headline_table(models: dict[str, dict]) -> str:
    """Model plus 7 numbers; highest forgetting score first, the retrain last."""
    def rank(item):
        name, m = item
        return (name in ("oracle", "oracle_b"), name == "oracle", -(m.get("forgetting_score") or -1.0), name)

    lines = ["| model | " + " | ".join(title for _, title in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, m in sorted(models.items(), key=rank):
        shown = {"oracle": "retrain (reference)", "oracle_b": "exact retrain"}.get(name, name)
        lines.append(f"| {shown} | " + " | ".join(cell(m.get(key)) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def metrics_diff(base: str) -> str:
    """DVC's own Markdown diff against `base`: changed metrics only; a one-line note when nothing changed."""
    result = subprocess.run([sys.executable, "-m", "dvc", "metrics", "diff", "--md", base], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: dvc metrics diff --md {base}: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout.strip() or f"No metric differs from `{base}`."


def comment(base: str, out: Path) -> str:
    if not MODELS.is_dir():
        raise SystemExit(f"error: {MODELS}: no metrics: run `dvc repro` (or `dvc pull`) first")
    models = {path.stem: json.loads(path.read_text()) for path in sorted(MODELS.glob("*.json"))}
    figures = [Path("plots/images") / f"{name}.png" for name in FIGURES]
    images = [f"![{path.stem}]({os.path.relpath(path, out.parent)})" for path in figures if path.is_file()]
    return "\n\n".join([
        "## Unlearning lab: results of this branch",
        headline_table(models),
        "forgetting: per-example forgetting score; of top: its share of the exact retrain's; forget/test: accuracy; "
        "different / equivalent: metrics shown beyond / within their tolerance of the retrains'; hiding: 1 = the "
        "probe still reads the class.",
        f"### Metrics that changed against `{base}`",
        metrics_diff(base),
        "### Figures",
        "\n".join(images) or "No figures: run the plot stage.",
    ]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the branch or commit to compare with")
    parser.add_argument("--out", type=Path, default=Path("build/pr_comment.md"))
    args = parser.parse_args()
    text = comment(args.base, args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
