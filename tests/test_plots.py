"""The matplotlib figures of the plot stage draw what there is and say what there is not, without warnings."""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pandas as pd

from unlearning.plots import confusion_figure


def test_confusion_figure_of_a_model_without_predictions_says_so(tmp_path, monkeypatch):
    texts = []
    monkeypatch.setattr(plt.Axes, "text", lambda self, *args, **kwargs: texts.append(args[2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns on the 0 x 0 image an empty crosstab gives
        confusion_figure(pd.DataFrame({"actual": [], "predicted": []}), "ssd", tmp_path / "empty.png")
        confusion_figure(pd.DataFrame({"actual": [6, 6, 3], "predicted": ["6", "3", "3"]}), "ssd",
                         tmp_path / "some.png")
    assert texts[0] == "no predictions: diverged on every chain"
    assert sorted(texts[1:]) == ["0.50", "0.50", "1.00"]  # row-normalised cells of the second figure
    assert (tmp_path / "empty.png").stat().st_size > 1000 and (tmp_path / "some.png").stat().st_size > 1000
