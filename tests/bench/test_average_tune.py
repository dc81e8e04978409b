"""bench.average_tune's networks: each file's, an average's one by one, and with --shift each reading its views."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.average_tune import groups, network_of, networks_in
from model.average import Average, views
from model.convnet import ConvNet
from model.network import Network
from model.weights import save, save_average


def test_networks_are_listed_alone_and_with_their_views(tmp_path: Path) -> None:
    mlp = Network([784, 8, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=1)
    conv = ConvNet([2, 3], hidden=8, seed=2)
    save_average(tmp_path / "both.npz", [(mlp, {"name": "mlp"}), (conv, {"name": "conv"})], {"name": "both"})
    save(tmp_path / "mlp.npz", mlp, {"name": "mlp"})
    plain = networks_in([tmp_path / "both.npz"])
    assert list(plain) == [f"{tmp_path / 'both.npz'} #1 mlp", f"{tmp_path / 'both.npz'} #2 convnet"]
    found = networks_in([tmp_path / "mlp.npz", tmp_path / "both.npz"], shift=1)
    conv_viewed = f"{tmp_path / 'both.npz'} #2 convnet ±1 px"
    assert len(found) == 6 and conv_viewed in found
    assert network_of(conv_viewed) == f"{tmp_path / 'both.npz'} #2 convnet"
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(found[conv_viewed](x), conv.feedforward(views(x, 1)).reshape(5, 3, 10).mean(axis=0),
                               atol=1e-6)
    # A group's summed outputs rank as the served average's.
    group = found[str(tmp_path / "mlp.npz")](x) + found[conv_viewed](x)
    np.testing.assert_allclose(group / 2, Average([mlp, conv], [0, 1]).feedforward(x), atol=1e-6)


def test_a_group_holds_each_network_once() -> None:
    names = ["a.npz", "a.npz ±1 px", "b.npz"]
    assert groups(names) == [("a.npz",), ("a.npz ±1 px",), ("b.npz",), ("a.npz", "b.npz"), ("a.npz ±1 px", "b.npz")]
