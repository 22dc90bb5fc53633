"""Do two runs of the same experiment agree on their verdicts? What a rerun on other hardware is checked against.

Across CPU vendors the last bits of training differ (docs/guide.md, "Bit-identical on one CPU family"), and training
amplifies them: a rerun elsewhere is close to a fresh draw of every chain, so its numbers move within their
intervals. What must hold is what the results claim, read from two metrics/audit.json files:
- no metric is `equivalent` in one run and `different` in the other (a move to or from `inconclusive` is a
  borderline case near the tolerance, counted, not a failure);
- every model's forgetting-score intervals overlap;
- no two models swap order where both runs separate them (disjoint intervals in each, reversed);
- the same models pass.
Flags (hiding, over_forget) follow from the verdicts, so a flag can only move with a borderline verdict; one that
moves without it is a failure too. Bit-identical values are counted, for the same-CPU-family case."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from unlearning import equivalence

FLAGS = ("hiding", "over_forget", "passes")


@dataclass
class Agreement:
    values_identical: int = 0
    values_total: int = 0
    verdicts_identical: int = 0
    verdicts_total: int = 0
    borderline: list[str] = field(default_factory=list)      # "model metric: equivalent -> inconclusive"
    failures: list[str] = field(default_factory=list)        # what the committed results claim and the rerun denies

    @property
    def agrees(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [f"values bit-identical: {self.values_identical}/{self.values_total}",
                 f"verdicts identical: {self.verdicts_identical}/{self.verdicts_total}; "
                 f"borderline (through inconclusive): {len(self.borderline)}"]
        lines += [f"  borderline {b}" for b in self.borderline]
        lines += [f"  FAILS {f}" for f in self.failures]
        lines.append("verdicts agree" if self.agrees else f"verdicts DISAGREE ({len(self.failures)} failures)")
        return "\n".join(lines)


def _score(entry: dict) -> dict | None:
    score = entry.get("forgetting_score")
    return score if score and score.get("low") is not None else None


def _numbers(entry: dict) -> list:
    """Every reported number of a model's entry, in a fixed order (for the bit-identical count)."""
    out = [entry.get("forgetting_score"), entry.get("ceiling_share"), entry.get("final_score")]
    for name in sorted(entry.get("metrics", {})):
        m = entry["metrics"][name]
        out += [m.get("mean"), m.get("low"), m.get("high"), m.get("difference")]
    return out


def compare(committed: dict, rerun: dict) -> Agreement:
    """committed, rerun: two metrics/audit.json documents ({"models": [{"model", "metrics", ...}, ...], ...})."""
    result = Agreement()
    old = {e["model"]: e for e in committed["models"]}
    new = {e["model"]: e for e in rerun["models"]}
    for name in sorted(set(old) ^ set(new)):
        result.failures.append(f"{name}: in only one of the runs")
    shared = [name for name in old if name in new]
    for name in shared:
        a, b = old[name], new[name]
        pairs = list(zip(_numbers(a), _numbers(b)))
        result.values_total += len(pairs)
        result.values_identical += sum(x == y for x, y in pairs)
        moved = False
        for metric in sorted(set(a.get("metrics", {})) | set(b.get("metrics", {}))):
            va = a.get("metrics", {}).get(metric, {}).get("verdict")
            vb = b.get("metrics", {}).get(metric, {}).get("verdict")
            result.verdicts_total += 1
            if va == vb:
                result.verdicts_identical += 1
            elif {va, vb} == {equivalence.EQUIVALENT, equivalence.DIFFERENT}:
                result.failures.append(f"{name} {metric}: {va} -> {vb}")
            else:  # through inconclusive (or n/a)
                moved = True
                result.borderline.append(f"{name} {metric}: {va} -> {vb}")
        for flag in FLAGS:
            if bool(a.get(flag)) != bool(b.get(flag)) and not moved:
                result.failures.append(f"{name} {flag}: {a.get(flag)} -> {b.get(flag)} with no borderline verdict")
        sa, sb = _score(a), _score(b)
        if (sa is None) != (sb is None):
            result.failures.append(f"{name} forgetting score: computed in only one of the runs")
        elif sa is not None and (sa["high"] < sb["low"] or sb["high"] < sa["low"]):
            result.failures.append(f"{name} forgetting score: [{sa['low']}, {sa['high']}] -> "
                                   f"[{sb['low']}, {sb['high']}], no overlap")
    scored = [n for n in shared if _score(old[n]) and _score(new[n])]
    for x, y in combinations(scored, 2):
        ahead_old = _ahead(_score(old[x]), _score(old[y]))
        ahead_new = _ahead(_score(new[x]), _score(new[y]))
        if ahead_old and ahead_new and ahead_old != ahead_new:
            result.failures.append(f"order of {x} and {y} reversed, each run separating them")
    return result


def _ahead(a: dict, b: dict) -> int:
    """+1 when a's interval lies wholly above b's, -1 when wholly below, 0 when they overlap."""
    return 1 if a["low"] > b["high"] else -1 if a["high"] < b["low"] else 0
