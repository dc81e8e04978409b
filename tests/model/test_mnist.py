"""IDX parsing on tiny files made here, and the real files when they are present."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from model import mnist


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The IDX encoding of a uint8 array: magic (type 0x08, ndim), one uint32 per dimension, data."""
    magic = magic if magic is not None else 0x0800 | array.ndim
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_dataset(folder: Path, n_train: int = 5, n_test: int = 3, gz: bool = True) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = rng.integers(0, 10, n)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = idx_bytes(array)
            name = f"{split}-{kind}-ubyte"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)


@pytest.mark.parametrize("gz", [True, False])
def test_reads_gzipped_and_raw_files(tmp_path: Path, gz: bool) -> None:
    write_dataset(tmp_path, gz=gz)
    data = mnist.load(tmp_path)
    assert data.train_images.shape == (5, 28, 28) and data.train_labels.shape == (5,)
    assert data.test_images.shape == (3, 28, 28) and data.test_images.dtype == np.uint8
    assert mnist.as_vectors(data.test_images).shape == (3, 784)
    assert mnist.as_vectors(data.test_images).min() >= 0.0 and mnist.as_vectors(data.test_images).max() <= 1.0


def test_bad_magic_number(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(5), magic=0x0803)))
    with pytest.raises(mnist.MnistError, match="bad magic number 0x00000803"):
        mnist.load(tmp_path)


def test_truncated_file(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(mnist.MnistError, match="truncated"):
        mnist.load(tmp_path)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(mnist.MnistError, match="cannot read"):
        mnist.load(tmp_path)


def test_label_count_must_match(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(4))))
    with pytest.raises(mnist.MnistError, match="5 train images but 4 labels"):
        mnist.load(tmp_path)


def test_missing_files_named(tmp_path: Path) -> None:
    with pytest.raises(mnist.MnistError, match="missing train-images-idx3-ubyte"):
        mnist.load(tmp_path)


def test_mnist_dir_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_dataset(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert mnist.load().source == tmp_path


def test_offline_download_says_how_to_use_local_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def offline(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("network is unreachable")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    with pytest.raises(mnist.MnistError, match="MNIST_DIR"):
        mnist.load()
    assert not list(tmp_path.rglob("*.gz"))  # nothing half-downloaded left behind


def test_real_mnist(mnist_dir: Path) -> None:
    data = mnist.load(mnist_dir)
    assert data.train_images.shape == (60000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert np.bincount(data.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
