"""bad_teacher: the student distils the pretrained model on a share of retain and a random network on forget."""
from __future__ import annotations

import copy

import torch

from unlearning.core import rng
from unlearning.core.train import predict
from unlearning.methods import bad_teacher


def test_targets_are_the_competent_teacher_on_retain_and_a_random_one_on_forget(tiny_exp, tiny_models,
                                                                                 monkeypatch):
    original = tiny_models["pretrained"]
    splits, params = tiny_exp.splits(0), tiny_exp.cfg.methods["bad_teacher"]
    seen = []
    real = bad_teacher.distill_kl

    def spy(student_logits, teacher_logits, temperature):
        seen.append(teacher_logits.detach().clone())
        return real(student_logits, teacher_logits, temperature)

    captured = {}
    real_fit = bad_teacher.fit

    def fit_spy(model, x, y, cfg, generator, **kwargs):
        captured["x"] = x
        return real_fit(model, x, y, cfg, generator, **kwargs)

    monkeypatch.setattr(bad_teacher, "distill_kl", spy)
    monkeypatch.setattr(bad_teacher, "fit", fit_spy)
    bad_teacher.unlearn(copy.deepcopy(original), splits, params, rng.generator(0, "bt"))
    x = captured["x"]
    n_retain = round(params.retain_share * len(splits.retain))
    assert len(x) == n_retain + len(splits.forget)
    assert torch.equal(x[n_retain:], splits.forget.x)
    # every target row, in the order the batches drew them, is re-found by its image
    targets = torch.cat(seen)
    assert len(targets) == params.epochs * len(x)
    first_epoch = targets[:len(x)]
    competent = predict(original, x)  # [N, K]: what the pretrained model says about every image
    # match each target row to its image: the competent rows equal the pretrained logits exactly
    is_competent = (first_epoch[:, None, :] == competent[None, :, :]).all(2).any(1)  # [N]
    assert int(is_competent.sum()) == n_retain  # one per retain image, none for a forget image
    random_rows = first_epoch[~is_competent]  # [N_forget, K]: the incompetent teacher's
    agree = (random_rows.argmax(1)[:, None] == competent[n_retain:].argmax(1)[None, :]).float().mean()
    assert agree < 0.6  # a random network, not the pretrained one
