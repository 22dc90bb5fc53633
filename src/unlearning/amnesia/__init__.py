"""Selective Amnesia (Heng & Soh, NeurIPS 2023) on a conditional VAE: make a generative model forget how to
draw one label (study E, docs/sources.md). Models, losses and metrics only; the stages in src/stages/amnesia run them.

config.py      scenarios/amnesia/params.yaml -> frozen dataclasses
cvae.py        the conditional VAE (MLP encoder/decoder, one-hot label input)
elbo.py        the per-sample negative ELBO and the training of a cVAE with the shared fit loop
fisher.py      the diagonal Fisher of the original model, from its own samples
replay.py      generative replay of the retained labels and the uniform-noise surrogate
selective_amnesia.py   the method: noise surrogate + generative replay + EWC penalty
baselines.py   gradient ascent on the forgotten label (with replay)
methods.py     the METHODS registry and the Task a method receives
classifier.py  the independent judge, calibrated to answer 'any digit, equally' on images with no digit
evaluation.py  entropy / p(forgotten) / retained accuracy of generated samples, and the relearn attack
intervals.py   means over chains with bootstrap intervals, and every method against the oracle's distribution
"""
