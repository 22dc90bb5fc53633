"""Representation probe: is the forgotten class still readable from the frozen features `model.features(x)`?

A multinomial logistic regression is fitted on standardised features of the train side: every retain sample
plus a few samples of the forgotten class (SHOT_SHARE of a retained class's mean count: 16 on mnist-5k, 6 on
digits), labelled with their classes (slots, which are one-to-one with the dataset classes in this set: the
learned class is left out). Its score is the forgotten class's recall on the test side's images of that class.

Why few-shot: fitted on all forget-train images, a linear probe finds MNIST's 6s in any feature space, the
oracle's included (measured on mnist-5k, seed 0: recall 0.93 oracle vs 0.95 original), so it cannot tell
unlearning from hiding. With 16 forget samples among ~3 300 others the probe only recalls the class when the
features make it stand out, as the original's do (0.90 on seeds 0 and 1, mean of 5 draws) and a model that never
learned it does not (oracle 0.57 and 0.67). Each draw is made once per chain, so that every model of a chain gets
the same probe sets.

The hiding verdict (unlearning.audit) compares a model's recall, over chains, with the retrains' band.
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from unlearning.core.splits import Part, Splits, concat

SHOT_SHARE = 0.04  # forget-class samples in the probe-training set, as a share of a retained class's mean count


@torch.inference_mode()
def features(model, x: torch.Tensor, batch_size: int = 8192) -> np.ndarray:
    """x: [N, C, H, W] -> float32 [N, D] penultimate activations."""
    model.eval()
    chunks = [model.features(x[i:i + batch_size]).float().cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(chunks).numpy() if chunks else np.zeros((0, 0), np.float32)


def class_images(splits: Splits) -> Part:
    """Every image of the forgotten class on one side: the forget part, plus (subset forgetting) the images of
    the class that were kept, which sit in `retain` under the same slot."""
    kept = splits.retain.y == splits.forget_slot
    return concat(splits.forget, Part(splits.retain.x[kept], splits.retain.y[kept]))


class Probe:
    """The probe set-up of one seed: which train-side samples it is fitted on, fixed for every model probed."""

    def __init__(self, train: Splits, generator: torch.Generator, shots: int | None = None):
        others = train.retain.y != train.forget_slot  # subset forgetting: the class's kept images stay out
        if shots is None:  # at least 2, so that the class exists for the probe at all
            shots = max(2, round(SHOT_SHARE * others.sum().item() / len(train.retain.y[others].unique())))
        self.keep = others.cpu().numpy()  # rows of train.retain in the probe set, bool [N_retain]
        self.chosen = torch.randperm(len(train.forget), generator=generator)[:shots].numpy()  # rows of forget
        self.y_fit = np.concatenate([train.retain.y.cpu().numpy()[self.keep],
                                     train.forget.y.cpu().numpy()[self.chosen]])
        self.slot = train.forget_slot
        self._memo: dict[str, float] = {}  # features digest -> recall: same features, same probe

    def recall(self, retain: np.ndarray, forget: np.ndarray, held_out: np.ndarray) -> float:
        """Share of the forgotten class's held-out images that the probe assigns to the class.
        retain, forget: features [N, D] of train.retain and train.forget; held_out: features of the test side's
        images of the forgotten class (class_images)."""
        x_fit = np.concatenate([retain[self.keep], forget[self.chosen]])
        key = hashlib.sha256(x_fit.tobytes() + held_out.tobytes()).hexdigest()
        if key not in self._memo:  # head_mask and original share the pretrained features: probe them once
            self._memo[key] = self._fit_and_score(x_fit, held_out)
        return self._memo[key]

    def _fit_and_score(self, x_fit: np.ndarray, x_eval: np.ndarray) -> float:
        if len(x_eval) == 0:
            return float("nan")
        # one BLAS thread: on a busy 2-core machine extra threads make this small fit ~10x slower, not faster
        with threadpool_limits(1):
            scaler = StandardScaler().fit(x_fit)
            probe = LogisticRegression(C=1.0, max_iter=300)  # lbfgs: one softmax over all classes
            probe.fit(scaler.transform(x_fit), self.y_fit)
            return float((probe.predict(scaler.transform(x_eval)) == self.slot).mean())
