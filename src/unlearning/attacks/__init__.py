"""Attacks that try to show a model did not really forget."""
