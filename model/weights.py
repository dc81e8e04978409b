"""The weights file: one ``.npz`` per model, no pickle.

Layout (format version 1):
- ``W1 … WL`` float32 arrays (sizes[l], sizes[l-1]) and ``b1 … bL`` (sizes[l],);
- ``metadata``: a 0-d unicode array holding one JSON object — name, sizes,
  activations, cost, parameters, training settings, history, test accuracy,
  confusion matrix, data SHA-256, creation time, format version.

Files are written atomically (temporary file in the same folder, fsync, rename),
so a crash mid-save leaves the previous file intact, and read with
``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.network import Network

FORMAT_VERSION = 1


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass
class Model:
    """A loaded model: its network and the metadata saved with it."""

    network: Network
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "model"))


def save(path: str | Path, network: Network, metadata: dict[str, Any]) -> None:
    """Write ``network`` and ``metadata`` to ``path`` atomically."""
    path = Path(path)
    meta = {
        **metadata,
        "format_version": FORMAT_VERSION,
        "sizes": network.sizes,
        "activations": network.activations,
        "cost": network.cost,
        "parameters": network.parameter_count,
    }
    arrays: dict[str, np.ndarray] = {"metadata": np.array(json.dumps(meta))}
    for l, (w, b) in enumerate(zip(network.weights, network.biases), start=1):
        arrays[f"W{l}"] = w.astype(np.float32)
        arrays[f"b{l}"] = b.astype(np.float32)
    write_npz(path, arrays, compressed=True)


def write_npz(path: Path, arrays: dict[str, np.ndarray], compressed: bool = False) -> None:
    """Write ``arrays`` to the .npz ``path`` atomically: a temporary file beside it, synced, then renamed,
    so a reader never sees half a file and an interrupted write leaves the old one in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:  # a file object: np.savez would otherwise append ".npz" to the name
            (np.savez_compressed if compressed else np.savez)(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file is meant to be readable, e.g. in a container
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path) -> Model:
    """Read and validate a weights file; raise WeightsError naming the file and the problem."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as err:
        # np.load reads anything that is not a zip archive as a pickle, which allow_pickle=False refuses:
        # say what the file is not, rather than repeat numpy's message about pickles.
        if not zipfile.is_zipfile(path):
            reason = "not an .npz archive"
        elif "allow_pickle" in str(err):  # an object array: its data is a pickle, which could run code
            reason = "it holds pickled Python objects, which are never loaded (allow_pickle=False)"
        else:
            reason = f"damaged .npz archive ({err})"
        raise WeightsError(f"{path}: not a readable weights file: {reason}") from err
    try:
        return _build(arrays)
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as err:
        raise WeightsError(f"{path}: {err}") from err


def _build(arrays: dict[str, np.ndarray]) -> Model:
    if "metadata" not in arrays:
        raise ValueError("no metadata entry")
    meta = json.loads(str(arrays["metadata"]))
    if not isinstance(meta, dict):
        raise ValueError("metadata is not a JSON object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version!r}, this code reads {FORMAT_VERSION}")
    sizes, acts, cost = meta["sizes"], meta["activations"], meta["cost"]
    network = Network(sizes, acts, cost)  # validates the names and the layer count
    for l in range(1, len(sizes)):
        w, b = arrays.get(f"W{l}"), arrays.get(f"b{l}")
        if w is None or b is None:
            raise ValueError(f"layer {l}: missing W{l} or b{l}")
        if w.shape != (sizes[l], sizes[l - 1]) or b.shape != (sizes[l],):
            raise ValueError(
                f"layer {l}: W{l} {w.shape} and b{l} {b.shape} do not match sizes {sizes} "
                f"(expected {(sizes[l], sizes[l - 1])} and {(sizes[l],)})"
            )
        if w.dtype.kind != "f" or b.dtype.kind != "f":
            raise ValueError(f"layer {l}: weights must be floating point, got {w.dtype} and {b.dtype}")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ValueError(f"layer {l}: weights contain NaN or infinity")
        network.weights[l - 1] = w.astype(np.float32)
        network.biases[l - 1] = b.astype(np.float32)
    extra = set(arrays) - {"metadata"} - {f"{k}{l}" for k in "Wb" for l in range(1, len(sizes))}
    if extra:
        raise ValueError(f"unexpected arrays {sorted(extra)}")
    return Model(network, meta)
