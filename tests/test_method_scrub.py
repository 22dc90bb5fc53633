"""scrub: the frozen teacher, the configured max/min schedule and the tempered KL (bad values: test_methods.py)."""
from __future__ import annotations

import copy
import dataclasses

import torch

from unlearning.core import rng
from unlearning.core.train import predict
from unlearning.methods import scrub


def test_distill_kl_is_the_tempered_kl_times_t_squared():
    student, teacher = torch.randn(5, 4, generator=torch.Generator().manual_seed(0)).unbind(0)[:2]
    student, teacher = student[None], teacher[None]
    p_t, p_s = (teacher / 4).softmax(1), (student / 4).softmax(1)
    want = (p_t * (p_t.log() - p_s.log())).sum() * 16
    torch.testing.assert_close(scrub.distill_kl(student, teacher, 4.0), want[None])


def test_teacher_stays_frozen_and_max_min_epochs_alternate_as_configured(tiny_exp, tiny_models, pretrained,
                                                                          monkeypatch):
    calls = []
    real_fit = scrub.fit

    def spy(model, x, y, cfg, generator, **kwargs):
        calls.append((kwargs["desc"], len(x), cfg.epochs, cfg.batch_size))
        return real_fit(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(scrub, "fit", spy)
    splits = tiny_exp.splits(0)
    params = dataclasses.replace(tiny_exp.cfg.methods["scrub"], epochs=4, max_epochs=2)
    teacher = copy.deepcopy(tiny_models["pretrained"])
    student = scrub.scrub(pretrained, teacher, splits, params, rng.generator(0, "zoo"))
    for name, value in tiny_models["pretrained"].state_dict().items():
        assert torch.equal(teacher.state_dict()[name], value), name
    n_forget, n_target = len(splits.forget), len(splits.target)
    maximise = ("scrub max", n_forget, 1, params.forget_batch_size)
    minimise = ("scrub min", n_target, 1, params.batch_size)
    assert calls == [maximise, minimise, maximise, minimise, ("scrub min", n_target, 2, params.batch_size)]

    def kl(part):
        return scrub.distill_kl(predict(student, part.x), predict(teacher, part.x), 1.0).mean().item()

    assert kl(splits.forget) > 5 * kl(splits.retain)
