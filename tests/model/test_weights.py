"""The weights file: round trip, clear errors for bad files, atomic saves."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from model import weights
from model.average import Average
from model.convnet import ConvNet
from model.network import Network
from model.weights import WeightsError, load, save, save_average


def small_network() -> Network:
    return Network([784, 8, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=5)


def test_round_trip(tmp_path: Path) -> None:
    net = small_network()
    path = tmp_path / "m.npz"
    save(path, net, {"name": "tiny", "history": [{"epoch": 1, "loss": 0.5}]})
    model = load(path)
    assert model.name == "tiny"
    assert model.metadata["sizes"] == [784, 8, 10] and model.metadata["parameters"] == net.parameter_count
    assert model.metadata["format_version"] == weights.FORMAT_VERSION
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    assert np.array_equal(model.network.feedforward(x), net.feedforward(x))


def test_file_has_no_pickled_objects(tmp_path: Path) -> None:
    save(tmp_path / "m.npz", small_network(), {"name": "tiny"})
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"nope\.npz: no such file"):
        load(tmp_path / "nope.npz")


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    save(path, small_network(), {"name": "tiny"})
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(WeightsError, match=r"m\.npz: not a readable weights file"):
        load(path)


def test_garbage_file(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(b"this is not a zip archive" * 10)
    with pytest.raises(WeightsError, match=r"m\.npz"):
        load(path)


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    np.savez(path, **arrays)


def meta(**overrides: object) -> np.ndarray:
    base = {"name": "x", "format_version": 1, "sizes": [784, 8, 10], "activations": ["relu", "softmax"],
            "cost": "cross_entropy"}
    return np.array(json.dumps({**base, **overrides}))


def good_arrays() -> dict[str, np.ndarray]:
    net = small_network()
    return {"W1": net.weights[0], "b1": net.biases[0], "W2": net.weights[1], "b2": net.biases[1]}


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"metadata": meta(), **{**good_arrays(), "W2": np.zeros((10, 9), np.float32)}}, "do not match sizes"),
        ({"metadata": meta(), **{k: v for k, v in good_arrays().items() if k != "b2"}}, "missing W2 or b2"),
        ({**good_arrays()}, "no metadata"),
        ({"metadata": np.array("{not json"), **good_arrays()}, "Expecting property name"),
        ({"metadata": meta(format_version=99), **good_arrays()}, "format version 99"),
        ({"metadata": meta(activations=["relu", "swish"]), **good_arrays()}, "output activation"),
        ({"metadata": meta(), **{**good_arrays(), "b1": np.full(8, np.nan, np.float32)}}, "NaN"),
        ({"metadata": meta(), **good_arrays(), "extra": np.zeros(3)}, "unexpected arrays"),
    ],
)
def test_corrupt_contents_are_named(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    write_npz(path, **arrays)
    with pytest.raises(WeightsError, match=message) as err:
        load(path)
    assert str(path) in str(err.value)


def test_pickled_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, metadata=meta(), **good_arrays(), payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(WeightsError, match=r"evil\.npz: .*pickled Python objects, which are never loaded"):
        load(path)


def test_interrupted_save_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.npz"
    save(path, small_network(), {"name": "old"})
    before = path.read_bytes()

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # e.g. Ctrl-C, or the process dying, halfway through writing

    monkeypatch.setattr(weights.np, "savez_compressed", crash)
    with pytest.raises(KeyboardInterrupt):
        save(path, Network([784, 4, 10]), {"name": "new"})
    assert path.read_bytes() == before
    assert load(path).name == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


def test_saved_file_is_a_plain_zip_of_npy(tmp_path: Path) -> None:
    save(tmp_path / "m.npz", small_network(), {"name": "tiny"})
    names = zipfile.ZipFile(tmp_path / "m.npz").namelist()
    assert sorted(names) == ["W1.npy", "W2.npy", "b1.npy", "b2.npy", "metadata.npy"]


def test_damaged_compressed_array_is_named(tmp_path: Path) -> None:
    """A flipped byte inside a compressed member: zlib's error must not escape as a traceback."""
    path = tmp_path / "m.npz"
    save(path, Network([784, 64, 10]), {"name": "tiny"})
    data = bytearray(path.read_bytes())
    start = data.index(b"W1.npy") + 200  # inside W1's deflated data
    data[start : start + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"m\.npz: not a readable weights file"):
        load(path)


def test_text_file_is_not_reported_as_pickle(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(WeightsError, match="not an .npz archive"):
        load(path)


def test_a_convnet_round_trip(tmp_path: Path) -> None:
    net = ConvNet([2, 3], hidden=8, seed=4)
    save(tmp_path / "c.npz", net, {"name": "conv"})
    model = load(tmp_path / "c.npz")
    assert isinstance(model.network, ConvNet) and model.network.channels == [2, 3] and model.network.hidden == 8
    assert model.metadata["kind"] == "convnet" and model.metadata["parameters"] == net.parameter_count
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    assert np.array_equal(model.network.feedforward(x), net.feedforward(x))


def test_an_mlp_file_without_a_kind_is_read_as_an_mlp(tmp_path: Path) -> None:
    """Files written before there were two kinds of network."""
    write_npz(tmp_path / "old.npz", metadata=meta(), **good_arrays())
    assert isinstance(load(tmp_path / "old.npz").network, Network)


def test_an_average_round_trip(tmp_path: Path) -> None:
    mlp, conv = small_network(), ConvNet([2, 3], hidden=8, seed=4)
    save_average(tmp_path / "a.npz", [(mlp, {"name": "mlp", "history": [1]}), (conv, {"name": "conv"})], {"name": "a"})
    model = load(tmp_path / "a.npz")
    assert isinstance(model.network, Average)
    assert [m["name"] for m in model.metadata["networks"]] == ["mlp", "conv"]
    assert model.metadata["networks"][0]["history"] == [1] and model.metadata["networks"][1]["kind"] == "convnet"
    assert model.metadata["parameters"] == mlp.parameter_count + conv.parameter_count
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    assert np.allclose(model.network.feedforward(x), (mlp.feedforward(x) + conv.feedforward(x)) / 2, atol=1e-7)
    assert model.network.shifts == [0, 0] and model.metadata["shifts"] == [0, 0]


def test_an_averages_shifts_round_trip_and_old_files_have_none(tmp_path: Path) -> None:
    mlp, conv = small_network(), ConvNet([2, 3], hidden=8, seed=4)
    save_average(tmp_path / "a.npz", [(mlp, {"name": "mlp"}), (conv, {"name": "conv"})], {"name": "a"}, [0, 2])
    loaded = load(tmp_path / "a.npz").network
    assert loaded.shifts == [0, 2]
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(loaded.feedforward(x), Average([mlp, conv], [0, 2]).feedforward(x), atol=1e-7)
    with pytest.raises(ValueError, match=r"each shift must be 0 to 3 pixels, got \[0, 9\]"):  # never written
        save_average(tmp_path / "bad.npz", [(mlp, {"name": "mlp"}), (conv, {"name": "conv"})], {"name": "a"}, [0, 9])
    assert not (tmp_path / "bad.npz").exists()
    arrays = average_arrays()  # written as before there were views: no "shifts" in the metadata
    assert "shifts" not in json.loads(str(arrays["metadata"]))
    write_npz(tmp_path / "old.npz", **arrays)
    assert load(tmp_path / "old.npz").network.shifts == [0, 0]


def average_arrays(**member_overrides: object) -> dict[str, np.ndarray]:
    """A valid average of two small MLPs, as raw arrays, with the second network's metadata overridden."""
    member = json.loads(str(meta()))
    networks = [member, {**member, **member_overrides}]
    arrays = {f"net{i}.{k}": v for i in (1, 2) for k, v in good_arrays().items()}
    return {"metadata": np.array(json.dumps({**member, "kind": "average", "networks": networks})), **arrays}


def with_top_level(arrays: dict[str, np.ndarray], **entries: object) -> dict[str, np.ndarray]:
    """``arrays`` with ``entries`` set in the average's own metadata."""
    return {**arrays, "metadata": np.array(json.dumps({**json.loads(str(arrays["metadata"])), **entries}))}


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({**average_arrays(), "W1": np.zeros(3)}, "unexpected arrays"),
        ({k: v for k, v in average_arrays().items() if k != "net2.b1"}, "missing net2.W1 or net2.b1"),
        (average_arrays(kind="transformer"), "network 2 \\(transformer\\): unknown kind of network 'transformer'"),
        (average_arrays(activations=["relu", "sigmoid"]), "network 2 .* cannot be averaged"),
        ({**average_arrays(), "metadata": np.array(json.dumps({**json.loads(str(meta())), "kind": "average",
                                                                "networks": [{}]}))}, "two or more networks"),
        ({**average_arrays(), "metadata": np.array(json.dumps({"kind": "average", "format_version": 0}))},
         "format version 0"),
        (with_top_level(average_arrays(), shifts=[0, 7]), r"each shift must be 0 to 3 pixels, got \[0, 7\]"),
        (with_top_level(average_arrays(), shifts=[0]), "2 networks but 1 shifts"),
        (with_top_level(average_arrays(), shifts=[True, 0]), r"must be whole numbers of pixels, got \[True, 0\]"),
        (with_top_level(average_arrays(), shifts=1), "shifts must be a list, one per network, got 1"),
    ],
)
def test_a_broken_average_is_named(tmp_path: Path, arrays: dict, message: str) -> None:
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(WeightsError, match=message):
        load(tmp_path / "bad.npz")


def convnet_arrays(**overrides: object) -> dict[str, np.ndarray]:
    """A small convnet's arrays, with its metadata overridden."""
    net = ConvNet([2, 3], hidden=8)
    meta = {"name": "c", "format_version": 1, "kind": "convnet", "channels": [2, 3], "hidden": 8, **overrides}
    arrays = {f"{k}{l}": a for k, group in (("W", net.weights), ("b", net.biases)) for l, a in enumerate(group, 1)}
    return {"metadata": np.array(json.dumps(meta)), **arrays}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channels": [float("inf"), 3]}, "channels must be whole numbers of at least 1, got \\[inf, 3\\]"),
        ({"channels": "23"}, "channels must be whole numbers"),
        ({"channels": [2.9, 3.5]}, "channels must be whole numbers"),
        ({"hidden": True}, "hidden must be whole numbers"),
        ({"channels": [2, 3, 4]}, "two channel counts and one hidden size"),
        # Sizes far beyond the arrays are refused by their shapes, before any network of that size is built.
        ({"hidden": 10**12}, "do not match channels \\[2, 3\\], hidden 1000000000000"),
    ],
)
def test_a_convnets_metadata_is_checked_before_anything_is_built(tmp_path: Path, overrides: dict,
                                                                  message: str) -> None:
    write_npz(tmp_path / "bad.npz", **convnet_arrays(**overrides))
    with pytest.raises(WeightsError, match=message):
        load(tmp_path / "bad.npz")
    write_npz(tmp_path / "good.npz", **convnet_arrays())
    assert load(tmp_path / "good.npz").network.channels == [2, 3]


def test_an_mlp_far_larger_than_its_arrays_is_refused_by_shape(tmp_path: Path) -> None:
    write_npz(tmp_path / "bad.npz", metadata=meta(sizes=[784, 10**6, 10**6, 10]), **good_arrays())
    with pytest.raises(WeightsError, match="do not match sizes"):
        load(tmp_path / "bad.npz")


def test_a_missing_metadata_entry_is_named_as_such(tmp_path: Path) -> None:
    arrays = convnet_arrays()
    described = json.loads(str(arrays["metadata"]))
    del described["channels"]
    write_npz(tmp_path / "bad.npz", **{**arrays, "metadata": np.array(json.dumps(described))})
    with pytest.raises(WeightsError, match="bad.npz: metadata has no 'channels'"):
        load(tmp_path / "bad.npz")
    arrays = average_arrays()
    described = json.loads(str(arrays["metadata"]))
    del described["networks"][1]["cost"]
    write_npz(tmp_path / "bad.npz", **{**arrays, "metadata": np.array(json.dumps(described))})
    with pytest.raises(WeightsError, match=r"bad.npz: network 2 \(mlp\): metadata has no 'cost'"):
        load(tmp_path / "bad.npz")
