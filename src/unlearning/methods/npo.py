"""npo: Negative Preference Optimization (Zhang, Lin, Bai & Mei, COLM 2024, "Negative Preference Optimization:
From Catastrophic Collapse to Effective Unlearning"), adapted from a language model's sequence likelihood to a
classifier's p(y | x). On a forget image the loss is (2 / beta) log(1 + (p_theta(y|x) / p_ref(y|x))^beta)
= (2 / beta) softplus(beta (log p_theta - log p_ref)), p_ref the frozen pretrained model: gradient ascent on
log p_theta whose weight p_theta^beta / (p_theta^beta + p_ref^beta) fades once an image is forgotten, so unlike
neggrad it cannot run away. As the paper's NPO+RT, the cross-entropy on the kept data (retain + new) is added with
weight `retain_weight` (0: plain NPO on the forget images alone). beta = 0.1, the paper's. Optimiser: Adam (the
paper's AdamW without decay) at this project's default budget (one epoch of retain + new + forget, lr 3e-3)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.core.config import FitConfig, positive, require
from unlearning.core.train import fit, predict
from unlearning.methods.shared import mixed, role_mean

SOURCE = "NPO (Zhang et al. 2024), for classification"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    beta: float  # NPO's inverse temperature; the paper's 0.1
    retain_weight: float  # weight of the CE on retain + new (NPO+RT); 0 = NPO alone

    def __post_init__(self):
        super().__post_init__()
        positive(self, "beta")
        require(self.retain_weight >= 0, "retain_weight", f"must be >= 0, got {self.retain_weight!r}")


def npo_loss(log_p: torch.Tensor, log_p_ref: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-image NPO loss from log p_theta(y|x) [B] and log p_ref(y|x) [B]: (2 / beta) softplus(beta (lp - lp_ref))."""
    return 2 / beta * F.softplus(beta * (log_p - log_p_ref))


def unlearn(model, splits, params: Params, generator):
    x, y, is_forget = mixed(splits.target, splits.forget)  # kept first, then forget
    # log p_ref(y | x) of every training image [N]; only the forget images' entries are read
    log_p_ref = F.log_softmax(predict(model, x), dim=1).gather(1, y[:, None]).squeeze(1).clone()
    idx = torch.arange(len(y), device=y.device)

    def loss(model, xb, yb, idx_b):
        log_probs = F.log_softmax(model(xb).float(), dim=1)  # [B, K]
        ce = -log_probs.gather(1, yb[:, None]).squeeze(1)  # [B]
        forget_b = is_forget[idx_b]
        forget_term = role_mean(npo_loss(-ce, log_p_ref[idx_b], params.beta), forget_b)
        return forget_term + params.retain_weight * role_mean(ce, ~forget_b)

    return fit(model, x, y, params, generator, loss=loss, extra=idx, desc="npo")
