"""Stages of the Layered Unlearning scenario; run as `python -m stages.layered.<name>` from scenarios/layered."""
