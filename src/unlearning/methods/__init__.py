"""The unlearning methods, one module each (shared.py: the helpers several of them use). The registry that finds
them, METHODS, is unlearning.core.registry, re-exported here."""
from unlearning.core.registry import HIDING, METHODS, NAMES, UNTRAINED

__all__ = ["HIDING", "METHODS", "NAMES", "UNTRAINED"]
