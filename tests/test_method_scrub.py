"""scrub: the frozen teacher, the configured max/min schedule, the max step's KL ascent, and the min step's
CE + KL on retained images only (bad values: test_methods.py)."""
from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F

from unlearning.core import rng
from unlearning.core.train import predict
from unlearning.methods import scrub, shared


def tempered_kl(student_logits, teacher_logits, t):
    """KL(teacher || student) at temperature t, times t^2, written out: [B, K] -> [B]."""
    p_t, p_s = (teacher_logits / t).softmax(1), (student_logits / t).softmax(1)
    return (p_t * (p_t.log() - p_s.log())).sum(1) * t * t


def test_distill_kl_is_the_tempered_kl_times_t_squared():
    student, teacher = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(scrub.distill_kl(student, teacher, 4.0), tempered_kl(student, teacher, 4.0))


def run_with_spy(tiny_exp, tiny_models, pretrained, monkeypatch, **overrides):
    calls = []
    real_fit = shared.fit
    original = tiny_models["pretrained"]

    forget = tiny_exp.splits(0).forget

    def forget_kl(model):
        return tempered_kl(predict(model, forget.x), predict(original, forget.x), 1.0).mean().item()

    def spy(model, x, y, cfg, generator, **kwargs):
        before = forget_kl(model)
        out = real_fit(model, x, y, cfg, generator, **kwargs)
        calls.append((kwargs["desc"], len(x), cfg.epochs, cfg.batch_size, kwargs["loss"], before, forget_kl(model)))
        return out

    monkeypatch.setattr(shared, "fit", spy)
    params = dataclasses.replace(tiny_exp.cfg.methods["scrub"], **overrides)
    teacher = copy.deepcopy(original)
    student = scrub.scrub(pretrained, teacher, tiny_exp.splits(0), params, rng.generator(0, "zoo"))
    return calls, params, teacher, student


def test_teacher_stays_frozen_and_max_min_epochs_alternate_as_configured(tiny_exp, tiny_models, pretrained,
                                                                          monkeypatch):
    calls, params, teacher, student = run_with_spy(tiny_exp, tiny_models, pretrained, monkeypatch,
                                                   epochs=4, max_epochs=2)
    splits = tiny_exp.splits(0)
    for name, value in tiny_models["pretrained"].state_dict().items():
        assert torch.equal(teacher.state_dict()[name], value), name
    n_forget, n_target = len(splits.forget), len(splits.target)
    maximise = ("scrub max", n_forget, 1, params.forget_batch_size)
    minimise = ("scrub min", n_target, 1, params.batch_size)
    assert [c[:4] for c in calls] == [maximise, minimise, maximise, minimise,
                                      ("scrub min", n_target, 2, params.batch_size)]
    # the second max epoch ascends the KL on forget (the first starts where KL has zero gradient: student = teacher)
    assert calls[2][6] > 2 * calls[2][5] + 0.01

    def kl(part):
        return tempered_kl(predict(student, part.x), predict(teacher, part.x), 1.0).mean().item()

    assert kl(splits.forget) > 5 * kl(splits.retain)


def test_min_loss_is_weighted_ce_plus_kl_on_retained_images_only(tiny_exp, tiny_models, pretrained, monkeypatch):
    calls, params, teacher, _ = run_with_spy(tiny_exp, tiny_models, pretrained, monkeypatch, epochs=1, max_epochs=1,
                                             kl_weight=2.0, ce_weight=0.5, weight_decay=0.0)
    min_loss = next(c[4] for c in calls if c[0] == "scrub min")
    splits = tiny_exp.splits(0)
    target = splits.target
    moved = copy.deepcopy(teacher)
    with torch.no_grad():
        moved.head.weight.add_(0.3 * torch.randn(moved.head.weight.shape, generator=torch.Generator().manual_seed(1)))
        n_retain = len(splits.retain)
        for idx in (torch.arange(0, 16), torch.arange(n_retain, n_retain + 16)):  # retain rows, then new-class rows
            got = min_loss(moved, target.x[idx], target.y[idx], idx)
            ce = F.cross_entropy(moved(target.x[idx]), target.y[idx])
            retained = idx < n_retain
            kl = tempered_kl(moved(target.x[idx]), teacher(target.x[idx]), params.temperature)[retained]
            want = params.ce_weight * ce + params.kl_weight * (kl.mean() if retained.any() else 0.0)
            torch.testing.assert_close(got, torch.as_tensor(want, dtype=got.dtype), rtol=1e-4, atol=1e-5)
