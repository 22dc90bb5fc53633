"""No process of a stage listens on a socket: evaluate's forked workers returned tensors by file descriptor, which
multiprocessing hands over through a listening Unix socket in each worker; they now return bytes
(stages.base.common._run_task). The stage and its workers are polled through /proc while evaluate runs."""
from __future__ import annotations

import os
import time
from pathlib import Path

from workspace import make_workspace, pipeline, run, start

LISTENING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix's Flags


def listening_inodes() -> set[str]:
    inodes = set()
    for table in ("unix", "tcp", "tcp6"):
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if table == "unix" and int(fields[3], 16) & LISTENING:
                inodes.add(fields[6])
            elif table != "unix" and fields[3] == "0A":  # TCP_LISTEN
                inodes.add(fields[9])
    return inodes


def tree(root: int) -> set[int]:
    """root and every process below it."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def sockets_of(pid: int) -> set[str]:
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # ended meanwhile
        return set()
    return {link[8:-1] for link in links if link.startswith("socket:[")}


def test_no_process_of_evaluate_listens(tmp_path):
    workspace = make_workspace(tmp_path / "project")
    for args in pipeline(workspace)[:-2]:
        assert run(workspace, args).returncode == 0, args
    stage = start(workspace, ("evaluate",), UNLEARNING_WORKERS="2")
    seen, listening, polls = set(), set(), 0
    while stage.poll() is None:
        pids = tree(stage.pid)
        seen |= pids
        owned = set().union(*(sockets_of(pid) for pid in pids))
        listening |= owned & listening_inodes()
        polls += 1
        time.sleep(0.02)
    _, stderr = stage.communicate()
    assert stage.returncode == 0, stderr[-2000:]
    assert len(seen) >= 3 and polls > 10  # the stage and its two workers were watched
    assert listening == set()
