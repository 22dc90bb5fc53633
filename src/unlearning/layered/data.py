"""The synthetic data of every seed: a uniform null background and three Gaussian mixtures A, B and retain.

All points of all seeds are stored side by side: points[split][role] is float32 [S, n, 2] (S seeds)."""
from __future__ import annotations

import numpy as np
import torch

from unlearning.core import rng
from unlearning.layered.config import DataParams

SETS = ("A", "B", "retain")  # the three mixtures, in the order of the `means` tensor
ROLES = ("null", *SETS)


def balanced_clusters(points: np.ndarray, size: int, random_state: int) -> np.ndarray:
    """points [3 * size, 2] -> cluster [3 * size] in {0, 1, 2}, exactly `size` points per cluster: k-means
    centres, then the cheapest one-to-one matching of points to `size` copies of each centre."""
    from scipy.optimize import linear_sum_assignment  # imported here: seconds that random assignment skips
    from sklearn.cluster import KMeans

    centres = KMeans(n_clusters=3, n_init=10, random_state=random_state).fit(points).cluster_centers_
    slots = np.repeat(centres, size, axis=0)  # [3 * size, 2]; slot j belongs to cluster j // size
    cost = np.linalg.norm(points[:, None, :] - slots[None, :, :], axis=-1)
    _, slot_of_point = linear_sum_assignment(cost)
    return slot_of_point // size


def assign(means: torch.Tensor, mode: str, generator: torch.Generator, random_state: int) -> torch.Tensor:
    """means [3G, 2] -> set index [3G] (0 = A, 1 = B, 2 = retain), G means per set.

    random: a random split. k-means: the three spatial clusters become the three sets (sets far apart).
    adversarial: the means of each cluster are dealt round-robin to the sets, so every set has a member
    in every region (sets interleaved)."""
    size = len(means) // 3
    if mode == "random":
        return torch.randperm(len(means), generator=generator) // size
    clusters = torch.from_numpy(balanced_clusters(means.double().numpy(), size, random_state))
    if mode == "k-means":
        return clusters
    by_cluster = torch.argsort(clusters, stable=True)
    sets = torch.empty_like(clusters)
    sets[by_cluster] = torch.arange(len(means)) % 3
    return sets


def _mixture_sample(means: torch.Tensor, chol: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """means [3, G, 2], chol [3, G, 2, 2] (Cholesky factors) -> [3, n, 2], equal weights per Gaussian."""
    sets, gaussians = means.shape[:2]
    component = torch.randint(gaussians, (sets, n), generator=generator)  # [3, n]
    noise = torch.randn(sets, n, 2, 1, generator=generator)
    row = torch.arange(sets)[:, None]
    return means[row, component] + (chol[row, component] @ noise).squeeze(-1)


def generate_seed(p: DataParams, seed: int) -> dict:
    """One seed's mixtures and points; the points of a split depend only on (seed, split)."""
    generator = rng.generator(seed, "layered", "data")
    g = p.gaussians
    flat = (torch.rand(3 * g, 2, generator=generator) * 2 - 1) * p.mean_half_width
    sets = assign(flat, p.assignment, generator, rng.derive(seed, "layered", "k-means") % 2**32)
    means = flat[torch.argsort(sets, stable=True)].reshape(3, g, 2)  # [3, G, 2] in SETS order
    u = torch.randn(3, g, 2, 2, generator=generator)
    cov = p.cov_scale * torch.eye(2) + p.cov_perturb * u.transpose(-1, -2) @ u  # [3, G, 2, 2]
    chol = torch.linalg.cholesky(cov)
    points = {}
    for split, n in (("train", p.samples), ("test", p.test_samples)):
        draw = rng.generator(seed, "layered", "data", split)
        null = (torch.rand(n, 2, generator=draw) * 2 - 1) * p.half_width
        mixtures = _mixture_sample(means, chol, n, draw)
        points[split] = {"null": null, **{name: mixtures[i] for i, name in enumerate(SETS)}}
    return {"means": means, "cov": cov, "points": points}


def generate(p: DataParams, seeds: tuple[int, ...]) -> dict:
    """Every seed stacked: means [S, 3, G, 2], cov [S, 3, G, 2, 2], points[split][role] [S, n, 2]."""
    per_seed = [generate_seed(p, s) for s in seeds]
    return {
        "chains": list(seeds),
        "means": torch.stack([d["means"] for d in per_seed]).float(),
        "cov": torch.stack([d["cov"] for d in per_seed]).float(),
        "points": {split: {role: torch.stack([d["points"][split][role] for d in per_seed]).float()
                           for role in ROLES} for split in ("train", "test")},
    }


def same_set_neighbour_share(means: torch.Tensor) -> torch.Tensor:
    """means [S, 3, G, 2] -> [S]: share of means whose nearest other mean belongs to the same set.
    High for separated sets (k-means), low for interleaved ones (adversarial); (G-1)/(3G-1) expected
    for a random split."""
    seeds, sets, g, _ = means.shape
    flat = means.reshape(seeds, sets * g, 2)
    dist = torch.cdist(flat, flat)
    dist.diagonal(dim1=1, dim2=2).fill_(float("inf"))
    owner = torch.arange(sets).repeat_interleave(g)  # [3G] set of each mean
    nearest = dist.argmin(-1)  # [S, 3G]
    return (owner[nearest] == owner).float().mean(-1)
