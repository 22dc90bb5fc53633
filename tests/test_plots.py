"""The matplotlib figures of the plot stage draw what there is and say what there is not, without warnings; every
model has a style of its own (colour and shape), the same on the page; `dvc plots show` opens with the verdicts and
ends with the confusion matrices in one image."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

from unlearning import plots
from unlearning.plots_curves import confusion_grid, training_figure

ROOT = Path(__file__).resolve().parents[1]
VEGA_SHAPE = {"o": "circle", "s": "square", "^": "triangle-up", "D": "diamond", "v": "triangle-down", "P": "cross",
              ">": "triangle-right", "<": "triangle-left"}


def test_confusion_grid_says_so_for_a_model_without_predictions(tmp_path, monkeypatch):
    texts = []
    monkeypatch.setattr(plt.Axes, "text", lambda self, *args, **kwargs: texts.append(args[2]))
    predictions = pd.DataFrame({"model": ["ssd"] * 3, "actual": [6, 6, 3], "predicted": ["6", "3", "3"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on the 0 x 0 image an empty crosstab gives
        confusion_grid(predictions, ["oracle", "ssd"], "title", tmp_path / "grid.png")
    assert texts[0] == "no predictions: diverged on every chain"  # the retrain, first in the grid
    assert sorted(texts[1:]) == ["0.50", "0.50", "1.00"]  # ssd's row-normalised cells
    assert (tmp_path / "grid.png").stat().st_size > 1000


def test_every_model_has_a_colour_and_shape_of_its_own_and_neighbours_differ_in_both():
    names = [f"method_{i:02d}" for i in range(40)]
    styles = plots.model_styles([*names, "oracle", "oracle_b"])
    pairs = [(styles[n]["color"], styles[n]["marker"]) for n in names]
    assert len(set(pairs)) == len(names)
    assert all(a[0] != b[0] and a[1] != b[1] for a, b in zip(pairs, pairs[1:]))
    assert styles["oracle"]["color"] == "black" and styles["oracle_b"]["color"] == "seagreen"
    assert plots.model_styles(["b", "a", "oracle"])["a"] == plots.model_styles(["a", "oracle_b", "b"])["a"]


def test_the_page_uses_the_same_colours_and_shapes_as_the_images():
    """Vega-Lite sorts a nominal domain as model_styles does, so the same ranges give a model the same look."""
    models = json.loads((ROOT / ".dvc" / "plots" / "models.json").read_text())
    encoding = models["layer"][0]["encoding"]
    assert encoding["color"]["scale"]["range"] == list(plots.COLOURS)
    assert encoding["shape"]["scale"]["range"] == [VEGA_SHAPE[m] for m in plots.MARKERS]
    for name in ("relearn", "curves"):
        layers = json.loads((ROOT / ".dvc" / "plots" / f"{name}.json").read_text())["layer"]
        ranges = [c["scale"]["range"] for c in (la.get("encoding", {}).get("color", {}) for la in layers)
                  if "scale" in c]
        strokes = [e["stroke"]["scale"]["range"] for e in (la.get("encoding", {}) for la in layers) if "stroke" in e]
        assert ranges == [list(plots.COLOURS)] and all(r == list(plots.COLOURS) for r in strokes), name


def test_page_opens_with_the_verdicts_and_ends_with_the_confusion_matrices():
    """dvc_render draws the Vega plots in dvc.yaml's order, then the images sorted by (folder, name)."""
    definitions = [next(iter(d)) if isinstance(d, dict) else d for d in
                   yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]]
    vega = [d for d in definitions if not d.endswith(".png")]
    images = sorted((d for d in definitions if d.endswith(".png")), key=lambda p: (os.path.dirname(p),
                                                                                  os.path.basename(p)))
    assert vega[:2] == ["plots/score.json", "plots/differences.json"]
    assert "plots/confusion" not in definitions and "plots/images" not in definitions  # 20+ matrices: not one each
    assert images[-1] == "plots/images/matrices/confusion.png"
    assert {"plots/images/score.png", "plots/images/differences.png", "plots/images/training.png"} <= set(images)


def test_labels_in_the_enlarged_corner_never_overlap():
    wanted = [0.9, 0.9, 0.899, 0.5, 0.49]
    placed = plots._spread(wanted, 0.034)
    assert all(a - b >= 0.034 - 1e-6 for a, b in zip(placed, placed[1:]))
    assert abs(sum(placed) - sum(wanted)) < 1e-6  # pushed apart half each way, not all down


def test_scatter_names_every_model_in_the_crowded_corner(tmp_path, monkeypatch):
    summary = {f"m{i:02d}": {"forget_acc": 0.001 * i, "retain_acc": 0.93 + 0.0005 * i} for i in range(12)}
    summary.update(original={"forget_acc": 0.95, "retain_acc": 0.94}, oracle={"forget_acc": 0.0, "retain_acc": 0.95},
                   far={"forget_acc": 0.6, "retain_acc": 0.5})
    named = []
    original = plt.Axes.annotate
    monkeypatch.setattr(plt.Axes, "annotate", lambda self, text, *a, **k: named.append(text) or original(
        self, text, *a, **k))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.tradeoff_figure(summary, {"m00": {"forget_acc": {"low": 0.0, "high": 0.004}}}, tmp_path / "t.png")
    assert set(named) == {f"m{i:02d}" for i in range(12)} | {"retrain (reference)", "original", "far"}
    assert (tmp_path / "t.png").stat().st_size > 1000


def test_score_figure_training_figure_and_confusion_grid_draw(tmp_path):
    records = [
        {"model": "a", "forgetting_score": {"mean": 0.03, "low": 0.02, "high": 0.04}, "ceiling_share": 0.15,
         "hiding": True, "passes": False, "metrics": {}},
        {"model": "oracle_b", "forgetting_score": {"mean": 0.2, "low": 0.17, "high": 0.22}, "ceiling_share": 1.0,
         "hiding": False, "passes": True, "metrics": {}},
        {"model": "oracle", "forgetting_score": None, "metrics": {}}]
    assert [r["model"] for r in plots.ranked(records)] == ["a", "oracle_b"]
    assert [plots.verdict_of(r) for r in records[:2]] == ["hides", "passes"]
    curves = {"val_forget_acc": pd.DataFrame({"step": [10, 20, 30, 5, 10, 2], "model": ["pretrained"] * 3 + ["oracle"] * 2
                                              + ["finetune"], "val_forget_acc": [0.9, 1, 1, 0, 0, 0.1]})}
    predictions = pd.DataFrame({"model": ["a", "a", "oracle"], "actual": [6, 3, 3], "predicted": ["6", "3", "3"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.score_figure(records, {"mean": 0.2, "low": 0.17, "high": 0.22}, tmp_path / "score.png")
        training_figure(curves, tmp_path / "training.png")
        training_figure({}, tmp_path / "none.png")
        confusion_grid(predictions, ["a", "oracle"], "grid", tmp_path / "grid.png")
    for name in ("score", "training", "none", "grid"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
