"""A warm process that has imported torch once and forks one child per DVC stage.

Every DVC stage is a new Python process, and `import torch` costs ~2.5 s of CPU on the 2-core machine: with 36
stages that is a third of the default `dvc repro`. `python -m stages <stage> [args]` (stages/__main__.py) asks the
zygote of its Python environment to fork; the child takes over the caller's working directory, environment,
sys.path, argv and stdin/stdout/stderr, runs `stages.<stage>` as __main__, and its exit status becomes the
caller's. Nothing of this project is imported before the fork, so an edit to src/ counts from the next stage on.

One zygote per (interpreter, torch install, import-time environment); it listens on an abstract Unix socket (no
file to go stale), and exits after IDLE_SECONDS without a request. Standard library only above `serve()`: the
caller must stay cheap.
"""
from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from importlib.util import find_spec

IDLE_SECONDS = 60.0  # stages of one `dvc repro` follow each other within seconds
START_TIMEOUT_S = 10.0
# read by torch or its BLAS/OpenMP libraries at import time: a zygote serves only callers that agree on them;
# and this project's own variables, so that a benchmark with its own UNLEARNING_STAGE_LOG starts cold
IMPORT_TIME_ENV = ("OMP_", "MKL_", "KMP_", "GOMP_", "OPENBLAS_", "TORCH_", "PYTORCH_", "CUDA_", "LD_", "UNLEARNING_")


def address() -> str:
    """The abstract socket name of the zygote that matches this interpreter, torch build and environment."""
    torch_init = find_spec("torch").origin  # finds the file without importing torch
    # a reinstalled torch or an edited zygote.py (the protocol) must not be served by an old zygote
    files = [(path, os.stat(path).st_mtime_ns, os.stat(path).st_ino) for path in (torch_init, __file__)]
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(IMPORT_TIME_ENV))
    key = json.dumps([sys.executable, sys.prefix, files, env])
    return f"\0unlearning-zygote-{os.getuid()}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


# ---- caller side ------------------------------------------------------------------------------------------------

def _connect(name: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(name)
        return sock
    except (ConnectionRefusedError, FileNotFoundError):
        sock.close()
        return None


def _connect_or_start(name: str) -> socket.socket | None:
    sock = _connect(name)
    if sock is not None:
        return sock
    # a new session and no inherited descriptors: the zygote must not hold DVC's pipes or die with this stage;
    # -P: src/stages/ itself must not be on its sys.path
    subprocess.Popen([sys.executable, "-P", __file__, name.lstrip("\0")], cwd="/", start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:  # it binds before importing torch: this takes milliseconds
        time.sleep(0.01)
        sock = _connect(name)
        if sock is not None:
            return sock
    return None


def _read_line(sock: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        chunk = sock.recv(64)
        if not chunk:
            break
        line += chunk
    return line


def run_forked(module: str, args: list[str]) -> tuple[int, int] | None:
    """Run `module` as __main__ in a fork of the zygote: (exit code, the child's peak resident KiB), or None if
    no zygote could be reached."""
    try:
        sock = _connect_or_start(address())
        if sock is None:
            return None
        request = {"module": module, "argv": [module, *args], "cwd": os.getcwd(), "env": dict(os.environ),
                   "path": sys.path}
        socket.send_fds(sock, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        pid_line = _read_line(sock)
    except OSError:
        return None
    if not pid_line:
        return None
    child = int(pid_line)

    def forward(signum, frame):  # DVC stopping the stage stops the child
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    status_line = _read_line(sock)
    if not status_line:
        print(f"error: stage process {child} vanished without an exit status", file=sys.stderr)
        return 1, 0
    code, peak_kib = map(int, status_line.split())
    if code < 0:  # killed by a signal: die the same way, so the caller sees what happened
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code, peak_kib


# ---- zygote side ------------------------------------------------------------------------------------------------

def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):  # the environment can exceed one segment
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("request cut short")
        data += more
    return json.loads(data), fds


def _child(request: dict, fds: list[int]) -> None:
    """In the forked child: become the caller's stage process, then exit with the stage's status."""
    import io
    import runpy
    import traceback

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # fresh text streams on the caller's descriptors (line-buffered when the caller is a terminal)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=os.isatty(1))
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[:] = request["path"]
    sys.argv = request["argv"]
    code = 0
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - the stage's traceback goes to the caller's stderr, as in a plain run
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os._exit(code)


def serve(name: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(name)
    except OSError:  # another caller started the same zygote first
        return
    listener.listen(16)  # callers queue here while torch imports
    import numpy  # noqa: F401 - what every stage imports; not this project's code, which must load after the fork
    import torch  # noqa: F401
    import torch.nn.functional  # noqa: F401

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    waiting: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, caller's connection)
    last_active = time.monotonic()
    while waiting or time.monotonic() - last_active < IDLE_SECONDS:
        for key, _ in selector.select(timeout=IDLE_SECONDS):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                try:
                    request, fds = _receive(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:  # the child keeps only the caller's three descriptors of all the zygote's
                    selector.close()
                    listener.close()
                    conn.close()
                    for pidfd, (_, other) in waiting.items():
                        os.close(pidfd)
                        other.close()
                    _child(request, fds)
                for fd in fds:
                    os.close(fd)
                conn.sendall(f"{pid}\n".encode())
                pidfd = os.pidfd_open(pid)  # readable once the child has exited
                waiting[pidfd] = (pid, conn)
                selector.register(pidfd, selectors.EVENT_READ)
            else:
                pidfd = key.fd
                pid, conn = waiting.pop(pidfd)
                selector.unregister(pidfd)
                os.close(pidfd)
                _, status, usage = os.wait4(pid, 0)
                try:
                    conn.sendall(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}\n".encode())
                except OSError:
                    pass  # the caller is gone
                conn.close()
            last_active = time.monotonic()


if __name__ == "__main__":
    serve("\0" + sys.argv[1])
