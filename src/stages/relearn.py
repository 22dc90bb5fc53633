"""relearn@<method> (and relearn_oracle): the relearn attack on the model of each attack chain, for every k.

Writes relearn/<name>.json: [{"seed", "k", "step", "forget_acc"}, ...]. An attack that diverges (a diverged model
under attack, mostly) is one row with forget_acc null and the reason under "diverged"."""
from __future__ import annotations

import sys

from stages.base.common import PARAMS, RELEARN, model_dir, open_experiment, parallel_map, seed_file, stage
from unlearning.core import config, io, rng
from unlearning.attacks.relearn import relearn_curve
from unlearning.core.train import Diverged


def check_samples(cfg: config.Config, exp) -> None:
    """Every k must fit: k forget-train images to attack with (in subset forgetting, one more left to score on)
    and k retain/new images to mix in. Checked before any attack runs, so that nothing is written."""
    subset = cfg.scenario.kind == "forget_subset"
    for seed in cfg.attack_seeds:
        train = exp.splits(seed, "train")
        available = min(len(train.forget) - (1 if subset else 0), len(train.target))
        for k in cfg.relearn.samples:
            config.require(k <= available, "relearn.samples",
                           f"k = {k} is more than the {available} forget-train images available for seed {seed}"
                           + (" (one forgotten image must stay out of the attack to score it)" if subset else ""))


@stage
def main(name: str) -> None:
    cfg = config.load(PARAMS, methods=())
    if name not in ("oracle", "oracle_b") and name not in cfg.methods:
        raise config.ConfigError(f"methods.{name}", "no params block for this method in params.yaml")
    exp = open_experiment(cfg, scoring=True)
    check_samples(cfg, exp)

    def attack(seed_k: tuple[int, int], model) -> list[dict]:  # model: the attacked model of chain `seed`
        seed, k = seed_k
        train = exp.splits(seed, "train")
        # subset forgetting: no test image was forgotten; score on the forgotten images the attacker did not use
        forget_test = None if cfg.scenario.kind == "forget_subset" else exp.splits(seed, cfg.audit.split).forget
        # the same k samples for every model of a seed: the generator ignores which model is attacked
        generator = rng.generator(seed, "relearn", str(k))
        try:
            curve = relearn_curve(model, train.forget, train.target, forget_test, k, cfg.relearn, generator)
        except Diverged as err:
            return [{"seed": seed, "k": k, "step": 0, "forget_acc": None, "diverged": str(err)}]
        return [{"seed": seed, "k": k, **point} for point in curve]

    def attacked_model(seed_k: tuple[int, int]):
        return exp.load_model(seed_file(model_dir(name), seed_k[0], ".pt"), seed_k[0])

    # largest k first: the attacks' cost grows with k, so the workers finish together
    # the expensive attack runs on the first audit.attack_chains chains only
    tasks = sorted(((seed, k) for seed in cfg.attack_seeds for k in cfg.relearn.samples), key=lambda t: -t[1])
    curves = dict(zip(tasks, parallel_map(attack, tasks, exp.device, inputs=attacked_model, executor=cfg.executor)))
    rows = [row for seed in cfg.attack_seeds for k in cfg.relearn.samples for row in curves[seed, k]]
    io.write_json(RELEARN / f"{name}.json", rows)


if __name__ == "__main__":
    main(sys.argv[1])
