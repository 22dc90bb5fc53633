"""Shared body of the pretrain, oracle and oracle_b stages: one model per seed, trained from scratch with
cfg.train. oracle and oracle_b are two independent populations of retrains (own initialisations, own batch
orders): every model is judged against oracle, and oracle_b is an exact retrain judged like a method, which gives
the forgetting score's ceiling at the methods' number of models and a check of the verdicts' false-flag rate."""
from __future__ import annotations

import time

from stages import live
from stages.base.common import PARAMS, model_dir, open_experiment, parallel_map, seed_file, write_runs
from unlearning import compute
from unlearning.core import config, io, rng
from unlearning.core.train import Diverged, fit


def train_references(which: str) -> None:
    """which: 'pretrained' (pretrain classes, forget class included), 'oracle' or 'oracle_b' (final class set
    only)."""
    cfg = config.load(PARAMS, methods=())
    exp = open_experiment(cfg)
    with io.atomic_path(model_dir(which)) as out:
        out.mkdir()

        def train(seed: int) -> tuple[bytes, dict, list | None]:
            splits = exp.splits(seed)
            data = splits.pretrain if which == "pretrained" else splits.target
            model = exp.new_model(seed, {"pretrained": "original", "oracle": "retrain"}.get(which, which))
            with live.first_chain_curve(seed, cfg.seeds, exp.splits(seed, "val")) as curve:
                start = time.perf_counter()
                with compute.counting(model) as counter:
                    try:
                        fit(model, data.x, data.y, cfg.train, rng.generator(seed, which),
                            desc=f"{which} seed {seed}")
                        diverged = None
                    except Diverged as err:  # reported by evaluate; the weights are kept as they are
                        diverged = str(err)
                seconds = time.perf_counter() - start - live.curve_seconds(curve)
            run = {"seconds": seconds, "timed_alone": timed and seed < cfg.audit.attack_chains,
                   "train_samples": len(data), "diverged": diverged, **counter.record()}
            # written by the stage: a Dask worker shares no file system with it
            return io.state_bytes(model), run, None if curve is None else curve.rows

        # the retrain's seconds on the attack chains are the yardstick of every speed-up: timed one at a time
        timed = which == "oracle"
        results = parallel_map(train, cfg.seeds, exp.device, timed=cfg.audit.attack_chains if timed else 0,
                               executor=cfg.executor)
        for seed, (state, _, _) in zip(cfg.seeds, results):
            io.write_bytes(seed_file(out, seed, ".pt"), state)
    write_runs(which, cfg.seeds, [run for _, run, _ in results])
    live.write_curve(which, results[0][2])
