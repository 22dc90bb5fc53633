"""Matplotlib figures of the verdicts (Agg backend, PNG): the forgetting score with its interval, every metric's
difference to the retrains, the two scatters of models and the per-example epsilons. Inputs are the evaluate stage's
outputs: the flat summary {model: {metric: mean over chains}} and the audit records (intervals, verdicts, epsilons).
The curves and confusion matrices are in unlearning.plots_curves; both share the model styles below."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

REFERENCE, EXACT = "oracle", "oracle_b"  # the retrains every model is judged against; the exact retrain (ceiling)
# 20 colours that stay apart on white (tab10, then ten darker hues: no pastel twins) and 8 marker shapes. Model i
# (alphabetical among the non-reference models) gets colour i % 20 and shape i % 8: neighbours differ in both, and
# no two of up to 40 models share both. .dvc/plots/*.json hold the same lists, so a model looks alike on the page.
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f", "#0b3d91", "#8b0000", "#006400", "#b35900", "#4b0082", "#5c3317", "#c71585", "#008080",
           "#6b6b00", "#2f4f4f")
MARKERS = ("o", "s", "^", "D", "v", "P", ">", "<")
REFERENCE_STYLE = {REFERENCE: dict(marker="*", ms=16, color="black", zorder=6, label="retrain (reference)"),
                   EXACT: dict(marker="*", ms=13, color="seagreen", zorder=5, label="exact retrain (ceiling)")}
VERDICT_COLOUR = {"equivalent": "seagreen", "different": "crimson", "inconclusive": "dimgrey", "n/a": "silver"}


def model_styles(names) -> dict[str, dict]:
    """name -> matplotlib style (color, marker, ms, label); the same model gets the same style in every figure
    of one run whatever subset a figure shows, as long as the figure is given every model's name."""
    others = sorted(n for n in dict.fromkeys(names) if n not in REFERENCE_STYLE)
    styles = {n: dict(color=COLOURS[i % len(COLOURS)], marker=MARKERS[i % len(MARKERS)], ms=7, zorder=3, label=n)
              for i, n in enumerate(others)}
    return {**styles, **{n: dict(s) for n, s in REFERENCE_STYLE.items()}}


def save(fig, path, rect=(0, 0, 1, 1)) -> None:
    """Laid out within rect (the rest is left to a figure legend), cropped to what was drawn, legends included."""
    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=110, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)


def placeholder(text: str, path) -> None:
    """A small image saying why a figure has nothing to draw (the stage's outputs always exist)."""
    fig, ax = plt.subplots(figsize=(4, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center")
    save(fig, path)


def _bar(value: float, low: float | None, high: float | None) -> list[list[float]]:
    """Error bar [[below], [above]] of an interval around value; a missing end draws nothing on that side."""
    return [[0.0 if low is None else max(0.0, value - low)], [0.0 if high is None else max(0.0, high - value)]]


def ranked(records: list[dict]) -> list[dict]:
    """Highest forgetting score first, models without one after, the exact retrain last (as in metrics/report.md);
    the retrains (the reference) left out."""
    def key(r):
        score = (r.get("forgetting_score") or {}).get("mean")
        return (r["model"] == EXACT, score is None, -(score or 0.0), r["model"])

    return sorted((r for r in records if r["model"] != REFERENCE), key=key)


def verdict_of(record: dict) -> str:
    """One word per model for the score figures: passes, hides (the probe still reads the class), over-forgets
    (forget accuracy below the retrains'), or fails (any other metric not shown equivalent)."""
    return "passes" if record.get("passes") else "hides" if record.get("hiding") else \
        "over-forgets" if record.get("over_forget") else "fails"


SCORE_COLOUR = {"passes": "seagreen", "hides": "darkorange", "over-forgets": "purple", "fails": "black"}


def score_figure(records: list[dict], ceiling: dict | None, path) -> None:
    """The headline: every model's forgetting score with its 95 % bootstrap interval, highest first, coloured by
    its verdict, against the ceiling (the exact retrain's score: line, its interval shaded); each row's numbers and
    share of the ceiling written at the right."""
    scored = [r for r in ranked(records) if r.get("forgetting_score")]
    fig, ax = plt.subplots(figsize=(8.5, 0.3 * len(scored) + 1.6))
    if ceiling is not None and ceiling.get("low") is not None:
        ax.axvspan(ceiling["low"], ceiling["high"], color="seagreen", alpha=0.18, lw=0)
        ax.axvline(ceiling["mean"], color="seagreen", lw=1.5, ls="--", label="ceiling: exact retrain [95% CI]")
    shown = set()
    for y, record in enumerate(scored):
        s, verdict = record["forgetting_score"], verdict_of(record)
        ax.errorbar(s["mean"], y, xerr=_bar(s["mean"], s["low"], s["high"]), fmt="*" if record["model"] == EXACT
                    else "o", ms=9 if record["model"] == EXACT else 5, color=SCORE_COLOUR[verdict], capsize=3,
                    label=None if verdict in shown else verdict)
        shown.add(verdict)
        share = record.get("ceiling_share")
        ax.annotate(f"{s['mean']:.3f} [{s['low']:.3f}, {s['high']:.3f}]" + ("" if share is None else
                    f"  {share:4.0%}"), (1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=7,
                    family="monospace")
    ax.set_yticks(range(len(scored)), ["exact retrain" if r["model"] == EXACT else r["model"] for r in scored],
                  fontsize=8)
    ax.set_ylim(len(scored) - 0.5, -0.5)
    ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
    ax.set(xlabel="per-example forgetting score (higher = closer to retraining)",
           title="Forgetting score [95 % bootstrap CI], share of the ceiling")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="center", title="verdict", title_fontsize=7)  # the empty middle of the axis
    save(fig, path)


def difference_figure(records: list[dict], tolerances: dict[str, float], path) -> None:
    """One panel per metric: every model's difference of means to the retrains with its 95 % interval (the
    quantity the verdict tests), coloured by verdict, against the tolerance zone (shaded); models in the score
    figure's order."""
    metrics = list(next(r for r in records if r["model"] == REFERENCE)["metrics"])
    models = ranked(records)
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, (0.2 * len(models) + 1.2) * rows), squeeze=False,
                             sharey=True)
    for ax, metric in zip(axes.flat, metrics):
        tol = tolerances[metric]
        ax.axvspan(-tol, tol, color="seagreen", alpha=0.15, lw=0)
        ax.axvline(0, color="grey", lw=0.8)
        for y, record in enumerate(models):
            m = record["metrics"].get(metric, {})
            d = m.get("difference")
            if d is None or d["mean"] is None:
                continue
            low = d["low"] if d["low"] is not None else -1.0  # an unbounded end (too few chains): the axis edge
            high = d["high"] if d["high"] is not None else 1.0
            ax.errorbar(d["mean"], y, xerr=_bar(d["mean"], low, high), fmt="o", ms=4, capsize=2,
                        color=VERDICT_COLOUR[m["verdict"]])
        ax.set_title(f"{metric} (±{tol:g})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, axis="x")
    for ax in axes.flat[len(metrics):]:
        ax.axis("off")
    axes[0][0].set_yticks(range(len(models)), ["exact retrain" if r["model"] == EXACT else r["model"]
                                               for r in models])
    axes[0][0].set_ylim(len(models) - 0.5, -0.5)
    fig.suptitle("Model minus retrains [95 % CI] against the tolerance (shaded): green equivalent, red different, "
                 "grey inconclusive", fontsize=10)
    save(fig, path, rect=(0, 0, 1, 0.98))


def _crowded(points: dict[str, tuple[float, float]], width: float = 0.1) -> tuple[float, float, float, float] | None:
    """The zoom window (x0, x1, y0, y1) around the models at x <= width (forget accuracy near 0, where most
    methods sit), outliers in y left out (beyond 1.5 interquartile ranges) unless they are the retrains, or None
    when fewer than 3 are there."""
    near = {n: p for n, p in points.items() if p[0] <= width}
    if len(near) < 3:
        return None
    q1, q3 = np.percentile([y for _, y in near.values()], [25, 75])
    kept = np.array([p for n, p in near.items() if n in REFERENCE_STYLE or q1 - 1.5 * (q3 - q1) <= p[1] <= q3 + 1.5 *
                     (q3 - q1)])
    (x0, y0), (x1, y1) = kept.min(0), kept.max(0)
    pad_x, pad_y = max(0.002, 0.06 * (x1 - x0)), max(0.005, 0.06 * (y1 - y0))
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Label heights (axes fraction) as near the wanted ones (sorted high to low) as they can be with `gap`
    between neighbours: overlapping neighbours are pushed apart, half each, until none overlaps."""
    pos = list(wanted)
    for _ in range(200):
        moved = False
        for j in range(1, len(pos)):
            overlap = gap - (pos[j - 1] - pos[j])
            if overlap > 1e-6:
                pos[j - 1] += overlap / 2
                pos[j] -= overlap / 2
                moved = True
        if not moved:
            break
    return pos


def _names(ax, points: dict[str, tuple[float, float]], window, styles: dict, gap: float = 0.034) -> None:
    """Each model's name right of its point inside the enlarged window; names whose points are in one column
    (a label's width) are spread apart vertically and joined to their point by a thin line when moved."""
    x0, x1, y0, y1 = window
    inside = sorted(((n, (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)) for n, (x, y) in points.items()
                     if x0 <= x <= x1 and y0 <= y <= y1), key=lambda p: -p[2])
    columns: dict[int, list] = {}
    for point in inside:
        columns.setdefault(int(point[1] // 0.25), []).append(point)
    for column in columns.values():
        for (name, fx, fy), ty in zip(column, _spread([p[2] for p in column], gap)):
            ax.annotate(styles[name]["label"], (fx, fy), xytext=(fx + 0.03, ty), xycoords="axes fraction",
                        textcoords="axes fraction", fontsize=6.5, va="center", color=styles[name]["color"],
                        zorder=8, bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.75),
                        arrowprops=dict(arrowstyle="-", lw=0.4, color="grey", shrinkA=0, shrinkB=3)
                        if abs(ty - fy) > 0.01 else None)


def scatter_figure(summary: dict, intervals: dict, x: str, y: str, labels: tuple[str, str, str], path,
                   band: tuple[float, float] | None = None, band_label: str = "", full_y: bool = False) -> None:
    """Models as points (mean over chains, 95 % intervals from audit.json: intervals[model][metric] = {low, high})
    with a colour and a shape each, and its name; left the whole range, right the crowded corner near forget
    accuracy 0 enlarged. The original → retrain segment (dashed) is the path a model that truly forgets would take; `band`: the
    retrains' 95 % interval of y (shaded)."""
    points = {n: (m[x], m[y]) for n, m in summary.items() if m.get(x) is not None and m.get(y) is not None}
    styles = model_styles(summary)
    window = _crowded(points)
    fig, axes = plt.subplots(1, 2 if window else 1, figsize=(12.5 if window else 7.5, max(4.8, 0.2 * len(points))),
                             squeeze=False)
    for panel, ax in enumerate(axes[0]):
        if band is not None and None not in band:
            ax.axhspan(*band, color="crimson", alpha=0.13, lw=0, label=band_label)
        ends = [points.get(n) for n in ("original", REFERENCE)]
        if None not in ends:
            ax.plot(*zip(*ends), color="grey", lw=1, ls="--", label="original → retrain")
        for name, (px, py) in points.items():
            spread = intervals.get(name, {})
            ax.errorbar(px, py, xerr=_bar(px, *(spread.get(x, {}).get(k) for k in ("low", "high"))),
                        yerr=_bar(py, *(spread.get(y, {}).get(k) for k in ("low", "high"))), capsize=2,
                        elinewidth=0.8, alpha=0.9, mec="white", mew=0.6, ls="none", **styles[name])
        ax.grid(alpha=0.3)
        ax.set(xlabel=labels[0], ylabel=labels[1])
        if panel == 0:
            ax.set_title(labels[2])
            if full_y:
                ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(-0.02, 1.02)
            if window:
                ax.add_patch(Rectangle((window[0], window[2]), window[1] - window[0], window[3] - window[2],
                                       fill=False, ec="black", lw=0.8, ls=":"))
            outside = {n: p for n, p in points.items() if not window or not (
                window[0] <= p[0] <= window[1] and window[2] <= p[1] <= window[3])}
            _names(ax, outside, (*ax.get_xlim(), *ax.get_ylim()), styles)  # the few far from the crowd
        else:
            ax.set(xlim=window[:2], ylim=window[2:], title="the dotted box enlarged")
            _names(ax, points, window, styles)
    handles, names = axes[0][0].get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda i: (names[i] in [s["label"] for s in REFERENCE_STYLE.values()],
                                                     handles[i].__class__.__name__ != "ErrorbarContainer", names[i]))
    handles, names = [handles[i] for i in order], [names[i] for i in order]  # methods alphabetically, then the rest
    right = 0.87 if window else 0.8
    fig.legend(handles, names, fontsize=7, loc="center left", bbox_to_anchor=(right, 0.5), ncol=1 + (len(names) > 30))
    save(fig, path, rect=(0, 0, right, 1))


def tradeoff_figure(summary: dict, intervals: dict, path) -> None:
    scatter_figure(summary, intervals, "forget_acc", "retain_acc", (
        "forget accuracy (lower = more forgotten)", "retain accuracy",
        "Forgetting vs retaining (mean [95 % CI] over chains)"), path)


def probe_figure(summary: dict, intervals: dict, band: tuple[float, float] | None, path) -> None:
    """Probe recall on frozen features (y) vs output forget accuracy (x): a model that only hides the class sits
    above the retrains' probe band (shaded) at the left (output forgotten, features not)."""
    scatter_figure(summary, intervals, "forget_acc", "probe_recall", (
        "output forget accuracy", "probe recall of the forgotten class (frozen features)",
        "Output vs representation (hiding = top left, above the band)"), path, band=band,
        band_label="retrains' mean probe recall [95 % CI]", full_y=True)


def epsilon_figure(records: list[dict], path, shown: float = 4.0) -> None:
    """Per method, the histogram of its forget examples' epsilons (bins of 0.5, the score's buckets); epsilons
    at or above `shown` (up to the cap, 50: perfectly separated) are gathered in the last bar."""
    methods = [r for r in records if r.get("epsilons")]
    if not methods:
        return placeholder("no forgetting scores", path)
    cols = min(4, len(methods))
    rows = -(-len(methods) // cols)
    bins = np.arange(0, shown + 1.0, 0.5)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.2 * rows), squeeze=False, sharex=True)
    for ax, record in zip(axes.flat, methods):
        eps = np.clip(np.asarray(record["epsilons"], dtype=float), 0, shown + 0.25)
        ax.hist(eps, bins=bins, color="steelblue")
        score = record["forgetting_score"]["mean"]
        ax.set_title(f"{record['model']} (score {score:.3f})", fontsize=8)
    for ax in axes.flat[len(methods):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel(f"epsilon (last bar: >= {shown:g})", fontsize=8)
    fig.suptitle("Per-example epsilon: how well a threshold test tells the method's models from the retrains",
                 fontsize=9)
    save(fig, path, rect=(0, 0, 1, 0.97))
