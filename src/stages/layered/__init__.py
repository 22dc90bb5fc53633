"""Stages of the Layered Unlearning scenario; run from scenarios/layered as `python -m stages layered.<name>`."""
