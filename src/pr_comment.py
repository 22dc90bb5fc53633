"""`python src/pr_comment.py [--base BRANCH] [--out build/pr_comment.md]`: the Markdown a reviewer reads on a pull
request (`make report`; CI posts it with CML). Four parts, each at most 120 columns where the names allow:
1. the parameters changed against the base (`dvc params diff --md <base>`, or one line saying none did);
2. the verdict table of this workspace with intervals (metrics/audit.json, as in metrics/report.md);
3. the metrics that moved beyond their interval against the base's committed metrics/audit.json (the rule below),
   the verdicts that changed, the models added or removed; changes within the interval are one count line;
4. the key figures as images, linked by paths relative to the comment file."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

# the one-letter codes of the different column, as in metrics/report.md
from unlearning.audit import EXACT, REFERENCE, code

METRICS = Path("metrics")
FIGURES = ("score", "differences", "relearn", "probe")  # plots/images/<name>.png, most telling first
SHOWN = {REFERENCE: "retrain (reference)", EXACT: "exact retrain"}
RULE = ("Rule: a model's metric is listed when its new mean lies outside the base's 95 % interval of that metric "
        "(the bootstrap interval over chains in metrics/audit.json; for the forgetting score, its bootstrap "
        "interval); *disjoint*: the two intervals no longer overlap either.")


def fill(text: str, indent: str = "") -> str:
    """A paragraph wrapped at 118 columns, names kept whole (Markdown joins the lines)."""
    return textwrap.fill(text, 118, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def table(rows: list[dict]) -> str:
    """A Markdown table padded to its widest cells (no alignment colons: they cost a column each)."""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}

    def line(cells) -> str:
        return "| " + " | ".join(str(v).ljust(width[c]) for c, v in zip(columns, cells)) + " |"

    return "\n".join([line(columns), "|" + "|".join("-" * (width[c] + 2) for c in columns) + "|",
                      *(line([r[c] for c in columns]) for r in rows)])


def interval(i: dict | None) -> str:
    if not i or i.get("mean") is None:
        return "—"
    if i.get("low") is None or i.get("high") is None:
        return f"{i['mean']:.3f}"
    return f"{i['mean']:.3f} [{i['low']:.3f}, {i['high']:.3f}]"


def ranked(records: list[dict]) -> list[dict]:
    """Highest forgetting score first, models without one next, the exact retrain and the retrains last."""
    def key(r):
        score = (r.get("forgetting_score") or {}).get("mean")
        return (r["model"] in (EXACT, REFERENCE), r["model"] == REFERENCE, score is None, -(score or 0.0), r["model"])

    return sorted(records, key=key)


def verdict_table(audits: list[dict]) -> str:
    """model | forgetting [95% CI] | share of the ceiling | test accuracy | metrics different from the retrains
    (count and codes) | equivalent of judged | hiding | passes."""
    rows = []
    for r in ranked(audits):
        verdicts = {m: v["verdict"] for m, v in r["metrics"].items() if "verdict" in v}
        flagged = [f"{code(m)}{'↑' if r['metrics'][m]['difference']['mean'] > 0 else '↓'}"
                   for m, v in verdicts.items() if v == "different"]
        test = r["metrics"].get("test_acc", {}).get("mean")
        judged = bool(verdicts)
        share = r.get("ceiling_share")
        rows.append({
            "model": SHOWN.get(r["model"], r["model"]), "forgetting [95% CI]": interval(r.get("forgetting_score")),
            "of top": "—" if share is None else f"{share:.0%}",
            "test": "—" if test is None else f"{test:.3f}",
            "different": f"{len(flagged)} {''.join(flagged)}".strip() if judged else "—",
            "eq.": f"{sum(v == 'equivalent' for v in verdicts.values())}/{len(verdicts)}" if judged else "—",
            "hides": ("yes" if r.get("hiding") else "no") if judged else "—",
            "pass": ("yes" if r.get("passes") else "no") if judged else "—"})
    return table(rows)


def intervals(record: dict) -> dict[str, dict]:
    """metric -> {mean, low, high} of one audit record, the forgetting score included."""
    out = {m: {k: v.get(k) for k in ("mean", "low", "high")} for m, v in record["metrics"].items()}
    if record.get("forgetting_score"):
        out = {"forgetting_score": record["forgetting_score"], **out}
    return out


def moved(base: list[dict], new: list[dict]) -> tuple[list[dict], int, int, list[str], list[str]]:
    """Against the base's audit records: the rows of metrics whose new mean is outside the base's interval, how
    many other metrics changed within it, how many changed where the base has no interval, the models added,
    the models removed."""
    old = {r["model"]: intervals(r) for r in base}
    rows, within, unjudged = [], 0, 0
    for record in ranked(new):
        name = record["model"]
        for metric, now in intervals(record).items():
            was = old.get(name, {}).get(metric)
            if name not in old or was is None or now.get("mean") is None or was.get("mean") is None:
                continue
            if round(now["mean"], 6) == round(was["mean"], 6):
                continue
            if was.get("low") is None or was.get("high") is None:
                unjudged += 1
            elif was["low"] <= now["mean"] <= was["high"]:
                within += 1
            else:
                apart = now.get("low") is not None and now.get("high") is not None and (
                    now["low"] > was["high"] or now["high"] < was["low"])
                rows.append({"model": SHOWN.get(name, name), "metric": metric, "base [95% CI]": interval(was),
                             "new [95% CI]": interval(now), "change": f"{now['mean'] - was['mean']:+.3f}",
                             "disjoint": "yes" if apart else "no"})
    names = [r["model"] for r in new]
    return (rows, within, unjudged, [n for n in names if n not in old],
            [n for n in old if n not in names])


def flags(record: dict) -> dict[str, str]:
    """Every verdict of a record: metric -> equivalent/different/inconclusive/n/a, and hiding/passes/over_forget."""
    out = {m: v["verdict"] for m, v in record["metrics"].items() if "verdict" in v}
    if out:
        out.update({f: "yes" if record.get(f) else "no" for f in ("hiding", "over_forget", "passes")})
    return out


def verdict_changes(base: list[dict], new: list[dict]) -> list[str]:
    old = {r["model"]: flags(r) for r in base}
    lines = []
    for record in ranked(new):
        was = old.get(record["model"], {})
        changed = [f"{k} {was[k]} → {v}" for k, v in flags(record).items() if k in was and was[k] != v]
        if changed:
            lines.append(fill(f"- {SHOWN.get(record['model'], record['model'])}: {', '.join(changed)}", "  "))
    return lines


def git_show(base: str, path: Path) -> str | None:
    """The file as committed at `base`, or None when it is not there."""
    result = subprocess.run(["git", "show", f"{base}:{path.as_posix()}"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def run_dvc(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise SystemExit(f"error: dvc {' '.join(args)}: {last}")
    return result.stdout.strip()


def changes(base: str, audits: list[dict]) -> list[str]:
    """Part 3: what moved beyond its interval, the count of what moved within, verdicts, models added/removed."""
    text = git_show(base, METRICS / "audit.json")
    if text is None:
        return [f"`{base}` has no committed metrics/audit.json: nothing to compare with."]
    old = json.loads(text)["models"]
    rows, within, unjudged, added, removed = moved(old, audits)
    if not (rows or within or unjudged or added or removed):
        parts = [f"No metric changed against `{base}`."]
    else:
        parts = [fill(RULE), table(rows) if rows else "No metric moved beyond its interval."]
    notes = [f"{within} other change{'s' if within != 1 else ''} within the base's interval, not listed."] \
        if rows or within else []
    if unjudged:
        notes.append(f"{unjudged} change{'s' if unjudged != 1 else ''} where the base has no interval, not listed.")
    if added:
        notes.append(f"Models added: {', '.join(added)}.")
    if removed:
        notes.append(f"Models removed: {', '.join(removed)}.")
    if notes:
        parts.append(fill(" ".join(notes)))
    verdicts = verdict_changes(old, audits)
    parts.append("Verdicts that changed:\n" + "\n".join(verdicts) if verdicts else "No verdict changed.")
    return parts


def comment(base: str, out: Path) -> str:
    if not (METRICS / "audit.json").is_file():
        raise SystemExit(f"error: {METRICS}/audit.json: no metrics: run `dvc repro` (or `dvc pull`) first")
    if subprocess.run(["git", "rev-parse", "--verify", "-q", f"{base}^{{commit}}"], capture_output=True).returncode:
        raise SystemExit(f"error: --base {base}: no such branch or commit")
    audits = json.loads((METRICS / "audit.json").read_text())["models"]
    params = run_dvc("params", "diff", "--md", base)
    if sum(line.startswith("|") for line in params.splitlines()) <= 2:  # DVC prints a header and no row
        params = f"No parameter differs from `{base}`."
    figures = [Path("plots/images") / f"{name}.png" for name in FIGURES]
    images = [f"![{path.stem}]({os.path.relpath(path, out.parent)})" for path in figures if path.is_file()]
    return "\n\n".join([
        "## Unlearning lab: results of this branch",
        f"### Parameters changed against `{base}`",
        params,
        "### Verdicts",
        verdict_table(audits),
        fill("forgetting: per-example forgetting score [95 % bootstrap CI]; of top: its share of the exact retrain's; "
        "test: accuracy; different: how many metrics are shown beyond their tolerance of the retrains' (F forget, "
        "R retain, N new, T test accuracy, M MIA efficacy, A membership AUC, P probe recall, K<k> relearn attack; "
        "↑ above, ↓ below); eq.: metrics shown equivalent, of those judged; hides: the probe still reads the "
        "class; pass: the verdict. Details: metrics/report.md."),
        f"### Metrics that moved beyond their interval against `{base}`",
        *changes(base, audits),
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
