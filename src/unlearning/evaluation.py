"""Every metric of one model of one seed: outputs vs the oracle, membership inference, representation probe.

`SeedReference` holds what every model of a seed is measured against (the oracle's outputs, the probe set-up,
the probe recalls of the original and the oracle), computed once. `model_metrics` scores one model against it
from a single forward pass over every image the metrics read: features [N, D], then logits = head(features),
the `features` / `head` contract of unlearning.models. (One pass instead of one per metric: on a busy 2-core
machine each small torch call costs more in thread hand-offs than in arithmetic.)"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from unlearning import rng
from unlearning.attacks.mia import Scored, loss_auc, mia_efficacy
from unlearning.attacks.probe import Probe, class_images, is_hiding
from unlearning.attacks.relearn import steps_to_reach
from unlearning.metrics import accuracies, versus_oracle
from unlearning.splits import Part, Splits

# SalUn's "Avg. Gap": mean absolute difference to the oracle over these metrics (NaN ones are skipped).
GAP_METRICS = ("forget_acc", "retain_acc", "new_acc", "test_acc", "mia_efficacy")
# A model "relearns" once its forget accuracy is back to this share of the original model's.
RELEARN_LEVEL = 0.95


@dataclass
class Outputs:
    """One model on every image of a Layout."""

    features: torch.Tensor  # float32 [N, D]
    logits: torch.Tensor  # float32 [N, S]


@dataclass
class Layout:
    """Every image the evaluation of a seed reads, stacked once: x [N, C, H, W], and each named part's rows."""

    x: torch.Tensor
    rows: dict[str, slice]
    labels: dict[str, torch.Tensor]  # part name -> its slots [n_part]

    @classmethod
    def of(cls, parts: dict[str, Part]) -> "Layout":
        """Parts with identical images share rows (e.g. the scored forget part is test.forget in most
        scenarios), so that no image is forwarded twice."""
        chunks, rows, start = [], {}, 0
        for name, part in parts.items():
            same = next((other for other, r in rows.items() if len(parts[other]) == len(part)
                         and torch.equal(parts[other].x, part.x)), None)
            if same is not None:
                rows[name] = rows[same]
                continue
            rows[name] = slice(start, start + len(part))
            chunks.append(part.x)
            start += len(part)
        return cls(torch.cat(chunks), rows, {name: part.y for name, part in parts.items()})

    @torch.inference_mode()
    def forward(self, model, batch_size: int = 8192) -> Outputs:
        """Features and logits of every image, with train.predict's eval mode and autocast."""
        model.eval()
        feats, logits = [], []
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.x.device.type == "cuda"):
            for i in range(0, len(self.x), batch_size):
                f = model.features(self.x[i:i + batch_size])
                feats.append(f.float())
                logits.append(model.head(f).float())
        return Outputs(torch.cat(feats), torch.cat(logits))

    def scored(self, out: Outputs, name: str) -> Scored:
        """A part's logits and true slots."""
        return Scored(out.logits[self.rows[name]], self.labels[name])

    def features(self, out: Outputs, name: str) -> np.ndarray:
        return out.features[self.rows[name]].cpu().numpy()


def _parts(train: Splits, test: Splits, scored: Splits) -> dict[str, Part]:
    return {"train.retain": train.retain, "train.forget": train.forget, "test.retain": test.retain,
            "test.class": class_images(test), "scored.forget": scored.forget, "scored.retain": scored.retain,
            "scored.new": scored.new}


@dataclass
class SeedReference:
    seed: int
    scored: Splits  # what output metrics are computed on (Experiment.evaluation)
    layout: Layout
    probe: Probe
    oracle_logits: dict[str, torch.Tensor]  # the oracle's logits on scored.forget / .retain / .new
    recall_original: float  # probe recall of the original (pretrained) model
    recall_oracle: float  # probe recall of the oracle

    @classmethod
    def build(cls, seed: int, train: Splits, test: Splits, scored: Splits, oracle, original) -> "SeedReference":
        """train: the train side (members, probe training); test: the raw test side (non-members, probe
        test); scored: what output accuracies are computed on."""
        layout = Layout.of(_parts(train, test, scored))
        probe = Probe(train, rng.generator(seed, "probe"))
        oracle_out = layout.forward(oracle)
        return cls(seed, scored, layout, probe, scored_logits(layout, oracle_out),
                   probe_recall(layout, probe, layout.forward(original)), probe_recall(layout, probe, oracle_out))


def scored_logits(layout: Layout, out: Outputs) -> dict[str, torch.Tensor]:
    """'forget' / 'retain' / 'new' -> logits on the scored parts (metrics.part_logits' format)."""
    return {name: layout.scored(out, f"scored.{name}").logits for name in ("forget", "retain", "new")}


def probe_recall(layout: Layout, probe: Probe, out: Outputs) -> float:
    return probe.recall(*(layout.features(out, name) for name in ("train.retain", "train.forget", "test.class")))


def model_metrics(model, ref: SeedReference) -> dict[str, float]:
    """Output accuracies, agreement and JS divergence to the oracle, MIA efficacy, loss-threshold AUC, probe
    recall and the hiding flag of one model."""
    layout = ref.layout
    out = layout.forward(model)
    logits = scored_logits(layout, out)
    metrics = {**accuracies(model, ref.scored, logits), **versus_oracle(logits, ref.oracle_logits)}
    # the same balanced SVC training draw for every model of the seed
    metrics["mia_efficacy"] = mia_efficacy(layout.scored(out, "train.retain"), layout.scored(out, "test.retain"),
                                           layout.scored(out, "train.forget"), rng.generator(ref.seed, "mia"))
    metrics["mia_loss_auc"] = loss_auc(layout.scored(out, "train.forget"), layout.scored(out, "test.class"))
    metrics["probe_recall"] = probe_recall(layout, ref.probe, out)
    metrics["hiding"] = float(is_hiding(metrics["forget_acc"], metrics["probe_recall"], ref.recall_original,
                                        ref.recall_oracle))
    return metrics


def relearn_metrics(curves: pd.DataFrame, oracle: pd.DataFrame, original_forget_acc: float,
                    budget: int) -> dict[str, float]:
    """curves / oracle: one seed's relearn rows (k, step, forget_acc) of a model and of the oracle -> per k, the
    forget accuracy after the whole budget and the relearn-time ratio (model's steps to RELEARN_LEVEL of the
    original's forget accuracy / the oracle's steps; 1 = as hard to relearn as never learned)."""
    out = {}
    level = RELEARN_LEVEL * original_forget_acc
    for k, curve in curves.groupby("k"):
        oracle_curve = oracle[oracle.k == k].to_dict("records")
        out[f"relearn_acc_k{k}"] = curve.forget_acc.iloc[-1]
        mine = steps_to_reach(curve.to_dict("records"), level, budget)
        theirs = steps_to_reach(oracle_curve, level, budget)
        out[f"relearn_ratio_k{k}"] = mine / max(theirs, 1)
    return out
