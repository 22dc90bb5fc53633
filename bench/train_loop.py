"""Our training loop vs the DataLoader loops of the source studies, same model, same data, one run.

Prints seconds per epoch and the speed-up of `unlearning.train.fit` over
  (a) a torch DataLoader over a TensorDataset of the same normalised tensors (issue target: >= 8x), and
  (b) a DataLoader with per-sample transforms from uint8 images, the source studies' way;
and the MLP's achieved training GFLOP/s at batch 256 against a large matmul's GFLOP/s on this machine.

Run: python bench/train_loop.py [--epochs 5] [--dataset mnist-5k]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from unlearning import data, models, rng
from unlearning.config import FitConfig, ModelConfig
from unlearning.train import fit


class PerSampleImages(Dataset):
    """uint8 images converted and normalised one sample at a time (ToTensor + Normalize style)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: float, std: float):
        self.images, self.labels, self.mean, self.std = images, labels, mean, std

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return (self.images[i].float() / 255.0 - self.mean) / self.std, self.labels[i]


def dataloader_epoch(model, loader, optimiser) -> None:
    model.train()
    for xb, yb in loader:
        optimiser.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        optimiser.step()


def per_epoch(run_epoch, epochs: int) -> float:
    """Median seconds of `epochs` timed epochs after one warm-up epoch."""
    run_epoch()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dataset", default="mnist-5k")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    raw = data.build(args.dataset, 0.2)
    normalise = data.Normaliser.fit(raw["train_x"])
    x, y = normalise(raw["train_x"]), raw["train_y"]
    shape = tuple(x.shape[1:])
    model = models.build(ModelConfig("mlp", (256, 128)), shape, 10, seed=0)
    cfg = FitConfig(epochs=1, batch_size=args.batch_size, lr=1e-3)

    ours_model = copy.deepcopy(model)
    generator = rng.generator(0, "bench")
    ours = per_epoch(lambda: fit(ours_model, x, y, cfg, generator), args.epochs)

    results = {"ours (index batching)": ours}
    for name, dataset in (("DataLoader(TensorDataset)", TensorDataset(x, y)),
                          ("DataLoader(per-sample transform)",
                           PerSampleImages(raw["train_x"], y, normalise.mean, normalise.std))):
        loop_model = copy.deepcopy(model)
        optimiser = torch.optim.Adam(loop_model.parameters(), lr=cfg.lr)
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        results[name] = per_epoch(lambda: dataloader_epoch(loop_model, loader, optimiser), args.epochs)

    print(f"{args.dataset}: {len(y)} training images, MLP 256-128, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, median of {args.epochs} epochs")
    for name, seconds in results.items():
        print(f"  {name:36s} {seconds * 1e3:8.1f} ms/epoch   ours is {seconds / ours:5.1f}x faster")

    # achieved training throughput of the MLP at batch 256 (6 FLOPs per weight per sample: fwd + bwd)
    big = models.build(ModelConfig("mlp", (256, 128)), shape, 10, seed=0)
    weights = sum(p.numel() for n, p in big.named_parameters() if n.endswith("weight"))
    seconds = per_epoch(lambda: fit(big, x, y, FitConfig(1, 256, 1e-3), generator), args.epochs)
    achieved = 6 * weights * len(y) / seconds / 1e9
    peak = matmul_gflops()
    print(f"  MLP training at batch 256: {achieved:.1f} GFLOP/s; 2048^2 matmul: {peak:.1f} GFLOP/s "
          f"-> {100 * achieved / peak:.0f} % of matmul")


if __name__ == "__main__":
    main()
