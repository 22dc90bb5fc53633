"""unlearn@<method>: pretrained model of each seed -> unlearned model + the method's wall-clock runtime and its
compute as sample counts (unlearning.compute)."""
from __future__ import annotations

import sys
import time

import torch

from stages import live
from stages.base.common import (PARAMS, PRETRAINED, model_dir, open_experiment, parallel_map, seed_file, stage,
                           write_runs)
from unlearning import compute
from unlearning.core import config, io, rng
from unlearning.core.registry import METHODS
from unlearning.core.train import Diverged, check_finite


@stage
def main(method: str) -> None:
    cfg = config.load(PARAMS, methods=(method,))
    if method not in cfg.methods:
        raise config.ConfigError(f"methods.{method}", "no params block for this method in params.yaml")
    exp = open_experiment(cfg)
    module, params = METHODS[method], cfg.methods[method]
    with io.atomic_path(model_dir(method)) as out:
        out.mkdir()

        def unlearn(seed: int, model: torch.nn.Module) -> tuple[bytes, dict, list | None]:
            # model: the chain's pretrained one
            splits = exp.splits(seed)  # train side only: a method never sees test data or the oracle
            with live.first_chain_curve(seed, cfg.seeds, exp.splits(seed, "val")) as curve:
                start = time.perf_counter()
                with compute.counting(model) as counter:
                    try:
                        model = module.unlearn(model, splits, params, rng.generator(seed, "unlearn", method))
                        check_finite(model, f"after {method}")  # the methods that do not train (ssd, head_mask) too
                        diverged = None
                    except Diverged as err:  # a result, reported by evaluate; the model keeps its weights
                        diverged = str(err)
                if exp.device.type == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - start - live.curve_seconds(curve)
            # a method may add entries of its own to the run record (l1_sparse: the share of near-zero weights)
            extra = module.report(model) if hasattr(module, "report") else {}
            run = {"seconds": seconds, "timed_alone": seed < cfg.audit.attack_chains, "diverged": diverged,
                   **counter.record(), **extra}
            # written by the stage: a Dask worker shares no file system with it
            return io.state_bytes(model), run, None if curve is None else curve.rows

        # speed-ups come from the attack chains, each timed alone; the other chains run in parallel
        results = parallel_map(unlearn, cfg.seeds, exp.device, timed=cfg.audit.attack_chains,
                               inputs=lambda seed: exp.load_model(seed_file(PRETRAINED, seed, ".pt"), seed),
                               executor=cfg.executor)
        for seed, (state, _, _) in zip(cfg.seeds, results):
            io.write_bytes(seed_file(out, seed, ".pt"), state)
    write_runs(method, cfg.seeds, [run for _, run, _ in results])
    live.write_curve(method, results[0][2])


if __name__ == "__main__":
    main(sys.argv[1])
