"""MNIST: find the four IDX files, download them if needed, and parse them.

Where the files come from, first match wins:
1. an explicit ``data_dir`` (the CLIs' ``--data-dir``),
2. the environment variable ``MNIST_DIR``,
3. a cache directory (``$XDG_CACHE_HOME/digitpad/mnist``, else ``~/.cache/digitpad/mnist``),
   filled by downloading from the public mirrors and checking each file's MD5.

Each file may be gzipped (``.gz``) or raw. The IDX format is a big-endian header
— two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
then one uint32 per dimension — followed by the data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# MD5 of the .gz files as served by the mirrors (the checksums torchvision publishes).
GZ_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


class MnistError(Exception):
    """A missing, unreadable or malformed MNIST file; the message says which and how to fix it."""


@dataclass
class Mnist:
    """The dataset as arrays. Images are uint8 (n, 28, 28), 0 = background; labels uint8 (n,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: Path

    def sha256(self) -> str:
        """SHA-256 over the training images and labels, to tie a model to its data."""
        digest = hashlib.sha256()
        digest.update(self.train_images.tobytes())
        digest.update(self.train_labels.tobytes())
        return digest.hexdigest()


def as_vectors(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) → float32 (n, 784) in [0, 1], ink high."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """(n,) integer labels → (n, classes) float32 with a single 1 per row."""
    out = np.zeros((len(labels), classes), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def parse_idx(data: bytes, magic: int, name: str) -> np.ndarray:
    """Parse the bytes of one IDX file, checking its magic number and length."""
    if len(data) < 8:
        raise MnistError(f"{name}: file too short ({len(data)} bytes) to be an IDX file")
    (found,) = struct.unpack(">I", data[:4])
    if found != magic:
        raise MnistError(f"{name}: bad magic number 0x{found:08x}, expected 0x{magic:08x}; not an MNIST IDX file")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{name}: truncated header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise MnistError(
            f"{name}: {len(data)} bytes but the header {shape} needs {expected}; the file is truncated or corrupt"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path: Path, magic: int) -> np.ndarray:
    try:
        raw = path.read_bytes()
        data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise MnistError(f"{path}: cannot read ({err})") from err
    return parse_idx(data, magic, str(path))


def find_file(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    return None


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "digitpad" / "mnist"


def resolve_dir(data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The folder holding the four files: ``data_dir``, else ``$MNIST_DIR``, else the cache (downloading)."""
    for chosen, origin in ((data_dir, "--data-dir"), (os.environ.get("MNIST_DIR"), "MNIST_DIR")):
        if chosen:
            path = Path(chosen).expanduser()
            missing = [stem for stem in FILES.values() if find_file(path, stem) is None]
            if missing:
                raise MnistError(f"{origin}={path}: missing {', '.join(s + '[.gz]' for s in missing)}")
            return path
    path = cache_dir()
    if any(find_file(path, stem) is None for stem in FILES.values()):
        if not download:
            raise MnistError(f"MNIST is not in {path}; set MNIST_DIR or pass --data-dir")
        download_all(path)
    return path


def load(data_dir: str | Path | None = None, download: bool = True) -> Mnist:
    """Load all four files (see the module docstring for where they are looked for)."""
    directory = resolve_dir(data_dir, download)
    arrays = {}
    for key, stem in FILES.items():
        magic = IMAGE_MAGIC if key.endswith("images") else LABEL_MAGIC
        arrays[key] = read_idx(find_file(directory, stem), magic)  # type: ignore[arg-type]
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape[1:] != (28, 28):
            raise MnistError(f"{directory}: {split} images are {images.shape[1:]}, expected 28×28")
        if len(images) != len(labels):
            raise MnistError(f"{directory}: {len(images)} {split} images but {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise MnistError(f"{directory}: {split} labels contain {labels.max()}, expected 0-9")
    return Mnist(**arrays, source=directory)


def download_all(directory: Path) -> None:
    """Download the four .gz files into ``directory``, verifying each MD5."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, md5 in GZ_MD5.items():
        target = directory / name
        if target.is_file() and _md5(target) == md5:
            continue
        errors = []
        for mirror in MIRRORS:
            try:
                _download(mirror + name, target, md5)
                break
            except (OSError, urllib.error.URLError, MnistError) as err:
                errors.append(f"{mirror}: {err}")
        else:
            raise MnistError(
                f"could not download {name} ({'; '.join(errors)}). If this machine is offline, copy the four "
                f"MNIST files (gzipped or raw) into a folder and set MNIST_DIR=/that/folder or pass --data-dir."
            )


def _download(url: str, target: Path, md5: str) -> None:
    from tqdm import tqdm  # only needed when downloading

    partial = target.with_suffix(target.suffix + ".part")
    digest = hashlib.md5()
    with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    if digest.hexdigest() != md5:
        partial.unlink(missing_ok=True)
        raise MnistError(f"checksum mismatch for {url}: got {digest.hexdigest()}, expected {md5}")
    partial.replace(target)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()
