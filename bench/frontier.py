"""Budget frontier: how much forgetting each method buys per unit of compute.

Each overlay (overlays/budget_1_20.yaml, budget_1_10.yaml, budget_1_5.yaml: every trained method at about that
share of the retrain's training compute) runs as a temporary DVC project, exactly as bench/pipeline.py builds one
(its make_project), with the optional `--set` overrides on top (another class pair). From each run it keeps every
method's forgetting-score share of the ceiling and its compute share (metrics/summary.json: images passed forward
and backward, over the retrain's) and its wall-clock speed-up over the retrain (runs/*.json, as eval/timing.md
computes it), and writes <out>.md (method x budget table), <out>.png (share of the ceiling against the speed-up in
compute, log x, one line per method, retrain_short drawn prominently) and <out>.json (the numbers,
so --replot redraws without rerunning).

Run: python bench/frontier.py overlays/budget_1_20.yaml overlays/budget_1_10.yaml overlays/budget_1_5.yaml
         [--set scenario.forget=1 scenario.learn=7 'scenario.pretrain_classes=[0,1,2,3,4,5,6,8,9]']
         [--out docs/frontier_1_7]
     python bench/frontier.py --replot docs/frontier.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline  # noqa: E402  (bench/pipeline.py; it puts src/ on the path)

from unlearning.plots import model_styles  # noqa: E402
from unlearning.timing import speedups  # noqa: E402

BASELINE = "retrain_short"


def budget_label(path: Path) -> str:
    """overlays/budget_1_20.yaml -> '1/20' (any other overlay: its file name)."""
    return path.stem.removeprefix("budget_").replace("_", "/")


def collect(project: Path) -> dict[str, dict]:
    """A finished project -> {method: {"share": ceiling_share, "share_low"/"share_high": the ends of its score's
    95 % interval over the ceiling's point, "speedup": mean wall-clock speed-up or None, "compute_share": its
    compute over the retrain's or None}}."""
    summary = json.loads((project / "metrics" / "summary.json").read_text())
    runs = {path.stem: {int(seed.removeprefix("seed")): run for seed, run in json.loads(path.read_text()).items()}
            for path in (project / "runs").glob("*.json")}
    methods = [m for m in summary if m in runs and m not in ("oracle", "oracle_b")]
    speed = speedups(runs, methods)
    ceiling = summary.get("oracle_b", {}).get("forgetting_score")

    def share_of(m: str, key: str) -> float | None:  # an end of the score's 95 % interval, as a share
        value = summary[m].get(key)
        return value / ceiling if value is not None and ceiling else None

    return {m: {"share": summary[m]["ceiling_share"],
                "share_low": share_of(m, "forgetting_low"), "share_high": share_of(m, "forgetting_high"),
                "speedup": speed[m].mean if m in speed else None,
                "compute_share": summary[m].get("compute_share")} for m in summary
            if m not in ("oracle", "oracle_b") and "ceiling_share" in summary[m]}


def measure(overlay: Path, sets: list[str]) -> dict[str, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        project = pipeline.make_project(Path(tmp), [overlay], sets)
        pipeline.run(project, sys.executable, "-m", "dvc", "repro", "-q")
        return collect(project)


def compute_speedup(r: dict) -> float | None:
    """The retrain's compute over the method's (unlearning.compute: images passed forward and backward), the
    frontier's x-axis: unlike wall-clock speed-ups it does not move with the machine's load while the runs go."""
    share = r.get("compute_share")
    return 1 / share if share else None


def table(results: dict[str, dict[str, dict]]) -> str:
    """results: budget -> method -> {"share", "speedup"} -> a markdown table, one row per method, sorted by its
    share at the largest budget; a cell is 'share of the ceiling (speed-up in compute / in wall-clock time)'."""
    budgets = list(results)
    methods = sorted({m for r in results.values() for m in r},
                     key=lambda m: (m != BASELINE, -results[budgets[-1]].get(m, {}).get("share", -1), m))

    def cell(r: dict | None) -> str:
        if r is None:
            return "—"
        speed = [f"{x:.1f}x" for x in (compute_speedup(r), r["speedup"]) if x is not None]
        interval = f" [{r['share_low']:.2f}, {r['share_high']:.2f}]" if r.get("share_low") is not None else ""
        return f"{r['share']:.2f}{interval}" + (f" ({' / '.join(speed)})" if speed else "")

    lines = ["| method | " + " | ".join(f"{b} of the retrain" for b in budgets) + " |",
             "|---|" + "---|" * len(budgets)]
    for m in methods:
        name = f"**`{m}`**" if m == BASELINE else f"`{m}`"
        lines.append(f"| {name} | " + " | ".join(cell(results[b].get(m)) for b in budgets) + " |")
    return "\n".join(lines) + "\n"


def figure(results: dict[str, dict[str, dict]], path: Path, title: str = "") -> None:
    """Share of the ceiling against the speed-up in compute (log x): one line per method through its budgets;
    methods without a compute count are left out; retrain_short thick and black, the line to beat."""
    fig, ax = plt.subplots(figsize=(10, 5.5))
    methods = sorted({m for r in results.values() for m in r})
    styles = model_styles(methods)  # the colour and marker each method has in the pipeline's figures
    for m in methods:
        points = sorted((compute_speedup(r[m]), r[m]["share"]) for r in results.values()
                        if m in r and compute_speedup(r[m]) is not None)
        if not points:
            continue
        x, y = zip(*points)
        if m == BASELINE:
            ax.plot(x, y, "k-o", lw=3, ms=7, zorder=10, label=f"{m} (retrain cut short)")
        else:
            ax.plot(x, y, "-", lw=1.2, ms=6, alpha=0.85, label=m, color=styles[m]["color"],
                    marker=styles[m]["marker"])
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    ax.set_xticks([t for t in (2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100) if low <= t <= high])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("speed-up over the retrain in compute (x, log scale)")
    ax.set_ylabel("forgetting score, share of the ceiling")
    ax.set_title(title or "Budget frontier: " + ", ".join(results) + " of the retrain's compute")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the lines, never over them
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(results: dict[str, dict[str, dict]], out: Path, note: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"note": note, "results": results}, indent=1) + "\n")
    figure(results, out.with_suffix(".png"))
    out.with_suffix(".md").write_text(
        "# Budget frontier\n\nForgetting-score share of the ceiling (speed-up over the retrain: in compute / in "
        "wall-clock time, timed alone) of every method at "
        "each budget, a share of the retrain's training compute; `retrain_short` is a retrain from scratch cut to "
        f"that budget, the baseline a method must beat. {note}\n\n" + table(results)
        + f"\n![frontier]({out.with_suffix('.png').name})\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("overlays", nargs="*", type=Path, help="one run per overlay, e.g. overlays/budget_*.yaml")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="dotted params overrides")
    parser.add_argument("--out", type=Path, default=Path("docs/frontier"), help="writes OUT.md, OUT.png, OUT.json")
    parser.add_argument("--replot", type=Path, help="redraw OUT.md/.png from a saved .json, running nothing")
    args = parser.parse_args()
    if args.replot:
        saved = json.loads(args.replot.read_text())
        write(saved["results"], args.out, saved["note"])
        return
    results, total = {}, 0.0
    variant = " ".join(args.set) or "the default request (params.yaml)"
    for path in args.overlays:
        start = time.perf_counter()
        results[budget_label(path)] = measure(path, args.set)
        total += time.perf_counter() - start
        print(f"{path}: {time.perf_counter() - start:.0f} s", flush=True)
        # Written after every run, so an interrupted frontier keeps the budgets it finished.
        write(results, args.out, f"Variant: {variant}; {len(results)} runs took {total / 60:.1f} min.")
    print(f"wrote {args.out}.md / .png / .json ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
