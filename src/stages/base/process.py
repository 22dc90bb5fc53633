"""What makes a stage a well-behaved plain child process of DVC. Imports nothing heavy: `pin_cpu_dispatch` must
run before torch (or numpy) is first imported, since their kernel choice is made at import / first use.

- pin_cpu_dispatch: the same kernels, hence bit-identical results, on every x86-64 machine with AVX2. torch picks
  its ATen kernels by the CPU it finds (AVX-512 where present), and so do oneDNN (conv nets), MKL (torch's BLAS)
  and OpenBLAS (numpy, scikit-learn): float sums in another order differ in the last bits, and training amplifies
  that until committed metrics no longer reproduce on another machine. UNLEARNING_CPU_DISPATCH=native turns the
  pin off (for bench/pipeline.py's cost measurement; never for committed results).
- die_with_parent: a stage must not outlive the `dvc` that started it. Linux's parent-death signal kills the stage
  the moment its parent dies, also by `kill -9`, with no helper process or socket. DVC starts `$SHELL -c <cmd>`
  (`/bin/sh -c` when $SHELL is unset), and every dvc.yaml command begins with `exec`, so the shell replaces itself
  by the stage and the parent is `dvc` itself: bash would exec a lone command anyway, but dash (Debian's /bin/sh)
  stays as a parent that outlives dvc and keeps the stage alive. Forked workers (stages.base.common.parallel_map)
  set it again for themselves: it is not inherited across fork.
- exit_on_termination: SIGTERM and SIGHUP end the stage through SystemExit, so that `finally` blocks remove
  temporary files; SIGKILL cannot be caught, which is why temporaries live outside every output (unlearning.core.io)."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

# variable -> value: every library in a stage that dispatches on the CPU, set to its AVX2 code path
CPU_PIN = {
    "ATEN_CPU_CAPABILITY": "avx2",  # torch's own kernels
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # torch's conv / batch-norm kernels (oneDNN)
    "MKL_CBWR": "AVX2",  # torch's BLAS (MKL): Intel's conditional numerical reproducibility mode
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",  # numpy / scipy / scikit-learn (the attacks' logistic regressions)
}
PR_SET_PDEATHSIG = 1


def pin_cpu_dispatch() -> None:
    if os.environ.get("UNLEARNING_CPU_DISPATCH", "avx2") == "native":
        return
    if "torch" in sys.modules or "numpy" in sys.modules:
        raise RuntimeError("pin_cpu_dispatch must run before torch and numpy are imported")
    os.environ.update(CPU_PIN)


def die_with_parent() -> None:
    """Ask Linux for SIGKILL when the parent dies; elsewhere (no prctl) a no-op. Called in the new process."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def exit_on_termination() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
