"""A DVC remote as the README configures one: the tiny run is pushed with its run-cache to a local directory and
to an SSH server (Debian's sshd, started here on 127.0.0.1 with a generated key), then a fresh `git clone` pulls it:
nothing is left to reproduce and no metric differs."""
from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from dvc_project import dvc, sh

SSHD = Path("/usr/sbin/sshd")


def push_then_pull(run: Path, url: str, clone: Path, on_disk: Path, *settings: tuple[str, str]) -> None:
    """`dvc push --run-cache` to the remote at `url` (its files at `on_disk`), then a fresh clone pulls; the
    remote goes into .dvc/config.local, so the committed project is not changed."""
    for where in (run, clone):
        if where == clone:
            sh(run.parent, "git", "clone", "-q", str(run), str(clone))
        dvc(where, "remote", "add", "--local", "-f", "-d", "store", url)
        for key, value in settings:
            dvc(where, "remote", "modify", "--local", "store", key, value)
        if where == run:
            dvc(run, "push", "-q", "--run-cache", "dvc.yaml")  # as the README and `make repro` push
            assert any((on_disk / "runs").rglob("*")), "the run-cache was not pushed"
            assert any((on_disk / "files" / "md5").rglob("*"))
    dvc(clone, "pull", "-q", "dvc.yaml")  # the main pipeline: the tiny run did not reproduce the scenarios
    assert json.loads(dvc(clone, "status", "--json", "dvc.yaml")) == {}
    repro = dvc(clone, "repro", "dvc.yaml")
    assert "Running stage" not in repro and "up to date" in repro, repro
    assert dvc(clone, "metrics", "diff").strip() == ""
    assert (clone / "models" / "unlearned" / "finetune").is_dir()


def test_local_directory_remote(tiny_run, tmp_path):
    store = tmp_path / "store"
    push_then_pull(tiny_run, str(store), tmp_path / "clone", store)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path, monkeypatch):
    """(port, private key) of an sshd on 127.0.0.1 that lets this user in with a key generated here; HOME is a
    temporary one whose known_hosts holds the server's key (no host-key prompt, nothing written to ~/.ssh)."""
    if not SSHD.is_file():
        pytest.skip("Debian's openssh-server is not installed (make test installs it as root)")
    keys = tmp_path / "keys"
    keys.mkdir()
    for name in ("client", "host"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True)
    shutil.copy(keys / "client.pub", keys / "authorized_keys")
    port = free_port()
    (keys / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\n"
        f"PidFile {keys / 'sshd.pid'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n")
    if Path("/run").is_dir() and not Path("/run/sshd").exists():
        try:  # as root, sshd wants its privilege-separation directory (the Debian service creates it)
            Path("/run/sshd").mkdir(mode=0o755)
        except OSError:
            pass
    server = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(keys / "sshd_config")], stderr=subprocess.PIPE,
                              text=True)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.skip(f"sshd could not run here: {server.stderr.read().strip()[-300:]}")
            time.sleep(0.1)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    host_key = (keys / "host.pub").read_text().split()[:2]
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
    monkeypatch.setenv("HOME", str(home))
    yield port, keys / "client"
    server.terminate()
    server.wait(timeout=10)


def test_ssh_remote(tiny_run, tmp_path, sshd):
    port, key = sshd
    store = tmp_path / "ssh-store"
    push_then_pull(tiny_run, f"ssh://{getpass.getuser()}@127.0.0.1:{port}{store}", tmp_path / "clone", store,
                   ("keyfile", str(key)))
