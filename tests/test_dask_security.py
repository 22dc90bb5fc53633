"""Whom a stage trusts on a Dask cluster (stages.base.dask_security): the test cluster runs TLS with a temporary
authority, and admits no client or worker without its certificate; tcp:// only on loopback unless opted in; an
address where something other than a Dask scheduler answers (an HTTP server) is one line and exit 2 within the
timeout; a result from a worker that TLS does not vouch for is loaded without running code."""
from __future__ import annotations

import asyncio
import http.server
import io
import os
import pickle
import ssl
import subprocess
import sys
import threading
import time

import pytest
from dask_cluster import local_cluster
from test_bad_input import files_in, run_stage, with_data
from tls_certs import make_certs

pytest.importorskip("distributed")

from stages.base import dask_executor, dask_security  # noqa: E402
from unlearning.core.config import ConfigError  # noqa: E402


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("dask"), workers=1) as running:
        yield running


def connects(address: str, connection_args: dict) -> bool:
    """Whether a client with these connection arguments gets the scheduler's identity."""
    try:
        reply = asyncio.run(asyncio.wait_for(dask_security._identity(address, connection_args), 10))
    except Exception:  # refused in the TLS handshake, or a closed connection
        return False
    return reply.get("type") == "Scheduler"


def test_the_cluster_admits_only_certificates_of_its_authority(cluster, tmp_path):
    assert connects(cluster.address, cluster.certs.security().get_connection_args("client"))
    stranger = make_certs(tmp_path, "stranger")  # a certificate of another authority
    assert not connects(cluster.address, stranger.security().get_connection_args("client"))
    no_cert = ssl.create_default_context(cafile=str(cluster.certs.ca_file))  # trusts the cluster, shows nothing
    no_cert.check_hostname = False
    assert not connects(cluster.address, {"ssl_context": no_cert, "require_encryption": True})
    assert not connects(cluster.address.replace("tls://", "tcp://"), {})


def test_a_worker_without_the_certificate_is_refused(cluster, tmp_path):
    stranger = make_certs(tmp_path, "stranger")
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.address, "--host",
                               "127.0.0.1", "--no-nanny", "--no-dashboard", "--nthreads", "1", *stranger.cli()],
                              cwd=tmp_path, env=cluster.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(8)
        with cluster.client() as client:
            assert len(client.scheduler_info()["workers"]) == 1  # the cluster's own worker only
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.parametrize("address,ok", [("tcp://127.0.0.1:8786", True), ("127.0.0.1:8786", True),
                                        ("tcp://localhost:8786", True), ("tcp://[::1]:8786", True),
                                        ("tcp://10.0.0.5:8786", False), ("tcp://scheduler.example:8786", False),
                                        ("http://127.0.0.1:8786", False), ("tls://10.0.0.5:8786", True)])
def test_plain_tcp_only_on_loopback(address, ok, tiny_cfg):
    if ok:
        dask_security.check_address(address, "executor.address", tiny_cfg.executor)
    else:
        with pytest.raises(ConfigError, match="executor.address"):
            dask_security.check_address(address, "executor.address", tiny_cfg.executor)


def test_tcp_beyond_loopback_needs_the_opt_in(tiny_cfg):
    import dataclasses

    opted_in = dataclasses.replace(tiny_cfg.executor, insecure_tcp=True)
    assert dask_security.check_address("tcp://10.0.0.5:8786", "executor.address", opted_in) == "tcp"


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("scheme", ["tcp://", "http://"])
def test_an_http_server_is_one_line_and_exit_2(scheme, http_server, tmp_path, tiny_raw):
    with_data(tmp_path, tiny_raw)
    before = files_in(tmp_path)
    address = scheme + http_server
    raw = {**tiny_raw, "executor": {**tiny_raw["executor"], "kind": "dask", "address": address}}
    start = time.monotonic()
    result = run_stage(tmp_path, raw, "pretrain")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "executor.address" in line and address in line
    assert time.monotonic() - start < 60
    assert files_in(tmp_path) == before


class Exploit:
    def __reduce__(self):
        return os.system, ("echo owned",)


def test_an_untrusted_result_cannot_run_code():
    import torch

    buffer = io.BytesIO()
    torch.save({"rows": [{"seed": 0, "acc": 0.5}], "state": b"pt", "x": torch.ones(2)}, buffer)
    loaded = dask_executor.load_result(buffer.getvalue(), trusted=False)
    assert loaded["rows"] == [{"seed": 0, "acc": 0.5}] and loaded["state"] == b"pt"
    buffer = io.BytesIO()
    torch.save(Exploit(), buffer, pickle_module=pickle)
    with pytest.raises(ConfigError, match="tls://"):
        dask_executor.load_result(buffer.getvalue(), trusted=False)
