"""The download paths for real: torchvision's own dataset classes and download code fetch tiny, well-formed
archives from an HTTP server on 127.0.0.1 (its mirror/URL and md5 class attributes pointed there), and
data.build must end in the right tensors; a corrupted archive must end the stage with one clear line, exit 2, and
no file in data/."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import torch
import yaml
from torchvision.datasets import CIFAR10, EMNIST, MNIST, FashionMNIST

import archives
from unlearning.core import data
from unlearning.core.datasets import remote


def assert_tensors(tensors: dict, expected: dict, channels: int = 1) -> None:
    for side in ("train", "test"):
        x, y = tensors[f"{side}_x"], tensors[f"{side}_y"]
        assert x.dtype == torch.uint8 and y.dtype == torch.int64 and x.shape[1] == channels
        want = expected[f"{side}_x"]
        assert torch.equal(x, torch.from_numpy(want if want.ndim == 4 else want[:, None]))
        assert torch.equal(y, torch.from_numpy(expected[f"{side}_y"].astype(np.int64)))


def point_mnist_family(monkeypatch, cls, url: str, directory) -> None:
    """cls.mirrors -> our server; cls.resources -> the md5 of each file we serve."""
    files = sorted(p.name for p in directory.iterdir() if p.suffix == ".gz")
    monkeypatch.setattr(cls, "mirrors", [url])
    monkeypatch.setattr(cls, "resources", [(name, archives.md5(directory / name)) for name in files])


def point_cifar(monkeypatch, url: str, path, sums: dict) -> None:
    monkeypatch.setattr(CIFAR10, "url", url + path.name)
    monkeypatch.setattr(CIFAR10, "tgz_md5", archives.md5(path))
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": sums["batches.meta"]})


@pytest.mark.parametrize("name,cls", [("mnist", MNIST), ("fashion-mnist", FashionMNIST)])
def test_mnist_family_downloads_through_torchvision(tmp_path, monkeypatch, name, cls):
    expected = archives.mnist_files(tmp_path / "site")
    monkeypatch.setattr(remote, "FASHION_DIR", tmp_path / "no-debian-package")  # force torchvision's path
    with archives.serve(tmp_path / "site") as url:
        point_mnist_family(monkeypatch, cls, url, tmp_path / "site")
        assert_tensors(data.build(name, None), expected)


def test_emnist_downloads_the_balanced_split_upright(tmp_path, monkeypatch):
    path, expected = archives.emnist_zip(tmp_path)
    with archives.serve(tmp_path) as url:
        monkeypatch.setattr(EMNIST, "url", url + path.name)
        monkeypatch.setattr(EMNIST, "md5", archives.md5(path))
        tensors = data.build("emnist", None)
    # the EMNIST files store images transposed; ours are upright
    upright = {k: v.transpose(0, 2, 1) if k.endswith("_x") else v for k, v in expected.items()}
    assert_tensors(tensors, upright)


def test_cifar10_downloads_to_nchw_uint8(tmp_path, monkeypatch):
    path, expected, sums = archives.cifar_tar(tmp_path)
    with archives.serve(tmp_path) as url:
        point_cifar(monkeypatch, url, path, sums)
        assert_tensors(data.build("cifar10", None), expected, channels=3)


def run_download_stage(workdir, monkeypatch, capsys, tiny_raw, name: str) -> tuple[int, str]:
    """stages.download.main() in-process (so that the patched class attributes apply) in `workdir`."""
    from stages import download

    workdir.mkdir()
    tiny_raw["data"] = {"name": name, "test_fraction": None, "validation_fraction": 0.1}
    (workdir / "params.yaml").write_text(yaml.safe_dump(tiny_raw))
    monkeypatch.chdir(workdir)
    with pytest.raises(SystemExit) as stop:
        download.main()
    return stop.value.code, capsys.readouterr().err


def corrupt(path) -> None:
    """Same name, same size, one byte flipped in the middle: only the md5 can tell."""
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("name", ["mnist", "emnist", "cifar10"])
def test_corrupted_archive_fails_in_one_line_and_leaves_no_file(tmp_path, monkeypatch, capsys, tiny_raw, name):
    site = tmp_path / "site"
    site.mkdir()
    if name == "mnist":
        archives.mnist_files(site)
        point_mnist_family(monkeypatch, MNIST, "http://127.0.0.1:9/", site)  # md5s of the good files
        served = site / "train-images-idx3-ubyte.gz"
    elif name == "emnist":
        served, _ = archives.emnist_zip(site)
        monkeypatch.setattr(EMNIST, "md5", archives.md5(served))
    else:
        served, _, sums = archives.cifar_tar(site)
        point_cifar(monkeypatch, "http://127.0.0.1:9/", served, sums)
    corrupt(served)
    with archives.serve(site) as url:
        if name == "mnist":
            monkeypatch.setattr(MNIST, "mirrors", [url])
        else:
            cls = EMNIST if name == "emnist" else CIFAR10
            monkeypatch.setattr(cls, "url", url + served.name)
        code, err = run_download_stage(tmp_path / "work", monkeypatch, capsys, tiny_raw, name)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert name in errors[0] and served.name in errors[0] and "corrupted" in errors[0], errors[0]
    assert not (tmp_path / "work" / "data").exists() or not any((tmp_path / "work" / "data").iterdir())


def test_unreachable_server_names_the_dataset_and_url(tmp_path, monkeypatch, capsys, tiny_raw):
    with archives.serve(tmp_path) as url:  # serves an empty directory: every file is a 404
        monkeypatch.setattr(CIFAR10, "url", url + "cifar-10-python.tar.gz")
        code, err = run_download_stage(tmp_path / "work", monkeypatch, capsys, tiny_raw, "cifar10")
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("error: cifar10: download from") and "404" in last, err
    assert not (tmp_path / "work" / "data").exists() or not any((tmp_path / "work" / "data").iterdir())


@pytest.mark.parametrize("compress", [True, False])
def test_fashion_mnist_reads_a_directory_of_idx_files(tmp_path, monkeypatch, compress):
    expected = archives.mnist_files(tmp_path / "fashion", n_train=7, n_test=3, compress=compress)
    monkeypatch.setattr(remote, "FASHION_DIR", tmp_path / "fashion")
    assert_tensors(data.build("fashion-mnist", None), expected)
    assert "debian" in data.origin("fashion-mnist")


def test_truncated_idx_file_is_named(tmp_path, monkeypatch):
    archives.mnist_files(tmp_path / "fashion")
    path = tmp_path / "fashion" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-1]))
    monkeypatch.setattr(remote, "FASHION_DIR", tmp_path / "fashion")
    with pytest.raises(data.InputError, match="t10k-labels-idx1-ubyte.gz: IDX header and data size disagree"):
        data.build("fashion-mnist", None)
    shutil.rmtree(tmp_path / "fashion")


@pytest.mark.skipif(not remote.FASHION_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_the_debian_package():
    tensors = data.build("fashion-mnist", None)
    assert tuple(tensors["train_x"].shape) == (60000, 1, 28, 28)
    assert tuple(tensors["test_x"].shape) == (10000, 1, 28, 28)
    assert torch.bincount(tensors["train_y"]).tolist() == [6000] * 10
    assert torch.bincount(tensors["test_y"]).tolist() == [1000] * 10
