"""A Dask cluster on 127.0.0.1 for the executor tests and bench/dask_chains.py: `dask scheduler` and N `dask worker`
processes, each in its own process group, every one of them killed when the block ends, even on failure.

Loopback and TLS only: every process binds 127.0.0.1, has no dashboard, and shows a certificate of a temporary
authority made for the cluster (tls_certs.py); the scheduler admits no client or worker without one, so no other
local user can join while the tests run. The workers cannot import this project (its
folder is taken off their sys.path, where the editable install puts it): a stage's code must reach them through
Dask, as on a cluster that shares no file system with the machine running dvc. They run with the stages' CPU pin
in their environment (stages.base.process.CPU_PIN), which every worker of a real cluster needs as well. Test and
bench helper only: no test in here."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from stages.base.process import CPU_PIN  # noqa: E402
from tls_certs import Certs, make_certs  # noqa: E402

# `dask worker` with this project's src/ removed from sys.path first; click reads the arguments after -c
WORKER = ("import sys; sys.path[:] = [p for p in sys.path if p != {src!r}]; "
          "from distributed.cli.dask_worker import main; main()")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cluster:
    address: str
    scratch: Path
    env: dict
    certs: Certs
    workers: list[subprocess.Popen] = field(default_factory=list)

    def executor(self) -> dict:
        """The executor block of params.yaml that runs a stage's chains here."""
        return {"kind": "dask", "address": self.address, "tls": self.certs.executor(), "insecure_tcp": False}

    def client(self, timeout_s: float = 30):
        from distributed import Client

        return Client(self.address, timeout=timeout_s, set_as_default=False, security=self.certs.security())

    def add_worker(self) -> subprocess.Popen:
        name = f"worker{len(self.workers)}"
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER.format(src=str(ROOT / "src")), self.address, "--host", "127.0.0.1",
             "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", name, *self.certs.cli(),
             "--local-directory", str(self.scratch / name)],
            cwd=self.scratch, env=self.env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=open(self.scratch / f"{name}.log", "w"))
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, count: int, timeout_s: float = 60) -> None:
        with self.client(timeout_s) as client:
            client.wait_for_workers(count, timeout=timeout_s)


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def local_cluster(scratch: Path, workers: int = 2):
    """Yield a Cluster with `workers` single-thread workers joined; every process is killed at the end."""
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **CPU_PIN}
    env.pop("PYTHONPATH", None)
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    certs = make_certs(scratch / "tls")
    port = free_port()
    scheduler = subprocess.Popen(
        [str(Path(sys.executable).with_name("dask")), "scheduler", "--protocol", "tls", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard", *certs.cli()], cwd=scratch, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=open(scratch / "scheduler.log", "w"))
    cluster = Cluster(f"tls://127.0.0.1:{port}", scratch, env, certs)
    try:
        deadline = time.monotonic() + 60
        while True:  # until the scheduler listens
            with socket.socket() as sock, contextlib.suppress(OSError):
                sock.connect(("127.0.0.1", port))
                break
            assert scheduler.poll() is None and time.monotonic() < deadline, (scratch / "scheduler.log").read_text()
            time.sleep(0.2)
        for _ in range(workers):
            cluster.add_worker()
        cluster.wait_for_workers(workers)
        yield cluster
    finally:
        for proc in [*cluster.workers, scheduler]:
            kill_group(proc)
