"""executor.kind: dask -- a stage's chains as tasks on an existing Dask cluster (the stage is its client).

What travels, and how (no shared file system, no project install on the workers):
- The task function (a stage's closure: the dataset tensors, the config, and this checkout's own code of
  `stages` and `unlearning`, pickled by value) goes once per stage as cloudpickle bytes; a worker unpickles it
  once (a `Shipped` held in its memory) and a peer that needs it fetches those bytes, never the live closure,
  which Dask's own pickling cannot always serialise (a ContextVar in train.fit, for one). The workers need only
  the same Python and packages (requirements.txt), so a queued experiment with edited code runs that code, not
  whatever a worker has installed.
- Each item (a seed, a (seed, k) attack) and its inputs (the models it starts from, read here in the stage) go as
  cloudpickle bytes with the task; the result (model state as .pt bytes, run records, metrics) comes back as the
  bytes of torch.save. Over tls:// the scheduler admits only workers with the cluster's certificates, and the
  stage loads results as they are; over tcp:// nothing vouches for a worker, so the stage loads them with torch's
  weights_only loader (tensors and plain data only: a crafted pickle cannot run code in the stage) and a stage
  whose results hold more (evaluate's tables) needs tls://. Whom the stage trusts: stages.base.dask_security.
  At most two tasks per worker thread are in flight, so the stage never holds every chain's inputs at once.
- Fault tolerance is Dask's: a task whose worker dies is rerun elsewhere by the scheduler (its
  distributed.scheduler.allowed-failures, 3 by default), and the unpickled function it needs is recomputed from
  the bytes the scheduler holds if the worker that held it died. A task that raises is not retried: the code is
  deterministic, so it would raise again.
- Same bits as the local executor: every task runs with the stage's torch thread count, and a worker must run
  with the stage's CPU pin (stages.base.process.CPU_PIN, set in the worker's environment before it starts: numpy,
  hence OpenBLAS, is loaded when distributed is). A worker without it is refused, with the variable to set.
- On CUDA each task asks for one GPU through worker resources (workers started with `--resources GPU=1`).
The client is closed when the map ends: nothing outlives the stage."""
from __future__ import annotations

import collections
import contextlib
import contextvars
import io
import operator
import os
import pickle
import sys
import threading
import uuid
import warnings
from typing import Callable, Sequence

import cloudpickle

from stages.base import dask_security, process
from stages.base.dask_security import CONNECT_TIMEOUT_S
from unlearning.core.config import ConfigError, ExecutorConfig

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
IN_FLIGHT_PER_THREAD = 2  # tasks queued per worker thread: no worker idles between tasks, inputs stay bounded


def scheduler_address(configured: str | None) -> tuple[str, str]:
    """(address, where it came from): DASK_SCHEDULER_ADDRESS overrides executor.address."""
    from_env = os.environ.get(ADDRESS_ENV)
    if from_env:
        return from_env, f"{ADDRESS_ENV}, which overrides executor.address"
    if not configured:
        raise ConfigError("executor.address", f"executor.kind dask needs a scheduler address here or in {ADDRESS_ENV}")
    return configured, "executor.address"


def _new_context_var(name: str, *default):
    return contextvars.ContextVar(name, default=default[0]) if default else contextvars.ContextVar(name)


def _reduce_context_var(var: contextvars.ContextVar):
    """A module-level ContextVar (train.fit's epoch hook) travels as a fresh one with the same name and default:
    Python cannot pickle it, and a value set in the stage means nothing in a worker anyway."""
    try:
        default = (contextvars.Context().run(var.get),)  # an empty context: only the default is visible
    except LookupError:
        default = ()
    return _new_context_var, (var.name, *default)


class _Pickler(cloudpickle.CloudPickler):
    # a class attribute: the C pickler reads dispatch_table once, when the instance is made
    dispatch_table = collections.ChainMap({contextvars.ContextVar: _reduce_context_var},
                                          cloudpickle.CloudPickler.dispatch_table)


def _dumps(obj) -> bytes:
    """cloudpickle with this checkout's packages by value: the workers need no copy of the project."""
    packages = [sys.modules["stages"], sys.modules["unlearning"]]
    for package in packages:
        cloudpickle.register_pickle_by_value(package)
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return buffer.getvalue()
    finally:
        for package in packages:
            cloudpickle.unregister_pickle_by_value(package)


def _pin() -> dict[str, str | None]:
    """The CPU-dispatch variables of this stage, which every worker must share."""
    return {name: os.environ.get(name) for name in process.CPU_PIN}


class Shipped:
    """A function held on a worker that, moved to another worker, travels as the bytes it came from. It is
    unpickled on its first call (once per worker: the lock keeps a worker's threads from doing it twice)."""

    def __init__(self, blob: bytes):
        self.blob = blob
        self.fn = None
        self.lock = threading.Lock()

    def __reduce__(self):
        return Shipped, (self.blob,)

    def __call__(self, *args):
        with self.lock:
            if self.fn is None:
                self.fn = cloudpickle.loads(self.blob)
        return self.fn(*args)


def ship(client, fn: Callable, key: str):
    """A future of fn as a Shipped in one worker's memory; tasks take it as an argument. The Shipped itself
    travels by value (cloudpickle.loads is all a worker needs installed): this module is not on the workers."""
    return client.submit(cloudpickle.loads, _dumps(Shipped(_dumps(fn))), key=key, pure=False)


def _task_runner(fn: Callable, with_inputs: bool, threads: int, pin: dict) -> Callable:
    """What a worker runs for each item: (item bytes, inputs bytes) -> result bytes. A closure, so that it travels
    by value with fn; it imports only installed packages."""

    def run(item_blob: bytes, inputs_blob: bytes | None) -> bytes:
        import torch

        wrong = {name: os.environ.get(name) for name, value in pin.items() if os.environ.get(name) != value}
        if wrong:
            raise RuntimeError(f"this Dask worker runs with {wrong}, the stage with {pin}: start workers with the "
                               "stage's CPU pin (README, 'Running the chains on a Dask cluster')")
        torch.set_num_threads(threads)
        item = cloudpickle.loads(item_blob)
        result = fn(item, cloudpickle.loads(inputs_blob)) if with_inputs else fn(item)
        buffer = io.BytesIO()
        torch.save(result, buffer)
        return buffer.getvalue()

    return run


def load_result(blob: bytes, trusted: bool):
    """A task's result as the worker saved it; from a worker that TLS did not vouch for, tensors and plain data
    only (torch's weights_only loader refuses any other global a pickle names, os.system included)."""
    import pickle

    import torch

    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as err:
        raise ConfigError("executor.address", "a worker's result over plain tcp:// holds more than tensors and "
                                              f"plain data ({str(err).splitlines()[0][:100]}); use a tls:// "
                                              "scheduler (README)") from None


@contextlib.contextmanager
def connect(executor: ExecutorConfig):
    """A distributed.Client on the scheduler, with a worker present, and whether TLS vouches for its peers; an
    address refused by dask_security, a scheduler that cannot be reached, or has no worker, is a ConfigError naming
    the address and the key it came from."""
    from distributed import Client

    address, key = scheduler_address(executor.address)
    scheme = dask_security.check_address(address, key, executor)
    secure = dask_security.security(executor.tls) if scheme == "tls" else None
    dask_security.probe(address, key, secure)  # bounded: Client() can wait for good on a foreign server
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False, security=secure)
    except (OSError, TimeoutError, ValueError) as err:
        raise ConfigError("executor.address", f"cannot reach the Dask scheduler at {address} (from {key}) within "
                                              f"{CONNECT_TIMEOUT_S} s: {str(err).splitlines()[0][:120]}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError):
            raise ConfigError("executor.address", f"the Dask scheduler at {address} (from {key}) has no worker "
                                                  f"after {CONNECT_TIMEOUT_S} s") from None
        for name, value in _pin().items():  # the workers present now; a later one is checked by each task
            for worker, theirs in client.run(os.getenv, name).items():
                if theirs != value:
                    raise ConfigError("executor", f"Dask worker {worker} runs with {name}={theirs}, the stage with "
                                                  f"{value}: start the workers with the stage's CPU pin (README)")
        yield client, scheme == "tls"
    finally:
        client.close()


def dask_map(client, fn: Callable, items: Sequence, inputs: Callable | None, gpu: bool, trusted: bool,
             on_done: Callable[[int, object], None] | None = None) -> list:
    """[fn(item)] or [fn(item, inputs(item))] on the cluster of `client` (see connect), in the order of items;
    inputs run here. on_done(i, result) is called here as each item's result arrives (in completion order).
    trusted: TLS vouches for the workers (see load_result)."""
    import torch
    from distributed import as_completed

    if not items:
        return []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*large graph.*")  # the dataset travels once, on purpose
        token = uuid.uuid4().hex[:8]
        runner = ship(client, _task_runner(fn, inputs is not None, torch.get_num_threads(), _pin()),
                      key=f"runner-{token}")
        threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
        limit = max(2, IN_FLIGHT_PER_THREAD * threads)
        resources = {"GPU": 1} if gpu else None
        queue, index, results = iter(enumerate(items)), {}, [None] * len(items)
        running = as_completed(loop=client.loop)  # set_as_default=False: name the client's loop

        def submit_next() -> None:
            for i, item in queue:
                blob = _dumps(inputs(item)) if inputs is not None else None
                future = client.submit(operator.call, runner, _dumps(item), blob, key=f"chain-{token}-{i}",
                                       resources=resources, pure=False)
                index[future.key] = i
                running.add(future)
                return

        for _ in range(limit):
            submit_next()
        for future in running:
            i = index.pop(future.key)
            results[i] = load_result(future.result(), trusted)
            if on_done is not None:
                on_done(i, results[i])
            future.release()
            submit_next()
        runner.release()
    return results
