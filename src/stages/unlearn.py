"""unlearn@<method>: pretrained model of each seed -> unlearned model + the method's wall-clock runtime."""
from __future__ import annotations

import sys
import time

import torch

from stages.common import PARAMS, PRETRAINED, model_dir, open_experiment, seed_file, stage
from unlearning import config, io, rng
from unlearning.methods import METHODS


@stage
def main(method: str) -> None:
    cfg = config.load(PARAMS)
    if method not in cfg.methods:
        raise config.ConfigError(f"methods.{method}", "no params block for this method in params.yaml")
    exp = open_experiment(cfg)
    module, params = METHODS[method], cfg.methods[method]
    with io.atomic_path(model_dir(method)) as out:
        out.mkdir()

        def unlearn(seed: int) -> None:
            model = exp.load_model(seed_file(PRETRAINED, seed, ".pt"), seed)
            splits = exp.splits(seed)  # train side only: a method never sees test data or the oracle
            start = time.perf_counter()
            model = module.unlearn(model, splits, params, rng.generator(seed, "unlearn", method))
            if exp.device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            io.save_state(model, seed_file(out, seed, ".pt"))
            io.write_json(seed_file(out, seed, ".json"), {"seconds": seconds})

        # One seed at a time, as the oracle trains (stages/reference.py): the seconds become speed-ups, and two
        # short runs side by side slowed each other far more than two oracle trainings did (scrub: 0.32 s per
        # seed in parallel, 0.18 s alone; oracle 2.50 s vs 2.22 s), which understated every speed-up.
        for seed in cfg.seeds:
            unlearn(seed)


if __name__ == "__main__":
    main(sys.argv[1])
