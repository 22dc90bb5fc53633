"""Layered Unlearning (Qian et al. 2025) on 2-D Gaussian mixtures: a binary task where sets A and B are
unlearned either at once (base) or in layers (first A while B is kept, then B), then attacked by relearning.

Every tensor carries the seeds side by side ([..., S, ...]) so that all seeds train as one batched model."""
