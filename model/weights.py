"""The weights file: one ``.npz`` per model, no pickle.

Layout (format version 1):
- ``W1 … WL`` and ``b1 … bL`` float32 arrays, each layer's weights and biases: for an MLP
  (sizes[l], sizes[l-1]) and (sizes[l],); for a convnet, the shapes ``model.convnet`` lists;
- ``metadata``: a 0-d unicode array holding one JSON object — name, kind ("mlp" when absent),
  sizes, activations, cost (a convnet adds its channels and hidden size), parameters, training
  settings, history, test accuracy, confusion matrix, data SHA-256, creation time, format version.

A model that averages several networks' outputs (``model.average``, kind "average") holds each network's arrays
prefixed ``net1.``, ``net2.``, …, and its metadata lists each network's own metadata under
``networks``, in that order; the first is the network whose layers the service shows. Its ``shifts`` (zeros
when absent) say how far each network also reads each frame moved (``model.average``).

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

from model.average import Average
from model.convnet import ConvNet, weight_shapes
from model.network import Network

FORMAT_VERSION = 1
AnyNetwork = Network | ConvNet


class WeightsError(Exception):
    """A weights file that cannot be used; the message names the file and the problem."""


@dataclass
class Model:
    """A loaded model: its network and the metadata saved with it."""

    network: Network | ConvNet | Average
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "model"))


def save(path: str | Path, network: AnyNetwork, metadata: dict[str, Any]) -> None:
    """Write ``network`` and ``metadata`` to ``path`` atomically."""
    meta = {**metadata, "format_version": FORMAT_VERSION, **describe(network)}
    write_npz(Path(path), {"metadata": np.array(json.dumps(meta)), **parameter_arrays(network)}, compressed=True)


def save_average(
    path: str | Path,
    networks: list[tuple[AnyNetwork, dict[str, Any]]],
    metadata: dict[str, Any],
    shifts: list[int] | None = None,
) -> None:
    """Write a model that averages ``networks`` (each with its own metadata), the first shown, each over the views
    its shift gives (``model.average``; default: none), to ``path``."""
    members = [{**meta, "format_version": FORMAT_VERSION, **describe(net)} for net, meta in networks]
    first = networks[0][0]
    shifts = Average([net for net, _ in networks], shifts).shifts  # checked here, not found when loading
    meta = {
        **metadata,
        "format_version": FORMAT_VERSION,
        **describe(first),
        "kind": "average",
        "shifts": shifts,
        "parameters": sum(net.parameter_count for net, _ in networks),
        "networks": members,
    }
    arrays: dict[str, np.ndarray] = {"metadata": np.array(json.dumps(meta))}
    for i, (net, _) in enumerate(networks, start=1):
        arrays |= parameter_arrays(net, prefix=f"net{i}.")
    write_npz(Path(path), arrays, compressed=True)


def describe(network: AnyNetwork) -> dict[str, Any]:
    """The metadata that says what the network is: enough to build it again."""
    return {
        **network.architecture(),
        "sizes": network.sizes,
        "activations": network.activations,
        "cost": network.cost,
        "parameters": network.parameter_count,
    }


def array_names(layers: int, prefix: str = "") -> list[tuple[str, str]]:
    """Each layer's weights and biases as the file names them: ``({prefix}W1, {prefix}b1)`` … for ``layers`` layers."""
    return [(f"{prefix}W{l}", f"{prefix}b{l}") for l in range(1, layers + 1)]


def parameter_arrays(network: AnyNetwork, prefix: str = "") -> dict[str, np.ndarray]:
    """``{prefix}W1 … WL`` and ``{prefix}b1 … bL``, as float32."""
    arrays = {}
    for (w_name, b_name), w, b in zip(array_names(len(network.weights), prefix), network.weights, network.biases):
        arrays[w_name] = w.astype(np.float32)
        arrays[b_name] = b.astype(np.float32)
    return arrays


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
        raise WeightsError(f"{path}: {_reason(err)}") from err


def _reason(err: Exception) -> str:
    """An error's message; a KeyError's bare key becomes a sentence."""
    return f"metadata has no {err.args[0]!r}" if isinstance(err, KeyError) else str(err)


def _build(arrays: dict[str, np.ndarray]) -> Model:
    if "metadata" not in arrays:
        raise ValueError("no metadata entry")
    meta = json.loads(str(arrays["metadata"]))
    if not isinstance(meta, dict):
        raise ValueError("metadata is not a JSON object")
    if meta.get("kind") != "average":
        network = _network(meta, arrays, "")
        expected = {name for pair in array_names(len(network.weights)) for name in pair}
    else:
        _check_version(meta)
        members = meta.get("networks")
        if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, dict) for m in members):
            raise ValueError("'networks' must list the metadata of two or more networks")
        networks = []
        for i, member in enumerate(members, start=1):
            try:
                networks.append(_network(member, arrays, f"net{i}."))
            except (KeyError, ValueError, TypeError) as err:
                raise ValueError(f"network {i} ({member.get('kind', 'mlp')}): {_reason(err)}") from err
        shifts = meta.get("shifts", [0] * len(networks))  # files written before there were views have none
        if not isinstance(shifts, list):
            raise ValueError(f"shifts must be a list, one per network, got {shifts!r}")
        network = Average(networks, shifts)  # checks the shifts, and that the outputs can be averaged
        expected = {
            name for i, n in enumerate(networks, 1) for pair in array_names(len(n.weights), f"net{i}.") for name in pair
        }
    extra = set(arrays) - {"metadata"} - expected
    if extra:
        raise ValueError(f"unexpected arrays {sorted(extra)}")
    return Model(network, meta)


def _check_version(meta: dict[str, Any]) -> None:
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version!r}, this code reads {FORMAT_VERSION}")


def _counts(meta: dict[str, Any], key: str) -> list[int]:
    """``meta[key]``, a whole number or a list of them, each at least 1, as a list; ValueError otherwise."""
    value = meta[key]
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"{key} must be whole numbers of at least 1, got {value!r}")
    return values


def _network(meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str) -> AnyNetwork:
    """The network ``meta`` describes, with its parameters from ``arrays`` (named ``{prefix}W1`` …)."""
    _check_version(meta)
    kind = meta.get("kind", "mlp")  # files written before there were two kinds hold MLPs
    # Every array's shape is checked against the metadata before a network is built, so that numbers in the
    # metadata alone never make this allocate more than the file's own arrays hold.
    if kind == "mlp":
        sizes = _counts(meta, "sizes")
        shapes = [(rows, cols) for rows, cols in zip(sizes[1:], sizes[:-1])]
        described = f"sizes {sizes}"
    elif kind == "convnet":
        channels, hidden = _counts(meta, "channels"), _counts(meta, "hidden")
        if len(channels) != 2 or len(hidden) != 1:
            raise ValueError(f"a convnet has two channel counts and one hidden size, got {channels} and {hidden}")
        shapes = weight_shapes(channels, hidden[0])
        described = f"channels {channels}, hidden {hidden[0]}"
    else:
        raise ValueError(f"unknown kind of network {kind!r} (this code reads mlp and convnet)")
    names = array_names(len(shapes), prefix)
    for l, ((w_name, b_name), shape) in enumerate(zip(names, shapes), start=1):
        w, b = arrays.get(w_name), arrays.get(b_name)
        if w is None or b is None:
            raise ValueError(f"layer {l}: missing {w_name} or {b_name}")
        if w.shape != shape or b.shape != shape[:1]:
            raise ValueError(
                f"layer {l}: {w_name} {w.shape} and {b_name} {b.shape} do not match {described} "
                f"(expected {shape} and {shape[:1]})"
            )
        if w.dtype.kind != "f" or b.dtype.kind != "f":
            raise ValueError(f"layer {l}: weights must be floating point, got {w.dtype} and {b.dtype}")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ValueError(f"layer {l}: weights contain NaN or infinity")
    # Network() checks the activations' names and count, and the cost.
    network = Network(sizes, meta["activations"], meta["cost"]) if kind == "mlp" else ConvNet(channels, hidden[0])
    for l, (w_name, b_name) in enumerate(names):
        network.weights[l] = arrays[w_name].astype(np.float32)
        network.biases[l] = arrays[b_name].astype(np.float32)
    return network
