"""Helpers that several methods share; a method imports them from here and never from another method's file, so
that editing one method's file reruns only that method's chain (dvc.yaml: each unlearn@<m> depends on this file
and on methods/<m>.py alone).

- Role-mixed training (mi_regularizer, neggrad_plus, saliency_freeze, scrub): the shared loop batches a role flag
  alongside the data, and a method's loss averages each role separately (a batch may hold none of one role).
- Random other slots (salun_rl, salun, ewc; random_labels and last_layers through relabelled_sample): the
  relabelling behind SalUn's RL.
- Last-k-layer training (cf_k, last_layers): which parameters fit may move.
- Saliency masks (saliency_freeze, salun): the weights with the largest forget-loss gradient.
- Diagonal empirical Fisher information (ewc's stability anchor; ssd squares batch gradients instead, as its
  reference does):
  F_i = mean over samples n of (d CE(model(x_n), y_n) / d theta_i)^2 -- squared *per-sample* gradients, not the
  square of a batch gradient (which cancels across samples of a well-fit model). For nn.Linear layers the
  per-sample squares are summed without materialising per-sample gradients: with layer input a_n [in] and output
  gradient d_n [out], dW_n = d_n a_n^T, so sum_n dW_n^2 = (d^2)^T (a^2), one matmul per layer (Goodfellow 2015).
  Models with parameters outside nn.Linear fall back to one backward pass per sample (exact, slower).
- L2 terms (salun, salun_rl, scrub, scrub_r: SGD's coupled weight decay; neggrad_plus: the pull to the initial
  weights): the shared loop's SGD has no weight decay, and d/dtheta of wd/2 ||theta - ref||^2 = wd (theta - ref)
  is exactly what torch.optim.SGD(weight_decay=wd) adds to the gradient when ref = 0.
- SCRUB's max/min loop (scrub, scrub_r): ScrubConfig and scrub_rounds; scrub_r rewinds to one of its rounds.
- Fresh layers (eu_k, bad_teacher): a re-initialised copy of a model's layers, with the model's own init; a whole
  fresh model (retrain_short, shrink_refit): fresh_init.
- Distillation (scrub, scrub_r, bad_teacher): distill_kl."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from unlearning.core.config import ConfigError, SGDConfig, positive, require
from unlearning.core.models import linear_layers
from unlearning.core.splits import Part, concat
from unlearning.core.train import fit, predict


def mixed(learn: Part, forget: Part) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-> x [N, ...], y [N], is_forget bool [N] with the learn samples first."""
    data = concat(learn, forget)
    is_forget = torch.cat([torch.zeros(len(learn), dtype=torch.bool, device=data.x.device),
                           torch.ones(len(forget), dtype=torch.bool, device=data.x.device)])
    return data.x, data.y, is_forget


def role_mean(values: torch.Tensor, is_role: torch.Tensor) -> torch.Tensor:
    """Mean of values[is_role] that is 0 (and keeps the graph) when the batch holds no sample of that role."""
    weights = is_role.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1.0)


def random_other_slots(forget: Part, num_slots: int, generator: torch.Generator) -> torch.Tensor:
    """A uniformly random slot != the sample's own slot, for every forget sample: [N_forget] int64."""
    shift = torch.randint(1, num_slots, (len(forget),), generator=generator).to(forget.y.device)
    return (forget.y + shift) % num_slots


def saliency_masks(model, forget_x: torch.Tensor, forget_y: torch.Tensor, fraction: float) -> dict:
    """Bool masks (one per parameter, same shape) selecting the top `fraction` of |grad| of the forget loss."""
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(forget_x), forget_y).backward()
    grads = {name: p.grad.detach().abs() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    flat = torch.cat([g.flatten() for g in grads.values()])
    keep = max(1, int(round(fraction * flat.numel())))
    threshold = torch.topk(flat, keep, sorted=True).values[-1]
    return {name: g >= threshold for name, g in grads.items()}


def _linear_only(model: nn.Module) -> bool:
    """True when every parameter belongs to an nn.Linear (the fast path applies)."""
    owned = {id(p) for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters(recurse=False)}
    return all(id(p) in owned for p in model.parameters())


def _linear_sums(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Sum over the batch of squared per-sample gradients, for a model made of nn.Linear layers."""
    layers = {m: name for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    acts, outs = {}, {}  # layer -> input a [B, in]; layer -> output [B, out]

    def keep(module, args, output):
        acts[module], outs[module] = args[0].detach(), output

    handles = [m.register_forward_hook(keep) for m in layers]
    try:
        with torch.enable_grad():
            loss = F.cross_entropy(model(x), y, reduction="sum")
    finally:
        for h in handles:
            h.remove()
    # Gradients w.r.t. the layer outputs only (no weight gradients are formed). reduction="sum" makes the
    # output gradient of sample n exactly d CE_n / d output_n.
    grads = dict(zip(layers, torch.autograd.grad(loss, [outs[m] for m in layers])))
    sums = {}
    for module, name in layers.items():
        a, d = acts[module], grads[module]
        if a.dim() != 2:
            raise ValueError(f"fisher: layer {name} saw a {a.dim()}-d input; the fast path needs [B, in]")
        sums[f"{name}.weight"] = d.pow(2).T @ a.pow(2)  # [out, in]
        if module.bias is not None:
            sums[f"{name}.bias"] = d.pow(2).sum(0)  # [out]
    return sums


def _loop_sums(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Same sums, one backward per sample: any architecture (used when a layer is not nn.Linear)."""
    sums = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for n in range(len(y)):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[n:n + 1]), y[n:n + 1]).backward()
        for name, p in model.named_parameters():
            sums[name] += p.grad.detach().pow(2)
    return sums


def diagonal_fisher(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> dict:
    """x: [N, ...], y: [N] slots -> {parameter name: F, same shape}, F >= 0. The model is left unchanged
    (no gradient remains on it) and in eval mode."""
    was_training = model.training
    model.eval()
    sums_of = _linear_sums if _linear_only(model) else _loop_sums
    total = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for start in range(0, len(y), batch_size):
        for name, value in sums_of(model, x[start:start + batch_size], y[start:start + batch_size]).items():
            total[name] += value
    model.zero_grad(set_to_none=True)  # the per-sample fallback leaves gradients behind
    model.train(was_training)
    return {name: value / max(len(y), 1) for name, value in total.items()}


def last_layers_trainable(model: nn.Module, k: int, key: str) -> dict[str, bool]:
    """fit's `trainable` for the last k nn.Linear layers of `model` (forward order, the head last); a k larger than
    the model's count is a ConfigError naming the params `key` (the count is known only once the model exists)."""
    layers = linear_layers(model)
    if k > len(layers):
        raise ConfigError(key, f"must be at most the model's {len(layers)} linear layers, got {k}")
    chosen = {id(p) for layer in layers[-k:] for p in layer.parameters()}
    return {name: True for name, p in model.named_parameters() if id(p) in chosen}


def relabelled_sample(forget: Part, samples: int, num_slots: int, generator: torch.Generator) -> Part:
    """A seeded draw of min(samples, N_forget) forget images, each labelled with a uniformly random slot other than
    its own (random_other_slots): the training set of the seed study's random-label baselines."""
    chosen = torch.randperm(len(forget), generator=generator)[:samples].to(forget.y.device)
    drawn = Part(forget.x[chosen], forget.y[chosen])
    return Part(drawn.x, random_other_slots(drawn, num_slots, generator))


def l2_penalty(model: nn.Module, weight: float, reference: dict | None = None) -> torch.Tensor:
    """weight / 2 * sum_i (theta_i - ref_i)^2 over every parameter; reference None: ref = 0 (weight decay)."""
    return weight / 2 * sum((p - (0 if reference is None else reference[name])).pow(2).sum()
                            for name, p in model.named_parameters())


def distill_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-sample KL(teacher || student) of the temperature-softened predictions, times T^2: [B, K] -> [B]."""
    log_s = F.log_softmax(student_logits.float() / temperature, dim=1)
    log_t = F.log_softmax(teacher_logits.float() / temperature, dim=1)
    return F.kl_div(log_s, log_t, log_target=True, reduction="none").sum(1) * temperature ** 2


@dataclass(frozen=True)
class ScrubConfig(SGDConfig):
    """SCRUB's settings (scrub, scrub_r). epochs: min epochs in all; the first `max_epochs` of them are each
    preceded by one max epoch."""

    max_epochs: int  # alternating (max, min) rounds; the paper's msteps
    forget_batch_size: int  # batch size of the max epochs (the forget set is small: smaller batches, more steps)
    temperature: float  # distillation temperature T of the KL terms
    kl_weight: float  # the reference's alpha: weight of KL(teacher || student) on retain samples in a min epoch
    ce_weight: float  # the reference's gamma: weight of the cross-entropy in a min epoch
    weight_decay: float  # SGD's coupled weight decay (an L2 term, both phases), as the reference's optimiser

    def __post_init__(self):
        super().__post_init__()
        positive(self, "max_epochs", "forget_batch_size", "temperature", "ce_weight")
        require(self.max_epochs <= self.epochs, "max_epochs",
                f"must be <= epochs ({self.epochs}), got {self.max_epochs!r}")
        require(self.kl_weight >= 0, "kl_weight", f"must be >= 0, got {self.kl_weight!r}")
        require(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay!r}")


def scrub_rounds(student, teacher, splits, params: ScrubConfig, generator, on_epoch=None):
    """SCRUB: train `student` in place against `teacher`, which is only read (its logits are computed once).
    on_epoch(student) runs after every min epoch (scrub_r's checkpoints). Each phase is one call of the shared
    loop, so the momentum restarts with every phase (the reference keeps one optimiser)."""
    forget, target = splits.forget, splits.target
    n_forget, n_retain = len(forget), len(splits.retain)
    # One teacher pass over forget, then retain. The teacher never saw the new class: on its images only the
    # cross-entropy applies and their logit rows stay zero (masked). clone(): out of inference mode.
    teacher_logits = predict(teacher, torch.cat([forget.x, splits.retain.x])).clone()  # [N_forget + N_retain, K]
    teacher_forget = teacher_logits[:n_forget]  # [N_forget, K]
    teacher_target = torch.cat([teacher_logits[n_forget:], teacher_logits.new_zeros(len(splits.new),
                                                                                    teacher_logits.shape[1])])
    is_retain = torch.cat([torch.ones(n_retain, dtype=torch.bool),
                           torch.zeros(len(splits.new), dtype=torch.bool)]).to(target.y.device)
    # extra = sample index: the losses look up the teacher's logits (and the role) of each batch sample
    forget_idx = torch.arange(len(forget), device=forget.y.device)
    target_idx = torch.arange(len(target), device=target.y.device)
    max_epoch = SGDConfig(epochs=1, batch_size=params.forget_batch_size, lr=params.lr, momentum=params.momentum)
    min_epoch = SGDConfig(epochs=1, batch_size=params.batch_size, lr=params.lr, momentum=params.momentum)
    per_epoch = -(-len(target) // params.batch_size)

    def max_loss(model, xb, yb, idx):
        kl = distill_kl(model(xb), teacher_forget[idx], params.temperature)  # [B]
        return -kl.mean() + l2_penalty(model, params.weight_decay)

    def min_loss(model, xb, yb, idx):
        logits = model(xb)
        kl = distill_kl(logits, teacher_target[idx], params.temperature)  # [B]
        return (params.ce_weight * F.cross_entropy(logits, yb) + params.kl_weight * role_mean(kl, is_retain[idx])
                + l2_penalty(model, params.weight_decay))

    def epoch_end(step: int) -> None:
        if on_epoch is not None and step % per_epoch == 0:
            on_epoch(student)

    for _ in range(params.max_epochs):
        fit(student, forget.x, forget.y, max_epoch, generator, loss=max_loss, extra=forget_idx, desc="scrub max")
        fit(student, target.x, target.y, min_epoch, generator, loss=min_loss, extra=target_idx,
            on_step=epoch_end, desc="scrub min")
    rest = params.epochs - params.max_epochs
    if rest:
        fit(student, target.x, target.y, SGDConfig(rest, params.batch_size, params.lr, params.momentum), generator,
            loss=min_loss, extra=target_idx, on_step=epoch_end, desc="scrub min")
    return student


def reinitialise(modules: list[nn.Module], generator: torch.Generator) -> None:
    """Give each module its PyTorch default initialisation again (reset_parameters), drawn on the CPU from a seed
    taken from `generator`, so that the draw is the same on every device."""
    seed = int(torch.randint(2 ** 62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in modules:
            cpu_copy = copy.deepcopy(module).cpu()
            cpu_copy.reset_parameters()
            with torch.no_grad():
                fresh = dict(cpu_copy.named_parameters(recurse=False)) | dict(cpu_copy.named_buffers(recurse=False))
                for name, t in (*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)):
                    t.copy_(fresh[name])


def fresh_init(model: nn.Module, generator: torch.Generator) -> None:
    """Every layer redrawn from scratch: PyTorch's default initialisation, and inside a torchvision ResNet its
    kaiming-normal convolutions (models.resnet18_trunk), so the start is distributed as a new model's."""
    reinitialise([m for m in model.modules() if hasattr(m, "reset_parameters")], generator)
    convs = [c for m in model.modules() if type(m).__name__ == "ResNet" for c in m.modules()
             if isinstance(c, nn.Conv2d)]
    seed = int(torch.randint(2 ** 62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)  # drawn on the CPU, as reinitialise does: the same start on every device
        for conv in convs:
            conv.weight.copy_(nn.init.kaiming_normal_(torch.empty(conv.weight.shape), mode="fan_out",
                                                      nonlinearity="relu"))
