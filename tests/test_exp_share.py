"""Sharing experiments between machines, as the README shows it: one clone queues an experiment and runs the queue,
`dvc exp push`es it to a git remote (a bare repository on disk) with its outputs in a DVC remote (a local folder);
another clone `dvc exp pull`s it and gets the very same outputs without running anything."""
from __future__ import annotations

from pathlib import Path

from dvc_project import GIT, dvc, make_project, sh

NAME = "shared-exp"


def outputs(project: Path) -> dict[str, bytes]:
    return {str(p.relative_to(project)): p.read_bytes() for p in sorted((project / "models").rglob("*.pt"))}


def adopt(project: Path) -> None:
    """The experiment as a branch, its outputs checked out of the cache (the pulled one on the second clone): the
    queued run reproduced up to `evaluate`, so `dvc exp apply`, which checks out every stage's outputs, would fail on
    the plots it never made."""
    dvc(project, "exp", "branch", NAME, NAME)
    sh(project, "git", "checkout", "-q", NAME)
    dvc(project, "checkout", "--with-deps", "evaluate")


def test_a_queued_experiment_travels_through_git_and_dvc_remotes(tmp_path):
    origin, storage = tmp_path / "origin.git", tmp_path / "storage"
    sh(tmp_path, "git", "init", "-q", "--bare", "-b", "main", str(origin))
    first = make_project(tmp_path / "first", ("original",))
    dvc(first, "remote", "add", "-d", "storage", str(storage))
    sh(first, "git", "remote", "add", "origin", str(origin))
    sh(first, *GIT, "commit", "-qam", "remotes")
    sh(first, "git", "push", "-q", "origin", "HEAD:main")

    dvc(first, "exp", "run", "--queue", "-q", "-n", NAME, "-S", "audit.chains=2", "-S", "audit.attack_chains=2",
        "evaluate")
    dvc(first, "queue", "start", "-j", "1")
    dvc(first, "queue", "logs", "--follow", NAME)  # returns when the experiment has finished
    assert "Success" in dvc(first, "queue", "status"), dvc(first, "queue", "status")
    dvc(first, "exp", "push", "origin", NAME)  # its git refs to origin, its outputs to the default DVC remote
    assert any(storage.rglob("*")), "exp push sent nothing to the DVC remote"

    second = tmp_path / "second"
    sh(tmp_path, "git", "clone", "-q", str(origin), str(second))
    dvc(second, "exp", "pull", "origin", NAME)
    assert NAME in dvc(second, "exp", "list", "--name-only").split()
    assert NAME in dvc(second, "exp", "show", "--only-changed", "--csv")  # the README's comparison, as a table
    adopt(second)
    adopt(first)
    pulled = outputs(second)
    # pretrained, oracle, oracle_b, unlearned/original: 2 chains each
    assert len(pulled) == 8 and pulled == outputs(first)
    assert "up to date" in dvc(second, "status", "--with-deps", "evaluate").lower()
