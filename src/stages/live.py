"""Training curves of the first chain, logged with dvclive: live/<model>/ holds dvclive's metrics.json (the last
epoch) and plots/metrics/<metric>.tsv (step, value), and the plot stage gathers every model's curves into
plots/training/ for `dvc plots show`.

One curve per model, from the first chain only: a point costs a forward pass over the validation split, and what a
reader compares is how each model trained, not the spread over chains (the audit has that). The points are
validation accuracies: the test split stays with the evaluation stages. The time the curve takes is subtracted from
the chain's seconds, so speed-ups are those of a run without it; the model's weights are those of a run without it
(the hook only reads the model).

Metrics, train.POINTS_PER_FIT rows per fit the chain runs, at dvclive steps that count the chain's optimiser steps
(a method with several fits continues the count): loss (the mean training loss since the previous row) and
val_<part>_acc for each non-empty part of the validation split (retain, forget, new)."""
from __future__ import annotations

import contextlib
import os
import time
from typing import Iterator

import torch

from stages.base.common import LIVE
from unlearning import compute
from unlearning.core import io
from unlearning.core.splits import Splits
from unlearning.core.train import predict, progress_hook

PARTS = ("retain", "forget", "new")


class Curve:
    """Collects the rows of train.progress_hook; `steps` counts the optimiser steps so far, over every fit, and
    `seconds` is the time spent collecting."""

    def __init__(self, val: Splits):
        self.val = val
        self.rows: list[dict[str, float]] = []
        self.steps = 0
        self.seconds = 0.0

    def record(self, model: torch.nn.Module, desc: str, loss: float, steps: int) -> None:
        start = time.perf_counter()
        self.steps += steps
        row = {"step": self.steps, "loss": loss}
        with compute.uncounted():  # bookkeeping, not the model's compute
            for name in PARTS:
                part = getattr(self.val, name)
                if len(part):
                    hits = predict(model, part.x).argmax(1).cpu() == part.y.cpu()  # [N_part] bool
                    row[f"val_{name}_acc"] = hits.float().mean().item()
        self.rows.append(row)
        self.seconds += time.perf_counter() - start


@contextlib.contextmanager
def first_chain_curve(seed: int, seeds: list[int], val: Splits) -> Iterator[Curve | None]:
    """Inside the block, every fit of chain `seed` adds its epochs to the yielded Curve when `seed` is the first
    chain; other chains get None and run exactly as before."""
    if seed != seeds[0]:
        yield None
        return
    curve = Curve(val)
    with progress_hook(curve.record):
        yield curve


def curve_seconds(curve: Curve | None) -> float:
    return 0.0 if curve is None else curve.seconds


def write_curve(name: str, rows: list[dict[str, float]]) -> None:
    """live/<name>/ written by dvclive, atomically (a failed stage leaves the previous folder). Nothing reaches DVC
    Studio or git: no experiment is saved, no dvc.yaml written, Studio is off."""
    os.environ["DVC_STUDIO_OFFLINE"] = "true"  # this stage process only: dvclive would otherwise look for a token
    from dvclive import Live  # imported by the stages that train only (0.5 s)

    class FilesOnly(Live):
        """dvclive's logger and file layout without its repository integration, which this stage has no use for
        (dvc.yaml declares live/ and DVC caches it): Live._init_dvc opens the DVC repository and reads git's HEAD,
        which raises in a git repository without a commit (dvclive 3.49: scmrepo's SCMError, outside the
        exceptions it catches), and where git has no DVC repository yet it runs `dvc init`."""

        def _init_dvc(self) -> None:
            self._dvc_file = "dvc.yaml"  # what _init_dvc sets with dvcyaml=None; nothing writes it

    with io.atomic_path(LIVE / name) as out:
        with FilesOnly(str(out), save_dvc_exp=False, dvcyaml=None, report=None) as live:
            for row in rows:
                live.step = int(row["step"])  # the optimiser steps so far, so that every curve shares one axis
                for metric, value in row.items():
                    if metric != "step":
                        live.log_metric(metric, value)
