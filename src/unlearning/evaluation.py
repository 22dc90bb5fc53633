"""Every metric of one model of one chain: output accuracies, distance to the chain's retrain, membership
inference, the representation probe, and the confidences the per-example forgetting score reads.

`ChainReference` holds what every model of a chain is measured against (the retrain's outputs, the probe
set-ups), computed once. `model_metrics` scores one model against it from a single forward pass over every image
the metrics read: features [N, D], then logits = head(features), the `features` / `head` contract of
unlearning.core.models. (One pass instead of one per metric: on a busy 2-core machine each small torch call costs more
in thread hand-offs than in arithmetic.) The verdicts against the distribution of retrains are unlearning.audit's."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from unlearning.core import rng
from unlearning.attacks.mia import Scored, loss_auc, mia_efficacy
from unlearning.attacks.probe import Probe, class_images
from unlearning.forgetting_score import logit_confidence
from unlearning.metrics import accuracies, versus_oracle
from unlearning.core.train import Diverged
from unlearning.core.splits import Part, Splits

# SalUn's "Avg. Gap": mean absolute difference to the chain's retrain over these metrics (NaN ones are skipped).
# A secondary column only: one retrain is one draw, so a gap says little about one model (unlearning.audit ranks).
GAP_METRICS = ("forget_acc", "retain_acc", "new_acc", "test_acc", "mia_efficacy")


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
    return {"train.retain": train.retain, "train.new": train.new, "train.forget": train.forget,
            "test.retain": test.retain,
            "test.class": class_images(test), "scored.forget": scored.forget, "scored.retain": scored.retain,
            "scored.new": scored.new}


@dataclass
class ChainReference:
    seed: int  # the chain
    scored: Splits  # what output metrics are computed on (Experiment.evaluation)
    layout: Layout
    probes: list[Probe]  # few-shot probe draws (none on chains without the expensive attacks)
    oracle_logits: dict[str, torch.Tensor]  # the chain's retrain's logits on scored.forget / .retain / .new

    @classmethod
    def build(cls, seed: int, train: Splits, test: Splits, scored: Splits, oracle, probe_draws: int
              ) -> "ChainReference":
        """train: the train side (members, probe training, forget-train confidences); test: the raw test side
        (non-members, probe test); scored: what output accuracies are computed on."""
        layout = Layout.of(_parts(train, test, scored))
        probes = [Probe(train, rng.generator(seed, "probe", str(draw))) for draw in range(probe_draws)]
        return cls(seed, scored, layout, probes, scored_logits(layout, layout.forward(oracle)))


def scored_logits(layout: Layout, out: Outputs) -> dict[str, torch.Tensor]:
    """'forget' / 'retain' / 'new' -> logits on the scored parts (metrics.part_logits' format)."""
    return {name: layout.scored(out, f"scored.{name}").logits for name in ("forget", "retain", "new")}


def retain_train_accuracy(layout: Layout, out: Outputs) -> float:
    """Accuracy on every training image the retrain trains on (retain + new): the challenge's retain accuracy,
    one factor of its final score."""
    kept = [layout.scored(out, name) for name in ("train.retain", "train.new")]
    correct = sum(int((part.logits.argmax(1) == part.y).sum()) for part in kept)
    total = sum(len(part.y) for part in kept)
    return correct / total if total else float("nan")


def probe_recall(layout: Layout, probes: list[Probe], out: Outputs) -> float:
    """Mean recall of the forgotten class over the probe draws; NaN without probes."""
    if not probes:
        return float("nan")
    feats = [layout.features(out, name) for name in ("train.retain", "train.forget", "test.class")]
    return float(np.mean([probe.recall(*feats) for probe in probes]))


def model_metrics(model, ref: ChainReference) -> tuple[dict[str, float], torch.Tensor]:
    """Output accuracies (and retain-train accuracy), agreement and JS divergence to the chain's retrain, MIA
    efficacy, loss-threshold AUC and probe recall of one model, and the logit-scaled confidence of each forget-train example's own slot, float64
    [E] (what the forgetting score compares across chains). Raises Diverged on non-finite outputs."""
    layout = ref.layout
    out = layout.forward(model)
    if not bool(torch.isfinite(out.logits).all()):
        raise Diverged("non-finite outputs at evaluation")
    logits = scored_logits(layout, out)
    metrics = {**accuracies(model, ref.scored, logits), **versus_oracle(logits, ref.oracle_logits)}
    metrics["retain_train_acc"] = retain_train_accuracy(layout, out)
    # the same balanced SVC training draw for every model of the chain
    metrics["mia_efficacy"] = mia_efficacy(layout.scored(out, "train.retain"), layout.scored(out, "test.retain"),
                                           layout.scored(out, "train.forget"), rng.generator(ref.seed, "mia"))
    metrics["mia_loss_auc"] = loss_auc(layout.scored(out, "train.forget"), layout.scored(out, "test.class"))
    metrics["probe_recall"] = probe_recall(layout, ref.probes, out)
    forget = layout.scored(out, "train.forget")
    confidence = logit_confidence(forget.logits.double()[None], forget.y)[0]  # [E]
    return metrics, confidence


def relearn_metrics(curves: pd.DataFrame) -> dict[str, float]:
    """curves: one chain's relearn rows (k, step, forget_acc) of a model -> per k, the area under its forget-
    accuracy curve over the whole budget, as a share of the largest possible area (1 = relearned at step 0,
    0 = never above 0): one number per attack that is not censored by a threshold. NaN for an attack that
    diverged."""
    out = {}
    for k, curve in curves.groupby("k"):
        steps, acc = curve.step.to_numpy(dtype=float), curve.forget_acc.to_numpy(dtype=float)
        out[f"relearn_auc_k{k}"] = float(np.trapezoid(acc, steps) / steps[-1]) if len(steps) > 1 else float("nan")
    return out
