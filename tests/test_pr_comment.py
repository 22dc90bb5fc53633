"""The pull-request comment (src/pr_comment.py) on a temporary git + DVC repository with two commits of fabricated
small metrics: it lists exactly the metrics that moved beyond the base's interval, counts the changes within it,
names the models added and removed and the verdicts that changed, shows the params diff, and stays narrow."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "src" / "pr_comment.py"
GIT = ("git", "-c", "user.name=test", "-c", "user.email=test@example.invalid")


def metric(mean: float, half: float = 0.02, verdict: str | None = "equivalent", diff: float = 0.0) -> dict:
    """An audit.json metric entry: the mean's interval, and for a model its difference and verdict."""
    entry = {"mean": mean, "low": round(mean - half, 6), "high": round(mean + half, 6)}
    if verdict is not None:
        entry.update(difference={"mean": diff, "low": diff - 0.01, "high": diff + 0.01}, verdict=verdict)
    return entry


def record(model: str, score: tuple[float, float, float] | None, **metrics: dict) -> dict:
    judged = model != "oracle"
    return {"model": model, "chains": 6, "ceiling_share": None if score is None else round(score[0] / 0.2, 6),
            "forgetting_score": None if score is None else dict(zip(("mean", "low", "high"), score)),
            "metrics": metrics, "hiding": False, "over_forget": False, "passes": model == "oracle_b" and judged,
            "epsilons": None}


def base_records() -> list[dict]:
    return [
        record("alpha", (0.03, 0.02, 0.04), forget_acc=metric(0.10), test_acc=metric(0.90, diff=-0.004),
               probe_recall=metric(0.60)),
        record("beta", (0.05, 0.04, 0.06), forget_acc=metric(0.00, 0.0), test_acc=metric(0.85, verdict="different",
                                                                                          diff=-0.09)),
        record("gamma", (0.01, 0.00, 0.02), forget_acc=metric(0.50), test_acc=metric(0.80)),
        record("oracle_b", (0.20, 0.17, 0.22), forget_acc=metric(0.00, 0.0), test_acc=metric(0.94)),
        record("oracle", None, forget_acc=metric(0.00, 0.0, None), test_acc=metric(0.94, 0.01, None)),
    ]


def new_records() -> list[dict]:
    """From the base: alpha's forget accuracy beyond (intervals apart), its test accuracy within, its probe's
    verdict flipped at the same mean; beta's score beyond (intervals overlap), its forget accuracy unchanged;
    gamma removed, delta added; the retrain's test accuracy within its interval."""
    records = {r["model"]: r for r in base_records()}
    records["alpha"]["metrics"]["forget_acc"] = metric(0.20)
    records["alpha"]["metrics"]["test_acc"] = metric(0.91, diff=0.006)
    records["alpha"]["metrics"]["probe_recall"] = metric(0.60, verdict="different", diff=0.2)
    records["beta"]["forgetting_score"] = {"mean": 0.065, "low": 0.05, "high": 0.08}
    records["oracle"]["metrics"]["test_acc"] = metric(0.945, 0.01, None)
    del records["gamma"]
    records["delta"] = record("delta", (0.02, 0.01, 0.03), forget_acc=metric(0.0, 0.0), test_acc=metric(0.9))
    return list(records.values())


def write(repo: Path, records: list[dict], lr: float) -> None:
    (repo / "metrics").mkdir(exist_ok=True)
    audit = {"ceiling": records[-2]["forgetting_score"], "models": records}
    (repo / "metrics" / "audit.json").write_text(json.dumps(audit, indent=1))
    (repo / "params.yaml").write_text(f"methods:\n  alpha:\n    lr: {lr}\n    epochs: 1\n")


def sh(repo: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """Commit 1: the base metrics and params; commit 2 (HEAD, the workspace): the changed ones."""
    repo = tmp_path / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    sh(repo, sys.executable, "-m", "dvc", "config", "core.analytics", "false")
    write(repo, base_records(), 0.001)
    sh(repo, "git", "add", "-A")
    sh(repo, *GIT, "commit", "-qm", "base")
    sh(repo, "git", "branch", "base")
    write(repo, new_records(), 0.003)
    (repo / "plots" / "images").mkdir(parents=True)
    (repo / "plots" / "images" / "score.png").write_bytes(b"\x89PNG")
    sh(repo, "git", "add", "-A")
    sh(repo, *GIT, "commit", "-qm", "change")
    return repo


def comment(repo: Path, base: str) -> str:
    sh(repo, sys.executable, str(SCRIPT), "--base", base, "--out", "build/pr_comment.md")
    return (repo / "build" / "pr_comment.md").read_text()


def section(text: str, title: str) -> str:
    return text.split(f"### {title}")[1].split("\n### ")[0]


def rows(part: str) -> list[list[str]]:
    """The body rows of the first Markdown table in part, cells stripped."""
    lines = [line for line in part.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def test_lists_exactly_the_changes_beyond_the_interval(repo):
    text = comment(repo, "base")
    moved = section(text, "Metrics that moved beyond their interval")
    assert "Rule: a model's metric is listed when its new mean lies outside the base's 95 % interval" in moved
    listed = {(r[0], r[1], r[5]) for r in rows(moved)}
    assert listed == {("alpha", "forget_acc", "yes"), ("beta", "forgetting_score", "no")}, moved
    assert "0.100 [0.080, 0.120]" in moved and "0.200 [0.180, 0.220]" in moved and "+0.100" in moved
    # within the interval: counted, never listed (alpha's test accuracy, the retrain's test accuracy)
    assert "test_acc" not in moved.split("Verdicts that changed")[0].split("|---")[-1]
    assert "2 other changes within the base's interval, not listed." in moved
    assert "Models added: delta." in moved and "Models removed: gamma." in moved
    assert "- alpha: probe_recall equivalent → different" in moved
    params = section(text, "Parameters changed against `base`")
    assert rows(params) == [["params.yaml", "methods.alpha.lr", "0.001", "0.003"]], params


def test_headline_table_has_intervals_and_verdicts_and_stays_narrow(repo):
    text = comment(repo, "base")
    table = rows(section(text, "Verdicts"))
    assert [r[0] for r in table] == ["beta", "alpha", "delta", "exact retrain", "retrain (reference)"]
    beta = dict(zip(("model", "score", "top", "test", "different", "eq", "hides", "pass"), table[0]))
    assert beta["score"] == "0.065 [0.050, 0.080]" and beta["top"] == "25%" and beta["different"] == "1 T↓"
    assert beta["eq"] == "1/2" and beta["pass"] == "no" and table[3][7] == "yes"
    assert max(len(line) for line in text.splitlines()) <= 120, text
    assert re.search(r"!\[score\]\(\.\./plots/images/score\.png\)", section(text, "Figures"))


def test_nothing_changed_reads_in_two_lines(repo):
    text = comment(repo, "HEAD")
    assert "No parameter differs from `HEAD`." in text
    assert "No metric changed against `HEAD`." in text and "No verdict changed." in text
    assert "Rule:" not in text


def test_unknown_base_is_one_line(repo):
    result = subprocess.run([sys.executable, str(SCRIPT), "--base", "no-such-branch"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.strip() == \
        "error: --base no-such-branch: no such branch or commit"


def test_codes_are_the_reports():
    sys.path.insert(0, str(ROOT / "src"))
    import pr_comment

    from unlearning import audit
    assert pr_comment.code is audit.code and pr_comment.REFERENCE == audit.REFERENCE  # one table of codes
    assert pr_comment.EXACT == audit.EXACT
