"""The unlearning lab library: config, data, models, the one training loop, methods, attacks and evaluation."""
