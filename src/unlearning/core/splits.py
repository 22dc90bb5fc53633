"""The one function that turns (dataset, scenario) into forget / retain / new parts. The parts are the same for
every chain: the forget request is fixed, and chains differ in training randomness only (initialisation, batch
order, a method's own draws), so that each forget example is seen by every chain's models.

Labels inside a Part are output *slots*, not dataset labels: in class replacement the learned class takes the
forgotten class's slot, so a forget part is labelled with the old slot and a new part with the same slot.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from unlearning.core import rng
from unlearning.core.config import ScenarioConfig


class Part(NamedTuple):
    x: torch.Tensor  # float32 [N, C, H, W], normalised
    y: torch.Tensor  # int64 [N], output slots

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device) -> "Part":
        return Part(self.x.to(device), self.y.to(device))


def concat(*parts: Part) -> Part:
    return Part(torch.cat([p.x for p in parts]), torch.cat([p.y for p in parts]))


@dataclass(frozen=True)
class Splits:
    """One side (train or test) of a scenario. A method only ever receives the train side."""

    forget: Part  # data to forget, labelled with its old slot
    retain: Part  # data whose behaviour must not change
    new: Part  # class to learn (class replacement), labelled with its new slot
    num_slots: int  # width of the output layer
    forget_slot: int  # slot the forgotten class used (and the learned class now uses)

    @property
    def pretrain(self) -> Part:
        """What the original model was trained on."""
        return concat(self.retain, self.forget)

    @property
    def target(self) -> Part:
        """What the model should know after unlearning: what the oracle is trained on."""
        return concat(self.retain, self.new)

    def to(self, device) -> "Splits":
        return Splits(self.forget.to(device), self.retain.to(device), self.new.to(device),
                      self.num_slots, self.forget_slot)


def make_splits(x: torch.Tensor, labels: torch.Tensor, scenario: ScenarioConfig, side: str = "train") -> Splits:
    """x: float32 [N, C, H, W]; labels: int64 [N] dataset labels; side: 'train', 'val' or 'test'.

    replace_class / forget_class: forget = every image of the forgotten class; new = the learned class (replace).
    forget_subset: on the train side, forget = a random `forget_fraction` of the class's images, drawn once from
    a fixed stream; on the other sides nothing is forgotten (forget is empty, every image is retain)."""
    slot_of = torch.full((int(labels.max()) + 1,), -1, dtype=torch.long)  # dataset label -> slot, -1 = unused
    for label in scenario.known_classes:
        if label < len(slot_of):
            slot_of[label] = scenario.slot(label)
    known = torch.isin(labels, torch.tensor(scenario.pretrain_classes))
    forget_mask = labels == scenario.forget
    if scenario.kind == "forget_subset":
        forget_mask = subset_mask(forget_mask, scenario.forget_fraction) if side == "train" else \
            torch.zeros_like(forget_mask)
    new_mask = labels == scenario.learn if scenario.learn is not None else torch.zeros_like(forget_mask)

    def part(mask: torch.Tensor) -> Part:
        return Part(x[mask], slot_of[labels[mask]])

    return Splits(part(forget_mask), part(known & ~forget_mask), part(new_mask),
                  scenario.num_slots, scenario.slot(scenario.forget))


def subset_mask(class_mask: torch.Tensor, fraction: float) -> torch.Tensor:
    """A random `fraction` of the True entries of class_mask [N] (bool), the same draw for every chain."""
    members = class_mask.nonzero().squeeze(1)
    order = torch.randperm(len(members), generator=rng.generator(0, "forget_subset"))
    chosen = members[order[:round(fraction * len(members))]]
    mask = torch.zeros_like(class_mask)
    mask[chosen] = True
    return mask
