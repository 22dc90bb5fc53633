"""Quick development scoring of one method's settings (docs/lab/): each setting's forgetting score as a share of
the ceiling, and its accuracy against the retrains', on issue 22's five requests, validation split.

bench/lab_dev.py runs a whole temporary DVC project per request and setting (about 70 s a request at 16 chains,
probe and relearn attack included). Most of that is the originals and the two retrain populations, which a change
of the method's settings leaves as they are. Here each request's lab_dev project (same overlay, `audit.split=val`,
the chains asked for) is built once under --projects and kept; DVC reruns nothing of it on later calls. Each setting
then unlearns every chain's original in this process and is scored as the evaluate stage scores it: every
forget-train image's logit-scaled confidence, the forgetting score against the chain retrains (`oracle`), the
ceiling `oracle_b` against `oracle`, test accuracy on the validation split. For the project's own setting this
reproduces the project's metrics/summary.json share exactly (tests/test_lab_fast.py). No probe, no relearn attack:
a setting picked here is then run through the suite, which has them. --time N also times each setting against a
retrain of the project's recipe on the first N chains, one after the other in this process, for the wall-clock cost
of a change; the suite's timing (each chain in its own stage process) stays the reference.

Run: python bench/lab_fast.py --method shrink_refit --chains 32 --projects DIR \\
         --variant registered --variant "no_average average_tail=0 lr=0.003" [--requests default ...]
A variant is a name and the method keys it changes from params.yaml's block (values read as YAML); the speed-up
printed is in compute (unlearning.compute), the retrain's over the method's.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_dev  # noqa: E402  (bench/lab_dev.py: REQUESTS, method_blocks; it puts src/ on the path)
import pipeline  # noqa: E402

from stages.base.common import data_path, manifest_path, model_dir, seed_file  # noqa: E402
from unlearning import compute  # noqa: E402
from unlearning.core import config, rng  # noqa: E402
from unlearning.core.experiment import Experiment  # noqa: E402
from unlearning.core.registry import METHODS  # noqa: E402
from unlearning.core.train import fit, predict  # noqa: E402
from unlearning.forgetting_score import forgetting_quality, logit_confidence  # noqa: E402
from unlearning.metrics import accuracies  # noqa: E402


def project(request: str, method: str, chains: int, projects: Path) -> Path:
    """The request's lab_dev project under projects/<request>/project, built and run to `evaluate` if it is not."""
    folder = projects / request
    path = folder / "project"
    if not (path / "metrics" / "summary.json").exists():
        overlay = lab_dev.REQUESTS[request]
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            pipeline.make_project(folder, [overlay], lab_dev.project_sets(overlay, [method], chains))
        pipeline.run(path, sys.executable, "-m", "dvc", "repro", "-q", "evaluate")
    return path


class Scorer:
    """One project's originals, retrains and data, opened once; score() runs a setting on every chain."""

    def __init__(self, path: Path, chains: int):
        self.cfg = config.load(path / "params.yaml", methods=())
        if len(self.cfg.seeds) != chains:
            sys.exit(f"lab_fast: {path} has {len(self.cfg.seeds)} chains, not {chains}: use another --projects")
        self.path = path
        self.exp = Experiment.open(self.cfg, path / data_path(self.cfg), path / manifest_path(self.cfg))
        self.forget = self.exp.splits(0).forget  # forget-train images, labelled with their old slot
        self.val = self.exp.splits(0, "val")  # what evaluate scores accuracies on with audit.split=val
        confidences, accuracies = {}, {}
        for name in ("oracle", "oracle_b"):
            models = [self.model(name, seed) for seed in self.cfg.seeds]
            confidences[name] = torch.stack([self.confidence(m) for m in models])  # [N, E]
            accuracies[name] = sum(map(self.accuracy, models)) / len(models)
        self.retrains, self.retrain_acc = confidences["oracle"], accuracies["oracle"]
        self.ceiling = forgetting_quality(confidences["oracle_b"], self.retrains)
        runs = json.loads((path / "runs" / "oracle.json").read_text())
        self.retrain_passes = sum(compute.passes(run) for run in runs.values()) / len(runs)

    def model(self, name: str, seed: int) -> torch.nn.Module:
        return self.exp.load_model(self.path / seed_file(model_dir(name), seed, ".pt"), seed)

    def confidence(self, model) -> torch.Tensor:
        return logit_confidence(predict(model, self.forget.x).double()[None], self.forget.y)[0]  # [E]

    def accuracy(self, model) -> float:
        return accuracies(model, self.val)["test_acc"]

    def timing(self, method: str, settings: dict[str, object], chains: int) -> dict[str, float]:
        """Mean over the first `chains` chains of the retrain's seconds over each setting's (name -> params), each
        chain's retrain (the oracle stage's recipe) timed right before its settings, one thread."""
        ratios = {name: 0.0 for name in settings}
        for seed in self.cfg.seeds[:chains]:
            splits = self.exp.splits(seed)
            model = self.exp.new_model(seed, "retrain")
            start = time.perf_counter()
            fit(model, splits.target.x, splits.target.y, self.cfg.train, rng.generator(seed, "oracle"))
            retrain = time.perf_counter() - start
            for name, params in settings.items():
                model = self.model("pretrained", seed)
                start = time.perf_counter()
                METHODS[method].unlearn(model, splits, params, rng.generator(seed, "unlearn", method))
                ratios[name] += retrain / (time.perf_counter() - start) / chains
        return ratios

    def score(self, method: str, params) -> dict[str, float]:
        module = METHODS[method]
        confidences, accuracy, passes = [], 0.0, 0.0
        for seed in self.cfg.seeds:  # as stages/unlearn.py calls the method
            model = self.model("pretrained", seed)
            with compute.counting(model) as counter:
                model = module.unlearn(model, self.exp.splits(seed), params, rng.generator(seed, "unlearn", method))
            confidences.append(self.confidence(model))
            accuracy += self.accuracy(model) / len(self.cfg.seeds)
            passes += compute.passes(counter.record()) / len(self.cfg.seeds)
        score = forgetting_quality(torch.stack(confidences), self.retrains)
        return {"share": score / self.ceiling, "score": score, "ceiling": self.ceiling,
                "test_acc_difference": accuracy - self.retrain_acc, "compute_speedup": self.retrain_passes / passes}


def parse_variant(text: str) -> tuple[str, dict]:
    name, *assignments = text.split()
    changes = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            sys.exit(f"lab_fast: variant {name!r}: {assignment!r} is not KEY=VALUE")
        changes[key] = yaml.safe_load(value)
    return name, changes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True)
    parser.add_argument("--variant", action="append", required=True, help='"NAME [KEY=VALUE ...]"')
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--projects", type=Path, required=True, help="where the requests' projects are kept")
    parser.add_argument("--requests", nargs="+", default=list(lab_dev.REQUESTS), choices=list(lab_dev.REQUESTS))
    parser.add_argument("--time", type=int, default=0, metavar="N",
                        help="also the wall-clock speed-up of each setting over a retrain, on the first N chains")
    parser.add_argument("--out", type=Path, help="keep the numbers as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the stages run
    variants = [parse_variant(v) for v in args.variant]
    results: dict[str, dict] = {name: {} for name, _ in variants}
    for request in args.requests:
        scorer = Scorer(project(request, args.method, args.chains, args.projects), args.chains)
        block = lab_dev.method_blocks(lab_dev.REQUESTS[request], [args.method])[args.method]
        settings = {name: config.parse_dataclass(METHODS[args.method].Params, {**block, **changes},
                                                 f"methods.{args.method}") for name, changes in variants}
        walls = scorer.timing(args.method, settings, args.time) if args.time else {}
        for name, params in settings.items():
            start = time.perf_counter()
            r = results[name][request] = scorer.score(args.method, params)
            if name in walls:
                r["wall_speedup"] = walls[name]
                print(f"{request:14s} {name:24s} wall-clock speed-up {walls[name]:.1f}x "
                      f"(first {args.time} chains, this process)", flush=True)
            print(f"{request:14s} {name:24s} share {r['share']:.2f}  test acc {100 * r['test_acc_difference']:+.1f}"
                  f"  compute speed-up {r['compute_speedup']:.1f}x  ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    print(f"\nshares ({' / '.join(args.requests)}), their mean, test accuracy - retrains' (points); "
          f"{args.chains} chains, validation split")
    for name, rows in results.items():
        shares = [rows[r]["share"] for r in args.requests]
        print(f"{name:24s} " + " / ".join(f"{s:.2f}" for s in shares) + f"  mean {sum(shares) / len(shares):.3f}"
              + "  test acc " + " / ".join(f"{100 * rows[r]['test_acc_difference']:+.1f}" for r in args.requests))
    if args.out:
        args.out.write_text(json.dumps({"method": args.method, "chains": args.chains, "variants": dict(variants),
                                        "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
