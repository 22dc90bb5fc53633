"""Development runs of the lab's own procedures (docs/lab/): every request of issue 22's list scored on the
validation split, never the test split, so that a procedure is chosen over the requests at once.

Each request (the default 6->3, 1->7, 8->3, Fashion-MNIST 6->3, random-subset forgetting) runs as a temporary DVC
project built as bench/pipeline.py builds one (make_project), with the request's overlay, `audit.split=val`, the
given number of chains, 2 attack chains, and only the methods named (each with its params.yaml block); `--set`
changes any key after that (e.g. methods.shrink_refit.reset=0.3). Printed per request and method: the forgetting
score's share of the ceiling [its 95 % interval], the speed-up in compute, the test-accuracy difference to the
retrains (on the validation split), and whether the probe flags hiding; --out keeps the numbers as JSON.

Run: python bench/lab_dev.py --methods salun_rl cf_k shrink_refit [--chains 16] [--set KEY=VALUE ...]
                             [--requests default replace_1_7 ...] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import frontier  # noqa: E402  (bench/frontier.py: collect)
import pipeline  # noqa: E402  (bench/pipeline.py: make_project, run; it puts src/ on the path)

ROOT = pipeline.ROOT
REQUESTS = {  # issue 22's development requests -> overlay
    "default": ROOT / "suite" / "requests" / "default.yaml",
    "replace_1_7": ROOT / "suite" / "requests" / "replace_1_7.yaml",
    "replace_8_3": ROOT / "suite" / "requests" / "replace_8_3.yaml",
    "fashion_6_3": ROOT / "suite" / "requests" / "fashion_6_3.yaml",
    "forget_subset": ROOT / "overlays" / "forget_subset.yaml",
}


def method_blocks(overlay: Path, names: list[str]) -> dict:
    """The params blocks of `names` as params.yaml with the request's overlay has them."""
    from unlearning import overlay as overlays
    params = overlays.merged(yaml.safe_load((ROOT / "params.yaml").read_text()), overlays.read(overlay))
    missing = [n for n in names if n not in params["methods"]]
    if missing:
        sys.exit(f"lab_dev: no params block for {missing[0]} in params.yaml")
    return {n: params["methods"][n] for n in names}


def project_sets(overlay: Path, methods: list[str], chains: int) -> list[str]:
    """The overrides of a development project: validation split, `chains` chains (2 attacked), only `methods`."""
    return ["audit.split=val", f"audit.chains={chains}", "audit.attack_chains=2",
            f"methods={json.dumps(method_blocks(overlay, methods))}"]


def measure(request: str, methods: list[str], chains: int, sets: list[str]) -> dict[str, dict]:
    overlay = REQUESTS[request]
    base = project_sets(overlay, methods, chains)
    with tempfile.TemporaryDirectory() as tmp:
        project = pipeline.make_project(Path(tmp), [overlay], base + sets)
        pipeline.run(project, sys.executable, "-m", "dvc", "repro", "-q", "evaluate")
        results = frontier.collect(project)
        audits = {m["model"]: m for m in json.loads((project / "metrics" / "audit.json").read_text())["models"]}
    for name, r in results.items():
        metrics = audits[name]["metrics"]
        for metric in ("test_acc", "forget_acc", "retain_acc", "new_acc"):
            if metrics.get(metric, {}).get("difference"):
                r[f"{metric}_difference"] = metrics[metric]["difference"]["mean"]
        r["hiding"] = audits[name]["hiding"]
        r["compute_speedup"] = frontier.compute_speedup(r)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", nargs="+", required=True)
    parser.add_argument("--chains", type=int, default=16)
    parser.add_argument("--requests", nargs="+", default=list(REQUESTS), choices=list(REQUESTS))
    parser.add_argument("--set", nargs="*", default=[], dest="sets")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    everything = {}
    for request in args.requests:
        start = time.perf_counter()
        everything[request] = results = measure(request, args.methods, args.chains, args.sets)
        print(f"## {request} ({args.chains} chains, validation split, {time.perf_counter() - start:.0f} s)")
        for name, r in sorted(results.items(), key=lambda kv: -kv[1]["share"]):
            speed = r["compute_speedup"]
            differences = "".join(f"  {m} {r[f'{m}_difference']:+.3f}" for m in
                                  ("test_acc", "forget_acc", "retain_acc", "new_acc") if f"{m}_difference" in r)
            print(f"  {name:16s} share {r['share']:.2f} [{r['share_low'] or 0:.2f}, {r['share_high'] or 0:.2f}]"
                  f"  speed-up {speed if speed is None else round(speed, 1)}x{differences}  hiding {r['hiding']}",
                  flush=True)
    if args.out:
        args.out.write_text(json.dumps({"methods": args.methods, "chains": args.chains, "sets": args.sets,
                                        "results": everything}, indent=1) + "\n")


if __name__ == "__main__":
    main()
