"""relearn@<method> (and relearn_oracle): the relearn attack on each seed's model, for every k in params.

Writes relearn/<name>.json: [{"seed", "k", "step", "forget_acc"}, ...]."""
from __future__ import annotations

import sys

from stages.common import PARAMS, RELEARN, model_dir, open_experiment, parallel_map, seed_file, stage
from unlearning import config, io, rng
from unlearning.attacks.relearn import relearn_curve


@stage
def main(name: str) -> None:
    cfg = config.load(PARAMS)
    if name != "oracle" and name not in cfg.methods:
        raise config.ConfigError(f"methods.{name}", "no params block for this method in params.yaml")
    exp = open_experiment(cfg)

    def attack(seed_k: tuple[int, int]) -> list[dict]:
        seed, k = seed_k
        train = exp.splits(seed, "train")
        # subset forgetting: no test image was forgotten; score on the forgotten images the attacker did not use
        forget_test = None if cfg.scenario.kind == "forget_subset" else exp.splits(seed, "test").forget
        model = exp.load_model(seed_file(model_dir(name), seed, ".pt"), seed)
        # the same k samples for every model of a seed: the generator ignores which model is attacked
        generator = rng.generator(seed, "relearn", str(k))
        curve = relearn_curve(model, train.forget, train.target, forget_test, k, cfg.relearn, generator)
        return [{"seed": seed, "k": k, **point} for point in curve]

    # largest k first: the attacks' cost grows with k, so the workers finish together
    tasks = sorted(((seed, k) for seed in cfg.seeds for k in cfg.relearn.samples), key=lambda t: -t[1])
    curves = dict(zip(tasks, parallel_map(attack, tasks, exp.device)))
    rows = [row for seed in cfg.seeds for k in cfg.relearn.samples for row in curves[seed, k]]
    io.write_json(RELEARN / f"{name}.json", rows)


if __name__ == "__main__":
    main(sys.argv[1])
