"""The suite report: verdicts about methods over a suite of forget requests, not about one draw of one request.

Per method: its forgetting score's share of each request's ceiling and the mean over requests; its rank among the
methods with a 95 % interval over requests and chains (each of RANK_DRAWS draws resamples the requests with
replacement and, within each drawn request, takes one bootstrap resample of every model's score, the draws that
evaluate wrote to score_draws.csv; the rank is averaged over the drawn requests); and on how many requests it
passes, hides or over-forgets. Stability: the Spearman correlation of the methods' scores between every pair of
requests (1: the same order everywhere)."""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from unlearning.core import io, rng  # noqa: E402

RANK_DRAWS = 2000
RETRAINS = ("oracle", "oracle_b")


def load(requests: list[str], results: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """-> one row per (request, model) of its summary.json entry, and request -> its score draws [model x draw]."""
    rows, draws = [], {}
    for request in requests:
        folder = results / request
        summary = io.read_json(folder / "summary.json", f"run `dvc repro suite/dvc.yaml` (request {request})")
        rows += [{"request": request, "model": model, **entry} for model, entry in summary.items()]
        frame = pd.read_csv(folder / "score_draws.csv")
        draws[request] = frame.pivot(index="model", columns="draw", values="score")
    return pd.DataFrame(rows), draws


def ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """scores [method x request] -> rank within each request, 1 = highest score (ties share the mean rank)."""
    return scores.rank(ascending=False, method="average")


def rank_intervals(draws: dict[str, pd.DataFrame], methods: list[str], generator: torch.Generator
                   ) -> pd.DataFrame:
    """method -> 2.5 % / 97.5 % quantiles of its mean rank over requests and chains."""
    requests = list(draws)
    n_draws = min(frame.shape[1] for frame in draws.values())
    # [request, method, draw]: the bootstrap resamples of each method's score (NaN where a method has none)
    cube = np.stack([draws[r].reindex(methods).to_numpy()[:, :n_draws] for r in requests])
    pick_request = torch.randint(len(requests), (RANK_DRAWS, len(requests)), generator=generator).numpy()
    pick_draw = torch.randint(n_draws, (RANK_DRAWS, len(requests)), generator=generator).numpy()
    means = np.empty((RANK_DRAWS, len(methods)))
    for b in range(RANK_DRAWS):
        scores = cube[pick_request[b], :, pick_draw[b]]  # [requests, methods]
        means[b] = pd.DataFrame(scores.T).rank(ascending=False, method="average").mean(axis=1).to_numpy()
    low, high = np.nanquantile(means, [0.025, 0.975], axis=0)
    return pd.DataFrame({"rank_low": low, "rank_high": high}, index=methods)


def spearman(scores: pd.DataFrame) -> dict[str, float]:
    """'a vs b' -> the Spearman correlation of the methods' scores on requests a and b."""
    return {f"{a} vs {b}": float(scores[a].corr(scores[b], method="spearman"))
            for a, b in combinations(scores.columns, 2)}


def table(entries: pd.DataFrame, draws: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """-> the per-method table (sorted by mean rank) and the per-request ranks [method x request]."""
    methods = entries[~entries.model.isin(["oracle"])]
    share = methods.pivot(index="model", columns="request", values="ceiling_share")
    score = methods.pivot(index="model", columns="request", values="forgetting_score")
    candidates = [m for m in score.index if m != "oracle_b"]
    per_request = ranks(score.loc[candidates])
    out = pd.DataFrame({"share_mean": share.loc[candidates].mean(axis=1), "rank_mean": per_request.mean(axis=1),
                        "rank_min": per_request.min(axis=1), "rank_max": per_request.max(axis=1)})
    out = out.join(rank_intervals(draws, candidates, rng.generator(0, "suite ranks")))
    for flag in ("passes", "hiding", "over_forget"):
        counts = methods.pivot(index="model", columns="request", values=flag).loc[candidates]
        out[flag] = counts.fillna(0).sum(axis=1).astype(int)
    out = out.join(share.loc[candidates].add_prefix("share "))
    return out.sort_values("rank_mean"), per_request


def rank_figure(per_request: pd.DataFrame, path: Path) -> None:
    """One line per method across the requests: its rank on each (1 = best score)."""
    order = per_request.mean(axis=1).sort_values().index
    fig, ax = plt.subplots(figsize=(1.3 * per_request.shape[1] + 3.5, 0.25 * len(order) + 2))
    colours = matplotlib.colormaps["tab20"]
    for i, method in enumerate(order):
        ax.plot(range(per_request.shape[1]), per_request.loc[method], marker="o", lw=1.2,
                color=colours(i % 20), label=method)
    ax.set_xticks(range(per_request.shape[1]), per_request.columns, rotation=20, fontsize=8)
    ax.invert_yaxis()
    ax.set(ylabel="rank by forgetting score (1 = best)", title="Each method's rank on each forget request")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(summary: pd.DataFrame, requests: list[str], correlations: dict[str, float]) -> str:
    lines = ["# Suite of forget requests", "",
             f"{len(requests)} requests: {', '.join(requests)}. Per method: the mean share of each request's "
             "ceiling (the exact retrain's forgetting score), the mean rank by forgetting score with its 95 % "
             "interval over requests and chains, its best and worst rank over the requests (a stable method's "
             "are close), on how many requests it passes / hides / over-forgets, and its share per request.", "",
             "| method | mean share | mean rank [95% CI] | ranks | passes | hides | over-forgets | "
             + " | ".join(requests) + " |", "|---" * (7 + len(requests)) + "|"]
    n = len(requests)
    for method, row in summary.iterrows():
        lines.append(f"| {method} | {row.share_mean:.0%} | {row.rank_mean:.1f} [{row.rank_low:.1f}, "
                     f"{row.rank_high:.1f}] | {row.rank_min:g}-{row.rank_max:g} | {row.passes:.0f}/{n} | {row.hiding:.0f}/{n} | {row.over_forget:.0f}/{n} | "
                     + " | ".join(f"{row[f'share {r}']:.0%}" if row[f"share {r}"] == row[f"share {r}"] else "—"
                                  for r in requests) + " |")
    values = list(correlations.values())
    lines += ["", f"Stability: Spearman correlation of the methods' scores between two requests, median "
              f"{np.median(values):.2f} (from {min(values):.2f} to {max(values):.2f} over the "
              f"{len(values)} pairs); 1 would be the same order on every request.", ""]
    return "\n".join(lines)


def write_report(requests: dict[str, str], results: Path) -> None:
    names = list(requests)
    entries, draws = load(names, results)
    summary, per_request = table(entries, draws)
    score = entries[entries.model != "oracle"].pivot(index="model", columns="request", values="forgetting_score")
    correlations = spearman(score.drop(index="oracle_b", errors="ignore")[names])
    io.write_text(Path("report.md"), markdown(summary, names, correlations))
    numbers = {method: {k: (None if v != v else round(float(v), 6)) for k, v in row.items()}
               for method, row in summary.iterrows()}
    io.write_text(Path("summary.json"), json.dumps({"methods": numbers, "spearman": correlations}, indent=1))
    with io.atomic_path(Path("ranks.png")) as tmp:
        rank_figure(per_request[names], tmp)
