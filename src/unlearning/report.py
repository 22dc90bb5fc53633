"""metrics/report.md and the metrics files, from the audits of unlearning.audit: one verdict table first (readable
at 120 columns), then every metric against the retrain band, the flags, and what each column means."""
from __future__ import annotations

import math
import textwrap

import pandas as pd

from unlearning.audit import REFERENCE, ModelAudit, short
from unlearning.core.config import Config
from unlearning.evaluation import GAP_METRICS


def _num(value, digits: int = 6):
    """JSON-safe rounding: None for a missing or non-finite value."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def fill(text: str) -> str:
    """A paragraph wrapped at 118 columns, names kept whole."""
    return textwrap.fill(text, 118, break_long_words=False, break_on_hyphens=False)


def summary_entry(a: ModelAudit, per_chain: pd.DataFrame, diverged_chains: int) -> dict:
    """summary.json entry (numbers only, for `dvc metrics`): the scores, each metric's mean over chains, how many
    metrics lie outside the retrain band, the flags as 0/1, speed-up, the secondary gap, diverged chains."""
    entry = {}
    if a.forgetting is not None:
        entry.update(forgetting_score=_num(a.forgetting.mean), forgetting_low=_num(a.forgetting.low),
                     forgetting_high=_num(a.forgetting.high), ceiling_share=_num(a.ceiling_share),
                     final_score=_num(a.final))
    entry.update({m: _num(i.mean) for m, i in a.metrics.items()})
    entry.update(outside_band=len(a.outside), hiding=int(a.hiding), over_forget=int(a.over_forget))
    if a.speedup is not None:
        entry["speedup"] = _num(a.speedup.mean, 3)
    gap = per_chain.loc[per_chain.model == a.model, "gap_to_oracle"]
    entry["gap_to_oracle"] = _num(gap.mean()) if len(gap) else None
    entry["diverged_chains"] = diverged_chains
    return entry


# the keys of metrics/models/<model>.json, what `dvc metrics show` prints: one row per model, under 200 columns
HEADLINE = ("forgetting_score", "final_score", "forget_acc", "retain_acc", "test_acc", "outside_band", "hiding",
            "over_forget", "speedup", "diverged_chains")


def headline(entry: dict) -> dict:
    """A model's headline metrics from its summary.json entry; null where not measured (a diverged model)."""
    return {key: entry.get(key) for key in HEADLINE}


def audit_record(a: ModelAudit) -> dict:
    """audit.json entry: every interval and verdict, and the per-example epsilons (3 decimals)."""
    def interval(i):
        return None if i is None else {"mean": _num(i.mean), "low": _num(i.low), "high": _num(i.high)}

    return {"model": a.model, "chains": a.chains, "forgetting_score": interval(a.forgetting),
            "ceiling_share": _num(a.ceiling_share), "final_score": _num(a.final),
            "metrics": {m: {**interval(i), "verdict": a.verdicts[m]} for m, i in a.metrics.items()},
            "hiding": a.hiding, "over_forget": a.over_forget, "speedup": interval(a.speedup),
            "epsilons": None if a.epsilons is None else [_num(e, 3) for e in a.epsilons]}


def ranked(audits: list[ModelAudit]) -> list[ModelAudit]:
    """Highest forgetting score first; models without one next; the retrain last."""
    def key(a: ModelAudit):
        score = a.forgetting.mean if a.forgetting is not None else -1.0
        return (a.model == REFERENCE, -score, a.model)

    return sorted(audits, key=key)


def _interval(i, digits: int = 3) -> str:
    if i is None or i.mean != i.mean:
        return "—"
    if i.low != i.low:
        return f"{i.mean:.{digits}f}"
    return f"{i.mean:.{digits}f} [{i.low:.{digits}f}, {i.high:.{digits}f}]"


def markdown(rows: list[dict]) -> str:
    """A Markdown table padded to its widest cells (what tabulate's pipe format does, without alignment colons,
    which cost a column each)."""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}

    def line(cells) -> str:
        return "| " + " | ".join(str(v).ljust(width[c]) for c, v in zip(columns, cells)) + " |"

    return "\n".join([line(columns), "|" + "|".join("-" * (width[c] + 2) for c in columns) + "|",
                      *(line([r[c] for c in columns]) for r in rows)])


def verdict_table(audits: list[ModelAudit], ceiling: float) -> str:
    """At most 120 columns: model | forgetting score [95 % CI] | its share of the ceiling | final score | utility
    (mean test accuracy) | metrics outside the retrain band (codes) | hiding | speed-up."""
    rows = []
    for a in ranked(audits):
        retrain = a.model == REFERENCE
        test = a.metrics.get("test_acc")
        diverged = a.chains == 0  # on every chain: a row that says so, not a row of NaN
        rows.append({
            "model": "retrain" if retrain else a.model,
            "forgetting [CI]": (f"{ceiling:.3f} ceiling" if ceiling == ceiling else "— (< 4 chains)") if retrain
            else "diverged" if diverged else "—" if a.forgetting is None else
            f"{a.forgetting.mean:.3f} [{a.forgetting.low:.3f}, {a.forgetting.high:.3f}]",
            "of top": "100%" if retrain else "—" if a.ceiling_share is None or diverged else f"{a.ceiling_share:.0%}",
            "final": "—" if a.final is None or diverged else f"{a.final:.3f}",
            "utility": "—" if test is None or diverged else f"{test.mean:.3f}",
            "outside band": "—" if retrain or diverged else "".join(a.outside) or "none",
            "hiding": "—" if retrain or diverged else "yes" if a.hiding else "no",
            "speed-up": "—" if a.speedup is None or diverged or a.speedup.mean != a.speedup.mean
            else f"{a.speedup.mean:.1f}x",
        })
    return markdown(rows)


def band_table(audits: list[ModelAudit]) -> str:
    """Models x metrics: each cell the mean over chains and its verdict (↑ above, ↓ below the band, · inside); the
    first row is the retrains' band."""
    retrain = next(a for a in audits if a.model == REFERENCE)
    metrics = list(retrain.metrics)
    arrow = {"above": "↑", "below": "↓", "inside": "·", "n/a": "?"}
    rows = [{"model": "retrain band", **{short(m): f"{retrain.metrics[m].low:.2f}-{retrain.metrics[m].high:.2f}"
                                         if retrain.metrics[m].low == retrain.metrics[m].low else "—"
                                         for m in metrics}}]
    for a in ranked(audits):
        if a.model != REFERENCE:
            rows.append({"model": a.model, **{short(m): f"{a.metrics[m].mean:.3f}{arrow[a.verdicts[m]]}"
                                              if a.metrics[m].mean == a.metrics[m].mean else "—" for m in metrics}})
    return markdown(rows)


LEGEND = f"""\
- forgetting [CI]: the per-example forgetting score of the NeurIPS 2023 unlearning challenge (Triantafillou et al.
  2024): per forget-train example, the epsilon of the best threshold test telling the method's N confidences in
  the example's own slot from the N retrains'; bucketed and averaged. 95 % CI: bootstrap over chains.
- of top: the score as a share of the ceiling, the score of one half of the retrains against the other half.
  With finite N an exact retrain scores far below 1; read scores against the ceiling, not against 1.
- final: forgetting x (retain accuracy / the retrains') x (test accuracy / the retrains'), the challenge's score.
- utility: test accuracy on the final class set, mean over chains (its interval is in the band table).
- outside band: metrics whose paired (by chain) bootstrap interval of (model - retrain) excludes 0, ↑ above,
  ↓ below: F forget / R retain / N new / T test accuracy; M: SalUn's MIA efficacy; A: loss-threshold membership AUC
  (forget-train vs forgotten-class test images); P: few-shot linear-probe recall of the forgotten class on frozen
  features (mean of the probe draws); K<k>: area under the forget-accuracy curve of the relearn attack with k
  samples (share of the largest area). The probe and the relearn attack run on the attack chains only.
- hiding: the probe reads the forgotten class above the band while the forget-set outputs are not above it.
- over-forgetting: forget-set accuracy below the retrain band.
- gap_to_oracle (summary.json, secondary): SalUn's Avg. Gap, mean |model - the chain's retrain| over
  {", ".join(GAP_METRICS)}; one retrain is one draw, so it does not rank."""


def report(audits: list[ModelAudit], ceiling: float, cfg: Config, declared_hiding: list[str],
           summary: dict) -> str:
    """declared_hiding: methods the registry declares as hiding (methods.HIDING), checked against the probe;
    summary: the summary.json entries, for each model's diverged chains."""
    scenario = cfg.scenario
    title = (f"# Unlearning audit: {cfg.data.name}, {scenario.kind}, forget {scenario.forget}"
             + (f", learn {scenario.learn}" if scenario.learn is not None else ""))
    lines = [title, "",
             fill(f"{cfg.audit.chains} chains (the relearn attack and the probe on the first "
                  f"{cfg.audit.attack_chains}), scored on the {cfg.audit.split} split; every model's distribution "
                  "over chains is judged against the distribution of retrains (the oracle: retrained without the "
                  "forget data from an independent initialisation). Ranked by forgetting score."), ""]
    if audits:
        flagged = [a.model for a in ranked(audits) if a.hiding]
        missed = [m for m in declared_hiding if m not in flagged and m in summary]
        over = [a.model for a in ranked(audits) if a.over_forget]
        lines += [verdict_table(audits, ceiling), "",
                  "## Every metric against the retrain band", "",
                  "Mean over chains; ↑ / ↓: above / below the retrains' band (paired bootstrap, 95 %), · inside.", "",
                  band_table(audits), "",
                  fill(f"Hiding, not unlearning (probe above the band, outputs not): {', '.join(flagged) or 'none'}.")]
        if missed:
            lines.append(fill(f"Declared as hiding but not flagged by the probe: {', '.join(missed)}."))
        lines.append(fill(f"Over-forgetting (forget-set accuracy below the retrain band): {', '.join(over) or 'none'}."))
    else:
        lines.append("Nothing to score: the retrain diverged on every chain.")
    diverged = [f"{m} ({s['diverged_chains']} of {cfg.audit.chains} chains: {s['diverged']})"
                for m, s in summary.items() if s.get("diverged_chains")]
    lines += [fill("Diverged (no metrics on those chains; the others are scored as usual): "
                   f"{'; '.join(diverged) or 'none'}."), "", "## What the columns mean", "", LEGEND]
    return "\n".join(lines) + "\n"
