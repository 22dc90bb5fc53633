"""Stages of the Layered Unlearning scenario; run from scenarios/layered as `python ../../src/run_stage.py layered.<name>`."""
