"""scrub_r (SCRUB+R): in subset forgetting, the student is rewound to the checkpoint whose forget error is closest
to reference_error; a whole forgotten class is plain SCRUB."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from unlearning.core import rng
from unlearning.core.splits import Part
from unlearning.methods import scrub_r


def subset_splits(splits):
    """Half of the forget images stay retained: the forgotten slot keeps members (subset forgetting)."""
    half = len(splits.forget) // 2
    kept = Part(splits.forget.x[half:], splits.forget.y[half:])
    return dataclasses.replace(splits, forget=Part(splits.forget.x[:half], splits.forget.y[:half]),
                               retain=Part(torch.cat([splits.retain.x, kept.x]), torch.cat([splits.retain.y, kept.y])),
                               new=Part(splits.new.x[:0], splits.new.y[:0]))


@pytest.mark.parametrize("reference_error", [0.0, 1.0])
def test_rewinds_to_the_checkpoint_nearest_the_reference_error(tiny_exp, tiny_models, monkeypatch, reference_error):
    original = tiny_models["pretrained"]
    splits = subset_splits(tiny_exp.splits(0))
    params = dataclasses.replace(tiny_exp.cfg.methods["scrub_r"], reference_error=reference_error)
    states = [copy.deepcopy(original.state_dict())]
    real = scrub_r.scrub_rounds

    def spy(student, teacher, splits, params, generator, on_epoch=None):
        def record(model):
            states.append(copy.deepcopy(model.state_dict()))
            if on_epoch is not None:
                on_epoch(model)
        return real(student, teacher, splits, params, generator, on_epoch=record)

    monkeypatch.setattr(scrub_r, "scrub_rounds", spy)
    model = scrub_r.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "sr"))
    assert len(states) == params.epochs + 1  # the start and every min epoch
    errors = []
    for state in states:
        probe = copy.deepcopy(original)
        probe.load_state_dict(state)
        with torch.no_grad():
            errors.append((probe(splits.forget.x).argmax(1) != splits.forget.y).float().mean().item())
    gaps = [abs(e - reference_error) for e in errors]
    chosen = max(i for i, g in enumerate(gaps) if g == min(gaps))
    if reference_error == 0.0:
        assert chosen < len(states) - 1  # SCRUB raised the forget error: rewinding goes back
    for name, value in model.state_dict().items():
        assert torch.equal(value, states[chosen][name]), name
