"""The independent judge: an MLP classifier of the ten digits, used only to score generated images. It takes pixels
in [0, 1] and standardises them itself, so that generated images and real ones go through the same path.

Calibrated off the data (outlier exposure, Hendrycks, Mazeika & Dietterich, ICLR 2019): besides the cross-entropy on
real train images it is trained, with weight `outlier_weight`, towards the uniform answer on images that hold no
digit. Without that term an MLP answers with confidence on anything: the first version of this judge gave a flat
grey image p(3) = 0.33 and p(0) = 0.06, so 'how much of the forgotten digit is left' depended on which digit was
asked for. With it, a picture of nothing reads as 'any of the ten, equally' (p = 0.1 each, H = ln 10), for every
digit alike, and only a drawn digit moves the answer.

The no-digit images (`no_digit`) are a family, not the images the judge is checked on: per image two levels
lo = u^2 and hi = 1 - v^2 (u, v uniform; swapped when lo > hi), then either i.i.d. U(lo, hi) pixels or the flat
level lo. The squares push the levels towards the ends, so that wide-range noise, on which an MLP is most easily
confident, is common (with plain uniform levels, 1 noise image in 1000 still got a class above 0.15). Uniform
noise, flat grey, black and the method's noise surrogate are members; the check (`no_digit_outputs`) draws fresh ones.

`members` MLPs, each trained on its own initialisation and batch order, are averaged in probability: a stray
confident answer of one member on a noise image is diluted, and accuracy on real digits rises a little."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unlearning.amnesia.config import NUM_LABELS, ClassifierConfig
from unlearning.amnesia.replay import noise_surrogate
from unlearning.core.config import AugmentConfig, TrainConfig
from unlearning.core.models import MLP
from unlearning.core.rng import generator, seeded
from unlearning.core.train import fit, predict


class Member(nn.Module):
    """One MLP of the judge; it standardises its [0, 1] input itself."""

    def __init__(self, image_shape: tuple[int, ...], hidden: tuple[int, ...]):
        super().__init__()
        self.register_buffer("mean", torch.zeros(()))
        self.register_buffer("std", torch.ones(()))
        self.net = MLP(int(torch.tensor(image_shape).prod()), hidden, NUM_LABELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] in [0, 1] -> logits [N, 10]"""
        return self.net((x - self.mean) / self.std)


class Classifier(nn.Module):
    """The judge: the members' mean probability, returned as its log so that softmax gives it back."""

    def __init__(self, image_shape: tuple[int, ...], hidden: tuple[int, ...], members: int):
        super().__init__()
        self.members = nn.ModuleList(Member(image_shape, hidden) for _ in range(members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, C, H, W] in [0, 1] -> log of the mean probability [N, 10]"""
        probs = torch.stack([m(x).softmax(1) for m in self.members])  # [members, N, 10]
        return probs.mean(0).clamp_min(1e-30).log()


def build(cfg: ClassifierConfig, image_shape: tuple[int, ...]) -> Classifier:
    with seeded(cfg.seed, "classifier-init"):
        return Classifier(image_shape, cfg.hidden, cfg.members)


def no_digit(n: int, image_shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """n training images without a digit: [n, *image_shape] in [0, 1] (see the module docstring)."""
    u = torch.rand(n, 2, generator=gen)  # [n, 2]
    levels = torch.stack([u[:, 0] ** 2, 1 - u[:, 1] ** 2], 1).sort(1).values  # [n, 2]: lo <= hi
    lo, hi = (levels[:, i].view(n, *[1] * len(image_shape)) for i in (0, 1))
    noisy = torch.rand(n, generator=gen) < 0.5  # [n]: noise between the levels, else the flat level lo
    pixels = lo + (hi - lo) * torch.rand(n, *image_shape, generator=gen)
    return torch.where(noisy.view(n, *[1] * len(image_shape)), pixels, lo.expand_as(pixels))


def uniform_cross_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the cross-entropy between the uniform answer and softmax(logits [N, 10]): minimal (ln 10)
    exactly when every class gets 0.1."""
    return -F.log_softmax(logits, 1).mean(1).mean()


def train(cfg: ClassifierConfig, x: torch.Tensor, y: torch.Tensor) -> Classifier:
    """x: real train images [N, C, H, W] in [0, 1], y: [N] -> a trained judge on x's device. Each member's step
    sees a batch of real images (shifted by up to `pad` pixels) and, when outlier_weight > 0, as many fresh
    no-digit ones."""
    model = build(cfg, tuple(x.shape[1:])).to(x.device)
    for i, member in enumerate(model.members):
        member.mean.fill_(x.mean().item())
        member.std.fill_(x.std().item())
        _train_member(member, cfg, x, y, str(i))
    return model.eval()


def _train_member(member: Member, cfg: ClassifierConfig, x: torch.Tensor, y: torch.Tensor, name: str) -> None:
    outliers = generator(cfg.seed, "classifier", "no-digit", name)

    def loss(net, xb, yb, extra=None):
        real = F.cross_entropy(net(xb), yb)
        if cfg.outlier_weight == 0:
            return real
        blank = no_digit(len(xb), tuple(xb.shape[1:]), outliers).to(xb.device)  # [B, C, H, W]
        return real + cfg.outlier_weight * uniform_cross_entropy(net(blank))

    settings = TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                           augment=AugmentConfig(pad=cfg.pad, flip=False))
    fit(member, x, y, settings, generator(cfg.seed, "classifier", name), loss=loss, desc=f"classifier {name}")


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x).argmax(1).cpu() == y.cpu()).float().mean().item()


@torch.no_grad()
def no_digit_outputs(model: Classifier, image_shape: tuple[int, ...], n: int,
                     gen: torch.Generator) -> dict[str, dict[str, float]]:
    """What the judge says about images that hold no digit: uniform noise, flat grey, black and the noise
    surrogate Selective Amnesia trains towards (replay.noise_surrogate, n images each; one image for the flat
    ones). -> kind -> {max_class: the largest class probability over all images and classes (<= 0.15 is the
    calibration target), entropy: mean H(p(y | x)) in nats (ln 10 = 2.303 at uniform)}."""
    device = next(model.parameters()).device
    kinds = {"noise": torch.rand(n, *image_shape, generator=gen),
             "grey": torch.full((1, *image_shape), 0.5),
             "black": torch.zeros(1, *image_shape),
             "surrogate": noise_surrogate(0, n, image_shape, gen, "cpu").x}
    out = {}
    for name, x in kinds.items():
        p = predict(model, x.to(device)).softmax(1)  # [n, 10]
        out[name] = {"max_class": p.max().item(),
                     "entropy": (-(p * p.clamp_min(1e-12).log()).sum(1)).mean().item()}
    return out
