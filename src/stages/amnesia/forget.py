"""forget <method>: the original cVAE of each seed -> models/<method>/seed<s>.pt + seed<s>.json (runtime)."""
from __future__ import annotations

import sys
import time

from stages.amnesia.common import MODELS, config, load_cvae, load_images
from stages.base.common import stage
from unlearning.core import io, rng
from unlearning.amnesia.methods import METHODS, Task
from unlearning.core.config import ConfigError


@stage
def main(method: str) -> None:
    cfg = config()
    if method not in cfg.methods:
        raise ConfigError(f"methods.{method}", "no params block for this method in params.yaml")
    images = load_images(cfg)
    x, y = images["train_x"], images["train_y"]
    task = Task(forget=cfg.forget, retained=cfg.retained, forget_x=x[y == cfg.forget])
    with io.atomic_path(MODELS / method) as out:
        out.mkdir()
        for seed in cfg.seeds:
            model = load_cvae(cfg, "original", seed, tuple(x.shape[1:]), x.device)
            start = time.perf_counter()
            METHODS[method].unlearn(model, task, cfg.methods[method], rng.generator(seed, "amnesia", method))
            seconds = time.perf_counter() - start
            io.save_state(model, out / f"seed{seed}.pt")
            io.write_json(out / f"seed{seed}.json", {"seconds": seconds})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
