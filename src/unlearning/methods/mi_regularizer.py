"""mi_regularizer: cross-entropy on retain + new data plus gamma * I(Y_hat; Z), where Z says whether a sample is
a forget or a retain sample and I is estimated on each batch from the soft predictions (SEEDS.md C).
Driving I to 0 makes the forget images' average prediction indistinguishable from the kept data's."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from unlearning.config import FitConfig, positive
from unlearning.methods.roles import mixed, role_mean
from unlearning.train import fit

SOURCE = "SEEDS.md C (information regulariser)"
TOUCHES = "forget + retain + new"


@dataclass(frozen=True)
class Params(FitConfig):
    gamma: float  # weight of the mutual-information term against the cross-entropy on retain + new

    def __post_init__(self):
        super().__post_init__()
        positive(self, "gamma")


def mutual_information(probs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Plug-in estimate of I(Y_hat; Z) in nats from soft predictions probs [B, K] and a binary Z [B] (bool):
    I = sum_z p(z) KL(p(y_hat | z) || p(y_hat)), with p(y_hat | z) the mean prediction of group z.
    0 when one group is empty or both groups have the same mean prediction; differentiable in probs."""
    weight = torch.stack([(~z).to(probs.dtype), z.to(probs.dtype)])  # [2, B] group membership
    count = weight.sum(1)  # [2]
    p_z = count / count.sum()  # [2]
    p_y_given_z = (weight @ probs) / count.clamp(min=1.0)[:, None]  # [2, K]
    p_y = p_z @ p_y_given_z  # [K] marginal of the batch
    eps = 1e-12
    kl = (p_y_given_z * (torch.log(p_y_given_z + eps) - torch.log(p_y + eps))).sum(1)  # [2]
    return (p_z * kl).sum()


def unlearn(model, splits, params: Params, generator):
    x, y, is_forget = mixed(splits.target, splits.forget)  # target = retain then new
    # Z contrasts forget with *retain* images: the new class's images (same slot as the forgotten class in
    # class replacement) are learned by cross-entropy but left out of the estimate, or the forget images
    # would be pulled towards predicting that slot as often as the new class occupies it.
    is_new = torch.zeros_like(is_forget)
    is_new[len(splits.retain):len(splits.target)] = True
    roles = torch.stack([is_forget, is_new], dim=1)  # [N, 2] bool

    def loss(model, xb, yb, roles_b):
        forget_b, new_b = roles_b[:, 0], roles_b[:, 1]
        logits = model(xb)
        learn = role_mean(F.cross_entropy(logits, yb, reduction="none"), ~forget_b)
        probs = logits.float().softmax(dim=1)[~new_b]  # [B_retain + B_forget, K]
        return learn + params.gamma * mutual_information(probs, forget_b[~new_b])

    return fit(model, x, y, params, generator, loss=loss, extra=roles, desc="mi_regularizer")
