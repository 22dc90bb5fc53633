"""What the AVX2 kernel pin of the stages costs (stages/process.py): the same training work in fresh processes with
the pin and with the CPU's own dispatch, in turns, and the ratio of their median times.

The work is the default experiment's: the MLP 784-256-128-9 trained 3 epochs at batch 128 on 4 000 images with
the shared `fit` loop, one intra-op thread, as the stages run it; plus (--cnn) the 16-32-64 conv net, where oneDNN's
kernels differ most between AVX2 and AVX-512. On a CPU without AVX-512 both runs use the same kernels and the ratio
measures only the noise; the printed capabilities say which case this is.

Run: python bench/cpu_pin.py [--rounds 3] [--cnn]"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORK = """
import json, sys, time
sys.path.insert(0, {src!r})
from stages.base import process
process.pin_cpu_dispatch()
import torch
from types import SimpleNamespace
from unlearning.core import models
from unlearning.core.config import ModelConfig
from unlearning.core.train import fit
torch.set_num_threads(1)
cnn = {cnn}
cfg = ModelConfig("cnn", (), (16, 32, 64)) if cnn else ModelConfig("mlp", (256, 128), ())
shape = (1, 28, 28)
g = torch.Generator().manual_seed(0)
n = 4000 if not cnn else 1000
    x, y = torch.randn(n, *shape, generator=g), torch.randint(0, 9, (n,), generator=g)
model = models.build(cfg, shape, 9, 0)
start = time.perf_counter()
fit(model, x, y, SimpleNamespace(epochs=3, batch_size=128, lr=1e-3), torch.Generator().manual_seed(1))
print(json.dumps({{"seconds": time.perf_counter() - start,
                  "capability": torch.backends.cpu.get_cpu_capability()}}))
"""


def run(dispatch: str, cnn: bool) -> dict:
    env = {**os.environ, "UNLEARNING_CPU_DISPATCH": dispatch}
    for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS"):
        env.pop(name, None)  # "native": whatever this CPU picks
    out = subprocess.run([sys.executable, "-c", WORK.format(src=str(ROOT / "src"), cnn=cnn)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cnn", action="store_true")
    args = parser.parse_args()
    times = {"avx2": [], "native": []}
    capability = {}
    for _ in range(args.rounds):
        for dispatch in times:  # in turns, so that a slow phase of the machine hits both
            result = run(dispatch, args.cnn)
            times[dispatch].append(result["seconds"])
            capability[dispatch] = result["capability"]
    pinned, native = (statistics.median(times[d]) for d in ("avx2", "native"))
    print(f"{'cnn 16-32-64' if args.cnn else 'mlp 784-256-128'}, 3 epochs, {args.rounds} rounds in turns: "
          f"pinned ({capability['avx2']}) {pinned:.2f} s, native ({capability['native']}) {native:.2f} s, "
          f"pinned / native = {pinned / native:.2f}")


if __name__ == "__main__":
    main()
