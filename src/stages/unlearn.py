"""unlearn@<method>: pretrained model of each seed -> unlearned model + the method's wall-clock runtime."""
from __future__ import annotations

import sys
import time

import torch

from stages.common import PARAMS, PRETRAINED, model_dir, open_experiment, parallel_map, seed_file, stage
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

        parallel_map(unlearn, cfg.seeds, exp.device, timed=True)


if __name__ == "__main__":
    main(sys.argv[1])
