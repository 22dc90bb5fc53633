"""forget <method>: for every forgotten digit and chain, the method applied to the chain's original cVAE
-> models/<method>/digit<d>/chain<i>.pt and runs.json (seconds, the Fisher included for Selective Amnesia).
The (digit, chain) items run in parallel processes (parallel_map); each is seeded on its own."""
from __future__ import annotations

import sys
import time

from stages.amnesia.common import config, load_cvae, load_images, model_key, write_models
from stages.base.common import parallel_map, stage
from unlearning.amnesia.methods import METHODS, Task
from unlearning.core import io, rng
from unlearning.core.config import ConfigError


@stage
def main(method: str) -> None:
    cfg = config()
    if method not in cfg.methods:
        raise ConfigError(f"methods.{method}", "no params block for this method in params.yaml")
    images = load_images(cfg)
    x, y = images["train_x"], images["train_y"]
    shape = tuple(x.shape[1:])
    items = {model_key(c, d): (d, c) for d in cfg.forget for c in range(cfg.chains)}
    for c in range(cfg.chains):  # every input exists before any work starts: a missing one costs nothing
        load_cvae(cfg, "original", c, None, shape, x.device)

    def forget(key: str) -> tuple[bytes, float]:
        digit, chain = items[key]
        model = load_cvae(cfg, "original", chain, None, shape, x.device)
        start = time.perf_counter()
        METHODS[method].unlearn(model, Task.of(digit, x, y), cfg.methods[method],
                                rng.generator(chain, "amnesia", method, str(digit)))
        return io.state_bytes(model), time.perf_counter() - start

    write_models(method, list(items), parallel_map(forget, list(items), x.device))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
