"""Layered Unlearning (Qian et al. 2025) on 2-D Gaussian mixtures: a binary task where sets A and B are
unlearned either at once (base) or in layers (first A while B is kept, then B), then attacked by relearning.

A chain is one draw of all randomness: chain i seeds its data, its models' initial weights and its shuffles with
i (the "seed" of the code below). Every tensor carries the chains side by side ([..., S, ...], S chains) so that
all chains train as one batched model."""
