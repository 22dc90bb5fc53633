"""Stages of the Selective Amnesia scenario (scenarios/amnesia/dvc.yaml); run from scenarios/amnesia as
`python -m stages amnesia.<stage>`."""
