"""bench/frontier.py's collection, table and figure on small fake runs (the real runs are the lead's benchmark)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "frontier.py"
spec = importlib.util.spec_from_file_location("frontier", BENCH)
frontier = importlib.util.module_from_spec(spec)
spec.loader.exec_module(frontier)


def fake_project(tmp: Path, shares: dict[str, float], seconds: dict[str, list[float]],
                 compute: dict[str, float]) -> Path:
    """metrics/summary.json and runs/<model>.json as the pipeline writes them (two chains, both timed alone)."""
    (tmp / "metrics").mkdir(parents=True)
    (tmp / "runs").mkdir()
    summary = {m: {"ceiling_share": s, "forgetting_score": s / 10, "forgetting_low": s / 20,
                   "forgetting_high": s / 5, **({"compute_share": compute[m]} if m in compute else {})}
               for m, s in shares.items()}
    summary["oracle_b"] = {"ceiling_share": 1.0, "forgetting_score": 0.1}
    (tmp / "metrics" / "summary.json").write_text(json.dumps(summary))
    for model, secs in seconds.items():
        runs = {f"seed{i}": {"seconds": s, "timed_alone": True, "diverged": None} for i, s in enumerate(secs)}
        (tmp / "runs" / f"{model}.json").write_text(json.dumps(runs))
    return tmp


def test_collect_reads_ceiling_share_and_speedup_against_the_retrain(tmp_path):
    project = fake_project(tmp_path, {"original": 0.0, "finetune": 0.4, "retrain_short": 0.7},
                           {"oracle": [2.0, 4.0], "finetune": [0.5, 0.5], "retrain_short": [0.2, 0.4],
                            "pretrained": [2.0, 2.0], "original": [0.0, 0.0]},
                           {"finetune": 0.05, "retrain_short": 0.1})
    got = frontier.collect(project)
    # wall-clock speed-up of finetune: mean of 2/0.5 and 4/0.5; its score's interval over the ceiling (0.1)
    assert got["finetune"] == pytest.approx({"share": 0.4, "share_low": 0.2, "share_high": 0.8, "speedup": 6.0,
                                             "compute_share": 0.05})
    assert got["retrain_short"] == pytest.approx({"share": 0.7, "share_low": 0.35, "share_high": 1.4,
                                                  "speedup": 10.0, "compute_share": 0.1})
    assert got["original"] == {"share": 0.0, "share_low": 0.0, "share_high": 0.0, "speedup": None,
                               "compute_share": None}  # no training, no speed-up
    assert "oracle" not in got


RESULTS = {"1/20": {"retrain_short": {"share": 0.1, "speedup": 20.0, "compute_share": 0.05},
                    "finetune": {"share": 0.3, "speedup": 19.0, "compute_share": 0.04},
                    "head_mask": {"share": 0.0, "speedup": None, "compute_share": None}},
           "1/5": {"retrain_short": {"share": 0.8, "speedup": 5.0, "compute_share": 0.2},
                   "finetune": {"share": 0.4, "speedup": 4.5, "compute_share": 0.25},
                   "head_mask": {"share": 0.0, "speedup": None, "compute_share": None}}}


def test_table_has_one_row_per_method_and_a_column_per_budget():
    lines = frontier.table(RESULTS).splitlines()
    assert lines[0] == "| method | 1/20 of the retrain | 1/5 of the retrain |"
    # the baseline first; speed-up in compute / in wall-clock time
    assert lines[2] == "| **`retrain_short`** | 0.10 (20.0x / 20.0x) | 0.80 (5.0x / 5.0x) |"
    assert lines[3] == "| `finetune` | 0.30 (25.0x / 19.0x) | 0.40 (4.0x / 4.5x) |"
    assert lines[4] == "| `head_mask` | 0.00 | 0.00 |"
    assert len(lines) == 5


def test_budget_label_and_written_files(tmp_path):
    assert frontier.budget_label(Path("overlays/budget_1_20.yaml")) == "1/20"
    out = tmp_path / "frontier"
    frontier.write(RESULTS, out, "Variant: fake.")
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| **`retrain_short`** |" in out.with_suffix(".md").read_text()
    assert json.loads(out.with_suffix(".json").read_text())["results"] == RESULTS


def test_figure_draws_one_line_per_trained_method_with_the_baseline_prominent(tmp_path, monkeypatch):
    drawn = {}
    real_savefig = frontier.plt.Figure.savefig

    def grab(fig, path, **kwargs):
        for line in fig.axes[0].get_lines():
            drawn[line.get_label()] = (list(line.get_xdata()), list(line.get_ydata()), line.get_linewidth())
        real_savefig(fig, path, **kwargs)

    monkeypatch.setattr(frontier.plt.Figure, "savefig", grab)
    frontier.figure(RESULTS, tmp_path / "f.png")
    assert drawn["finetune"][:2] == ([4.0, 25.0], [0.4, 0.3])  # through its budgets, by speed-up in compute
    baseline = drawn["retrain_short (retrain cut short)"]
    assert baseline[:2] == ([5.0, 20.0], [0.8, 0.1]) and baseline[2] > drawn["finetune"][2]
    assert not any(label.startswith("head_mask") for label in drawn)  # no compute count: not on the axis
