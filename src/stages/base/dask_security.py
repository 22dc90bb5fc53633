"""Whom a stage trusts on a Dask cluster, checked before it connects (stages.base.dask_executor.connect).

Whoever can join a Dask cluster can run code in it: a client submits functions, a worker runs them and returns
results, which the stage unpickles. So the cluster must admit only its own machines:
- tls://: mutual TLS with Dask's own distributed.Security. The stage shows its certificate (executor.tls, or
  Dask's configuration: DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT, ..._CLIENT__KEY) and accepts
  only a scheduler whose certificate the cluster's authority signed; a scheduler started with
  --tls-ca-file/--tls-cert/--tls-key in turn refuses any client or worker without such a certificate.
- tcp:// (or no scheme): no authentication and no encryption, so only on loopback (a single machine's cluster)
  unless executor.insecure_tcp opts in; on loopback every local user can still join it.
- any other scheme (http://, ...): refused.
An address must also answer as a Dask scheduler within CONNECT_TIMEOUT_S: `distributed.Client` waits for good on
an HTTP server, whose reply it reads as a message length of exabytes."""
from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from unlearning.core.config import ConfigError, ExecutorConfig

CONNECT_TIMEOUT_S = 5  # an unreachable or foreign address fails the stage this fast (exit 2), before any work
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: only localhost is taken as loopback (another name may resolve anywhere)
        return host in LOOPBACK_NAMES


def check_address(address: str, key: str, executor: ExecutorConfig) -> str:
    """The address's scheme, tls or tcp, or a ConfigError naming `key` (where the address came from)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tls", "tcp"):
        raise ConfigError("executor.address", f"{address} (from {key}): scheme {parts.scheme}:// is not a Dask "
                                              "scheduler's; use tls://host:port (or tcp:// on loopback)")
    if parts.scheme == "tcp" and not is_loopback(parts.hostname or "") and not executor.insecure_tcp:
        raise ConfigError("executor.address", f"{address} (from {key}): plain tcp:// lets whoever reaches it run "
                                              "code in the cluster and in this stage; use tls:// with certificates "
                                              "(README), or set executor.insecure_tcp: true on a trusted network")
    return parts.scheme


def security(tls) -> object:
    """distributed.Security for a tls:// address: executor.tls's files where set, else Dask's configuration."""
    from distributed import Security

    given = {"tls_ca_file": tls.ca_file, "tls_client_cert": tls.cert, "tls_client_key": tls.key}
    secure = Security(require_encryption=True, **{name: path for name, path in given.items() if path})
    for field, name in (("ca_file", "tls_ca_file"), ("cert", "tls_client_cert")):
        path = getattr(secure, name)
        if not path:
            raise ConfigError(f"executor.tls.{field}", "a tls:// scheduler needs it, here or in Dask's configuration "
                                                       f"(DASK_DISTRIBUTED__COMM__TLS__{name.upper()[4:]})")
        if not Path(path).is_file():
            raise ConfigError(f"executor.tls.{field}", f"{path}: file not found")
    return secure


async def _identity(address: str, connection_args: dict) -> dict:
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_TIMEOUT_S, **connection_args)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def probe(address: str, key: str, secure) -> None:
    """The address answers Dask's identity call as a scheduler within CONNECT_TIMEOUT_S, or a ConfigError."""
    args = {} if secure is None else secure.get_connection_args("client")
    try:
        reply = asyncio.run(asyncio.wait_for(_identity(address, args), CONNECT_TIMEOUT_S))
    except Exception as err:  # refused, TLS handshake, timeout, a foreign protocol's bytes: all mean "not here"
        reason = (str(err).splitlines() or [err.__class__.__name__])[0][:120] or err.__class__.__name__
        raise ConfigError("executor.address", f"cannot reach a Dask scheduler at {address} (from {key}) within "
                                              f"{CONNECT_TIMEOUT_S} s: {reason}") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ConfigError("executor.address", f"{address} (from {key}) answers, but not as a Dask scheduler")
