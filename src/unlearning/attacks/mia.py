"""Membership inference: does the model still treat the forget-train samples as samples it was trained on?

Two attacks, both black-box (they read softmax outputs only, as `Scored` = the model's logits + true slots):

- `mia_efficacy` (SalUn's "MIA-efficacy"): an SVC learns to tell members (retain-train samples) from non-members
  (test samples of the retained classes) from per-sample output features, on a balanced set; it is then asked
  about the forget-train samples. Efficacy = share classified as non-members: high = the forget samples look
  unseen (the oracle's target), low = they still look like training data.
- `loss_auc`: ROC AUC of the per-sample loss separating forget-train (members) from held-out images of the
  forgotten class (non-members), lower loss = more member-like. 0.5 = no membership signal; 1 = every member
  has a lower loss than every non-member.

"True slot" of a forget sample is its old slot (Part.y of a forget part), also in class replacement where the
slot has since been reused by the new class: a model that forgot gives that slot little probability.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from unlearning.core.splits import Part
from unlearning.core.train import predict

EPS = 1e-12  # keeps log(0) finite for confident outputs


class Scored(NamedTuple):
    logits: torch.Tensor  # float32 [N, S]
    y: torch.Tensor  # int64 [N], true slots

    def __len__(self) -> int:
        return len(self.y)


def scored(model, part: Part) -> Scored:
    """The model's outputs on a part (the evaluation stage slices them from one forward pass instead)."""
    return Scored(predict(model, part.x), part.y)


def output_features(s: Scored) -> np.ndarray:
    """Per-sample attack features [N, 3]: probability of the true slot, prediction entropy, and the modified
    entropy of Song & Mittal (2021), which also uses the true slot:
    -(1 - p_y) log p_y - sum_{j != y} p_j log(1 - p_j)."""
    probs = F.softmax(s.logits.double(), dim=1)  # [N, S]
    true = F.one_hot(s.y, probs.shape[1]).bool()  # [N, S]
    p_true = probs[true]  # [N]
    entropy = -(probs * (probs + EPS).log()).sum(1)
    others = torch.where(true, torch.zeros_like(probs), probs * (1 - probs + EPS).log())
    modified = -(1 - p_true) * (p_true + EPS).log() - others.sum(1)
    return torch.stack([p_true, entropy, modified], 1).cpu().numpy()


def _draw(s: Scored, n: int, generator: torch.Generator) -> Scored:
    """n random samples (all of them when there are fewer)."""
    rows = torch.randperm(len(s), generator=generator)[:n].to(s.y.device)
    return Scored(s.logits[rows], s.y[rows])


def mia_efficacy(members: Scored, non_members: Scored, forget: Scored, generator: torch.Generator,
                 max_per_side: int = 500) -> float:
    """members: retain-train; non_members: test samples of the retained classes; forget: forget-train.
    Fits an RBF SVC on the same number of random samples per side, at most max_per_side (three features need
    few samples, and an SVC's cost grows with their square), and returns the share of forget samples it
    classifies as non-members."""
    if len(forget) == 0:
        return float("nan")
    n = min(len(members), len(non_members), max_per_side)
    inside = output_features(_draw(members, n, generator))
    outside = output_features(_draw(non_members, n, generator))
    x = np.concatenate([inside, outside])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    attack = make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0, gamma="scale"))
    with threadpool_limits(1):  # a small fit: on a busy 2-core machine extra BLAS threads only contend
        attack.fit(x, y)
        return float((attack.predict(output_features(forget)) == 0).mean())


def sample_losses(s: Scored) -> np.ndarray:
    """Per-sample cross-entropy against the true slots, float64 [N]."""
    return F.cross_entropy(s.logits.double(), s.y, reduction="none").cpu().numpy()


def loss_auc(members: Scored, non_members: Scored) -> float:
    """ROC AUC of the loss-threshold attack: members (forget-train) vs non-members (held-out forget-class
    images)."""
    if len(members) == 0 or len(non_members) == 0:
        return float("nan")
    losses = np.concatenate([sample_losses(members), sample_losses(non_members)])
    is_member = np.concatenate([np.ones(len(members)), np.zeros(len(non_members))])
    return float(roc_auc_score(is_member, -losses))  # a lower loss says "member"
