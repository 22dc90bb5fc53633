"""metrics/report.md from the audits of unlearning.audit: the verdict table first (readable at 120 columns), then
every metric's difference to the retrains against its tolerance, the flags, the verdicts' measured false-flag
rates, the score's resolution, and what each column means."""
from __future__ import annotations

import textwrap

from unlearning import equivalence
from unlearning.audit import EXACT, MIN_SCORE_CHAINS, REFERENCE, ModelAudit, resolution, short
from unlearning.core.config import Config
from unlearning.evaluation import GAP_METRICS
from unlearning.stats import Interval

SYMBOL = {equivalence.EQUIVALENT: "≈", equivalence.DIFFERENT: "≠", equivalence.INCONCLUSIVE: "?",
          equivalence.NA: "–"}


def fill(text: str) -> str:
    """A paragraph wrapped at 118 columns, names kept whole."""
    return textwrap.fill(text, 118, break_long_words=False, break_on_hyphens=False)


def ranked(audits: list[ModelAudit]) -> list[ModelAudit]:
    """Highest forgetting score first; models without one next; the exact retrain and the retrains last."""
    def key(a: ModelAudit):
        score = a.forgetting.mean if a.forgetting is not None else -1.0
        return (a.model in (EXACT, REFERENCE), a.model == REFERENCE, -score, a.model)

    return sorted(audits, key=key)


def markdown(rows: list[dict]) -> str:
    """A Markdown table padded to its widest cells (what tabulate's pipe format does, without alignment colons,
    which cost a column each)."""
    columns = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}

    def line(cells) -> str:
        return "| " + " | ".join(str(v).ljust(width[c]) for c, v in zip(columns, cells)) + " |"

    return "\n".join([line(columns), "|" + "|".join("-" * (width[c] + 2) for c in columns) + "|",
                      *(line([r[c] for c in columns]) for r in rows)])


def display(model: str) -> str:
    return {REFERENCE: "retrain", EXACT: "exact retrain"}.get(model, model)


def _score(a: ModelAudit) -> str:
    if a.chains == 0:
        return "diverged"
    if a.forgetting is None:
        return f"— (< {MIN_SCORE_CHAINS} chains)" if a.chains < MIN_SCORE_CHAINS else "—"
    return f"{a.forgetting.mean:.3f} [{a.forgetting.low:.3f}, {a.forgetting.high:.3f}]"


def verdict_table(audits: list[ModelAudit]) -> str:
    """At most 120 columns: model | forgetting score [95 % CI] | its share of the ceiling | test accuracy | metrics
    different from the retrains (codes) | how many equivalent | hiding | passes | compute as a share of the
    retrain's. (The challenge's final score is in summary.json and `dvc metrics show`.)"""
    rows = []
    for a in ranked(audits):
        if a.model == REFERENCE:
            continue
        test = a.metrics.get("test_acc")
        dead = a.chains == 0
        rows.append({
            "model": display(a.model), "forgetting [95% CI]": _score(a),
            "of top": "—" if a.ceiling_share is None or dead else f"{a.ceiling_share:.0%}",
            "test": "—" if test is None or dead or test.mean != test.mean else f"{test.mean:.3f}",
            "different": "—" if dead else "".join(a.flagged) or "none",
            "eq.": "—" if dead else f"{a.equivalent}/{len(a.verdicts)}",
            "hides": "—" if dead else "yes" if a.hiding else "no",
            "pass": "—" if dead else "yes" if a.passes else "no",
            "cost": "—" if a.compute_share is None else f"{a.compute_share:.1%}" if a.compute_share < 0.1
            else f"{a.compute_share:.0%}",
        })
    return markdown(rows)


def difference_table(audits: list[ModelAudit], cfg: Config) -> str:
    """Models x metrics: each cell the difference of means to the retrains and its verdict; the first rows are
    the retrains' own means and each metric's tolerance."""
    retrain = next(a for a in audits if a.model == REFERENCE)
    metrics = list(retrain.metrics)

    def cell(d, verdict: str) -> str:
        return "—" if d.mean != d.mean else f"{d.mean:+.3f}{SYMBOL[verdict]}"

    rows = [{"model": "retrain mean", **{short(m): f"{retrain.metrics[m].mean:.3f}" for m in metrics}},
            {"model": "tolerance", **{short(m): f"±{cfg.audit.tolerance.of(m):g}" for m in metrics}}]
    for a in ranked(audits):
        if a.model != REFERENCE and a.chains:
            rows.append({"model": display(a.model),
                         **{short(m): cell(a.differences[m], a.verdicts[m]) for m in metrics}})
    return markdown(rows)


def false_flag_table(false_flags: dict, cfg: Config) -> str:
    rows = [{"metric": short(m), "tolerance": f"±{cfg.audit.tolerance.of(m):g}",
             "test at tolerance 0": f"{r['any']:.1%}", "verdict 'different'": f"{r['different']:.1%}"}
            for m, r in false_flags.items() if m != "(any metric)"]
    return markdown(rows)


def _interval(i: Interval | None) -> str:
    return "none" if i is None else f"{i.mean:.3f} [{i.low:.3f}, {i.high:.3f}]"


def power_note(audits: list[ModelAudit], cfg: Config) -> str:
    """Whether the chain counts let a metric be flagged at all: Holm multiplies the smallest p-value by the number
    of metrics judged."""
    judged = max((len(a.verdicts) for a in audits), default=0)
    notes = []
    for what, n in (("the output metrics", cfg.audit.chains), ("the probe and relearn metrics",
                                                                cfg.audit.attack_chains)):
        p = equivalence.smallest_p(n, n)
        can = p * judged <= equivalence.ALPHA
        notes.append(f"{what}, {n} chains a side: smallest p {p:.2g}"
                     + ("" if can else f", so after Holm over {judged} metrics none can be flagged different"))
        if n < 4:
            notes[-1] += " (no interval below 4 chains: n/a)"
    return "Verdicts: " + "; ".join(notes) + "."


LEGEND = f"""\
- forgetting [95% CI]: the per-example forgetting score of the NeurIPS 2023 unlearning challenge (Triantafillou
  et al. 2024): per forget-train example, the epsilon of the best threshold test telling the model's N confidences
  in the example's own slot from the N retrains'; bucketed and averaged. Interval: percentile bootstrap, 1 000
  resamples of each side's models, each rescored, recentred on the score (repeated models alone lower a score).
- of top: the score as a share of the ceiling, the score of the exact retrain (a second, independent population
  of N retrains) with the same N models a side. With finite N an exact retrain scores far below 1.
- final_score (summary.json, `dvc metrics show`): forgetting x (retain-train accuracy / the retrains') x (test
  accuracy / the retrains'), the challenge's final score.
- different: metrics whose difference of means to the retrains is shown to exceed the metric's tolerance
  (permutation test, Holm-corrected over the model's metrics at 5 %), ↑ above, ↓ below: F forget / R retain /
  N new / T test accuracy; M: SalUn's MIA efficacy; A: loss-threshold membership AUC; P: few-shot linear-probe
  recall of the forgotten class on frozen features; K<k>: area under the forget-accuracy curve of the relearn
  attack with k samples. The probe and the relearn attack run on the attack chains only.
- eq.: metrics whose 95 % interval of the difference lies within ±tolerance (equivalent), of those judged.
  Neither different nor equivalent is inconclusive: the chains cannot tell.
- hides: the probe is different above the retrains while the forget-set outputs are not different above them.
- cost: the model's compute as a share of the retrain's, in forward passes of one sample (a backward pass counted
  as two more), mean over chains: the same on every machine. Wall-clock speed-ups: eval/timing.md.
- pass: forgetting >= audit.pass_share of the ceiling and every metric equivalent (an intersection-union test:
  each equivalence at 5 %, so the pass as a whole is at 5 % with no correction).
- gap_to_oracle (summary.json, secondary): SalUn's Avg. Gap, mean |model - the chain's retrain| over
  {", ".join(GAP_METRICS)}; one retrain is one draw, so it does not rank."""


def report(audits: list[ModelAudit], ceiling: Interval | None, false_flags: dict | None, cfg: Config,
           declared_hiding: list[str], summary: dict) -> str:
    """declared_hiding: methods the registry declares as hiding (methods.HIDING), checked against the probe;
    summary: the summary.json entries, for each model's diverged chains."""
    scenario = cfg.scenario
    title = (f"# Unlearning audit: {cfg.data.name}, {scenario.kind}, forget {scenario.forget}"
             + (f", learn {scenario.learn}" if scenario.learn is not None else ""))
    lines = [title, "",
             fill(f"{cfg.audit.chains} chains (the relearn attack and the probe on the first "
                  f"{cfg.audit.attack_chains}), scored on the {cfg.audit.split} split; every model's distribution "
                  "over chains is judged against the distribution of retrains (retrained without the forget data, "
                  "each from its own initialisation). The exact retrain is a second such population, judged like "
                  f"a method: its score is the ceiling ({_interval(ceiling)}). Ranked by forgetting score."), ""]
    if audits:
        flagged = [a.model for a in ranked(audits) if a.hiding]
        missed = [m for m in declared_hiding if m not in flagged and m in summary]
        over = [a.model for a in ranked(audits) if a.over_forget]
        passed = [display(a.model) for a in ranked(audits) if a.passes]
        lines += [verdict_table(audits), "",
                  fill(f"Passes (score >= {cfg.audit.pass_share:.0%} of the ceiling, every metric equivalent): "
                       f"{', '.join(passed) or 'none'}."),
                  fill(f"Hiding, not unlearning (probe different above the retrains, outputs not): "
                       f"{', '.join(flagged) or 'none'}.")]
        if missed:
            lines.append(fill(f"Declared as hiding but not flagged by the probe: {', '.join(missed)}."))
        lines += [fill(f"Over-forgetting (forget-set accuracy different below the retrains'): "
                       f"{', '.join(over) or 'none'}."), "",
                  "## Every metric: difference to the retrains", "",
                  fill("Mean of the model minus mean of the retrains over chains; ≈ equivalent (95 % interval "
                       "within ±tolerance), ≠ different (beyond tolerance, Holm-corrected), ? inconclusive, "
                       "– too few chains for a verdict. Intervals: metrics/audit.json."), "",
                  difference_table(audits, cfg), ""]
    else:
        lines.append("Nothing to score: the retrain diverged on every chain.")
    if false_flags:
        family = false_flags["(any metric)"]["different"]
        lines += ["## How often the verdicts flag an exact retrain", "",
                  fill(f"The 2 x {cfg.audit.chains} retrains split at random into two halves 400 times, each half "
                       "judged against the other as a model is against the retrains: the share of splits flagged, "
                       "per metric. 'Test at tolerance 0' is the uncorrected permutation test of no difference, "
                       "exact at 5 % by construction (400 splits of one set of retrains estimate its rate within "
                       "about 2 points); 'different' is the verdict, beyond tolerance and Holm-corrected. At least "
                       f"one 'different' among the metrics: {family:.1%} of splits."), "",
                  false_flag_table(false_flags, cfg), ""]
    lines += [fill(f"Resolution: {resolution(cfg.audit.chains)}. {power_note(audits, cfg)}")]
    diverged = [f"{display(m)} ({s['diverged_chains']} of {cfg.audit.chains} chains: {s['diverged']})"
                for m, s in summary.items() if s.get("diverged_chains")]
    lines += [fill("Diverged (no metrics on those chains; the others are scored as usual): "
                   f"{'; '.join(diverged) or 'none'}."), "", "## What the columns mean", "", LEGEND]
    return "\n".join(lines) + "\n"
