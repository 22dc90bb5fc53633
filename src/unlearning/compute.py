"""A count of the compute a model costs that does not depend on the machine: the samples passed through the
model's first layer, with gradients (a forward and a backward pass: one sample-gradient evaluation) and without
(a forward pass only).

Wall-clock seconds vary with the machine and its load (unlearning.timing); for one architecture the arithmetic of
a pass is fixed, so these counts, weighted 3:1 (a backward pass costs about two forward passes), compare a
method's compute with the retrain's on any machine and reproduce bit for bit. The hook sits on the first layer
with parameters, which every forward path of the project's models goes through (model(x) and model.features(x));
copies of the model (a method's frozen teacher, bad_teacher's re-initialised one) count into the same counter. A
model built anew with models.build would not be counted; no method builds one."""
from __future__ import annotations

import contextlib
import math
from contextvars import ContextVar

import torch

BACKWARD_WEIGHT = 3  # a forward + backward pass, in forward passes
_PAUSED: ContextVar[bool] = ContextVar("compute_paused", default=False)


class SampleCounter:
    def __init__(self):
        self.grad = 0  # samples passed forward with gradients enabled
        self.forward = 0  # samples passed forward only

    def __call__(self, module, inputs) -> None:
        if _PAUSED.get():
            return
        batch = inputs[0].shape[0]
        if torch.is_grad_enabled():
            self.grad += batch
        else:
            self.forward += batch

    def __deepcopy__(self, memo):  # a deep copy of the model keeps counting here
        return self

    @property
    def passes(self) -> int:
        """The compute in forward passes of one sample."""
        return passes(self.record())

    def record(self) -> dict[str, int]:
        return {"grad_samples": self.grad, "forward_samples": self.forward}


def passes(record: dict) -> float:
    """A run record's compute (its grad_samples and forward_samples, as SampleCounter.record writes them) in
    forward passes of one sample; NaN where the record has no counts."""
    return BACKWARD_WEIGHT * record.get("grad_samples", math.nan) + record.get("forward_samples", math.nan)


def first_layer(model: torch.nn.Module) -> torch.nn.Module:
    return next(m for m in model.modules() if not list(m.children()) and any(True for _ in m.parameters()))


@contextlib.contextmanager
def counting(model: torch.nn.Module):
    """Count what passes through `model` inside the block; yields the SampleCounter."""
    counter = SampleCounter()
    handle = first_layer(model).register_forward_pre_hook(counter)
    try:
        yield counter
    finally:
        handle.remove()


@contextlib.contextmanager
def uncounted():
    """Passes inside the block are bookkeeping (the first chain's validation curve), not the method's compute."""
    token = _PAUSED.set(True)
    try:
        yield
    finally:
        _PAUSED.reset(token)
