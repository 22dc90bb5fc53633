"""Helpers of the tests/test_method_<name>.py files: splits whose kept data may not be touched, and a row lookup."""
from __future__ import annotations

import dataclasses

import torch

from unlearning.core.splits import Part, Splits


class Untouchable:
    """Stands in for a tensor a method must never read: any use raises."""

    def __getattr__(self, name):
        raise AssertionError(f"the method read data it must not see (.{name})")

    def __len__(self):
        raise AssertionError("the method read data it must not see (len)")

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise AssertionError(f"the method read data it must not see ({func.__name__})")


def forget_only(splits: Splits) -> Splits:
    """`splits` with the retain and new parts replaced by Untouchable ones."""
    hidden = Part(Untouchable(), Untouchable())
    return dataclasses.replace(splits, retain=hidden, new=hidden)


def without_forget(splits: Splits) -> Splits:
    hidden = Part(Untouchable(), Untouchable())
    return dataclasses.replace(splits, forget=hidden)


def row_index(rows: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """For each image of rows [R, ...], its index in table [N, ...], or -1 when it is not there."""
    flat_rows, flat_table = rows.flatten(1), table.flatten(1)
    equal = (flat_rows[:, None, :] == flat_table[None, :, :]).all(2)  # [R, N]
    return torch.where(equal.any(1), equal.float().argmax(1), torch.full((len(rows),), -1))


def flat(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def top_gradient_mask(model, x, y, fraction: float) -> dict:
    """The top `fraction` of all weights by |d CE(model(x), y) / d w|, computed here by plain autograd and a sort
    (not by the methods' own helper): {name: bool mask}."""
    import torch.nn.functional as F
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), list(params.values()))
    flat_abs = torch.cat([g.abs().flatten() for g in grads])
    keep = max(1, int(round(fraction * flat_abs.numel())))
    threshold = flat_abs.sort(descending=True).values[keep - 1]
    return {name: g.abs() >= threshold for name, g in zip(params, grads)}


def assert_only_masked_weights_move(original, model, mask: dict) -> None:
    """No weight outside `mask` (name -> bool tensor) changed from `original` to `model`, and most of the masked
    ones did (the mask was trained, not merely respected)."""
    moved_total = 0
    for (name, before), after in zip(original.named_parameters(), model.parameters()):
        moved = after.detach() != before.detach()
        assert not (moved & ~mask[name]).any(), name
        moved_total += int(moved.sum())
    assert moved_total > 0.5 * sum(int(m.sum()) for m in mask.values())
