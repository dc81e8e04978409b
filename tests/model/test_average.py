"""An average of networks (model.average) and the command line that makes one (model.combine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import combine
from model.average import Average, border, view_outputs, views
from model.convnet import ConvNet
from model.network import Network
from model.weights import load, save
from tests.model.test_cli import fake_mnist  # noqa: F401 (a fixture)


def softmax_mlp(seed: int) -> Network:
    return Network([784, 8, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=seed)


def test_the_outputs_are_the_mean_and_the_layers_the_first_networks() -> None:
    first, second = softmax_mlp(1), ConvNet([2, 3], hidden=8, seed=2)
    average = Average([first, second])
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    layers = average.forward(x)
    assert len(layers) == len(first.sizes) and np.array_equal(layers[1], first.forward(x)[1])
    expected = (first.feedforward(x) + second.feedforward(x)) / 2
    assert np.allclose(layers[-1], expected, atol=1e-7) and np.allclose(layers[-1].sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(layers[-1], first.feedforward(x))  # both networks count
    assert average.sizes == first.sizes and np.array_equal(average.incoming(1, 3)[0], first.weights[0][3])
    assert average.parameter_count == first.parameter_count + second.parameter_count


def test_views_are_the_frame_and_the_frame_moved_each_way() -> None:
    x = np.random.default_rng(0).random((2, 784)).astype(np.float32)
    assert views(x, 0) is x
    seen = views(x, 2).reshape(5, 2, 28, 28)
    frames = x.reshape(2, 28, 28)
    assert np.array_equal(seen[0], frames)
    assert np.array_equal(seen[1, :, 5], frames[:, 7]) and not seen[1, :, 26:].any()  # up: row 7 to row 5
    assert np.array_equal(seen[2, :, 7], frames[:, 5]) and not seen[2, :, :2].any()  # down
    assert np.array_equal(seen[3, :, :, 5], frames[:, :, 7]) and not seen[3, :, :, 26:].any()  # left
    assert np.array_equal(seen[4, :, :, 7], frames[:, :, 5]) and not seen[4, :, :, :2].any()  # right


def test_a_network_with_a_shift_answers_with_the_mean_over_its_views() -> None:
    first, second = softmax_mlp(1), ConvNet([2, 3], hidden=8, seed=2)
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    layers = Average([first, second], shifts=[0, 1]).forward(x)
    expected = (first.feedforward(x) + second.feedforward(views(x, 1)).reshape(5, 3, 10).mean(axis=0)) / 2
    assert np.allclose(layers[-1], expected, atol=1e-6) and np.allclose(layers[-1].sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(layers[-1], Average([first, second]).feedforward(x), atol=1e-4)  # the views count
    assert len(layers) == 3 and np.array_equal(layers[0], x) and np.allclose(layers[1], first.forward(x)[1])
    # The shown network's views count too, and its layers stay those of the frame as it is.
    layers = Average([first, second], shifts=[2, 0]).forward(x)
    expected = (first.feedforward(views(x, 2)).reshape(5, 3, 10).mean(axis=0) + second.feedforward(x)) / 2
    assert np.allclose(layers[-1], expected, atol=1e-6) and np.allclose(layers[1], first.forward(x)[1])
    with pytest.raises(ValueError, match=r"each shift must be 0 to 3 pixels, got \[0, 4\]"):
        Average([first, second], shifts=[0, 4])
    with pytest.raises(ValueError, match="2 networks but 1 shifts"):
        Average([first, second], shifts=[1])


@pytest.mark.parametrize("shift", [1, 2])
def test_a_convnet_shares_its_first_convolution_between_views_when_nothing_inked_leaves_the_frame(
    shift: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = ConvNet([2, 3], hidden=8, seed=2)
    x = np.zeros((3, 28, 28), dtype=np.float32)
    x[:, shift:-shift, shift:-shift] = np.random.default_rng(0).random((3, 28 - 2 * shift, 28 - 2 * shift))
    x = x.reshape(3, 784)
    shared, original = [], ConvNet.feedforward_moved

    def spy(self: ConvNet, *args: object) -> np.ndarray:
        shared.append(1)
        return original(self, *args)

    monkeypatch.setattr(ConvNet, "feedforward_moved", spy)
    expected = net.feedforward(views(x, shift))  # (15, 10), the five views moved first
    np.testing.assert_allclose(view_outputs(net, x, shift), expected, atol=1e-6)
    assert shared == [1]  # the border is blank: the shared path
    x.reshape(3, 28, 28)[1, 27 - shift + 1, 14] = 1.0  # ink within the shift of the bottom edge: a view drops it
    np.testing.assert_allclose(view_outputs(net, x, shift), net.feedforward(views(x, shift)), atol=1e-6)
    assert shared == [1]  # not shared: moving the frames first is the only right answer
    mlp = softmax_mlp(1)  # an MLP has no convolution to share
    np.testing.assert_allclose(view_outputs(mlp, x, shift), mlp.feedforward(views(x, shift)), atol=1e-6)


@pytest.mark.parametrize("shifts", [[0, 0], [1, 0], [0, 2]])
def test_no_drawings_give_no_answers(shifts: list[int]) -> None:
    layers = Average([softmax_mlp(1), ConvNet([2, 3], hidden=8)], shifts).forward(np.zeros((0, 784), dtype=np.float32))
    assert [layer.shape for layer in layers] == [(0, 784), (0, 8), (0, 10)]


def test_only_probabilities_are_averaged() -> None:
    classic = Network([784, 16, 16, 10])  # sigmoid outputs: they need not sum to 1
    with pytest.raises(ValueError, match=r"network 2 \(mlp, sizes \[784, 16, 16, 10\], outputs sigmoid\)"):
        Average([softmax_mlp(1), classic])
    with pytest.raises(ValueError, match="two or more networks"):
        Average([softmax_mlp(1)])


def test_combine_writes_an_average_that_keeps_each_networks_metadata(fake_mnist: Path, tmp_path: Path,  # noqa: F811
                                                                       capsys: pytest.CaptureFixture) -> None:
    save(tmp_path / "mlp.npz", softmax_mlp(1), {"name": "mlp", "history": [{"epoch": 1, "loss": 0.5}],
                                                "test_accuracy": 0.5})
    save(tmp_path / "conv.npz", ConvNet([2, 3], hidden=8), {"name": "conv", "training": {"seed": 3}})
    save(tmp_path / "third.npz", softmax_mlp(2), {"name": "third"})
    out = tmp_path / "both.npz"
    args = ["--output", str(out), "--data-dir", str(fake_mnist)]
    assert combine.main([str(tmp_path / "mlp.npz"), str(tmp_path / "conv.npz"), *args]) == 0
    printed = capsys.readouterr().out
    assert "mlp (mlp, 6,370 parameters): test accuracy 50.00%" in printed and "not recorded" in printed
    model = load(out)
    assert model.name == "both" and isinstance(model.network, Average)
    assert model.metadata["history"] == [{"epoch": 1, "loss": 0.5}]  # the shown network's
    assert model.metadata["networks"][1]["training"] == {"seed": 3}
    assert sum(map(sum, model.metadata["confusion_matrix"])) == 20  # the fake MNIST's 20 test digits
    # An average combined with a third network is an average of three, not of two.
    assert combine.main([str(out), str(tmp_path / "third.npz"), "--output", str(tmp_path / "three.npz"),
                         "--data-dir", str(fake_mnist), "--name", "three"]) == 0
    three = load(tmp_path / "three.npz")
    assert three.name == "three" and [m["name"] for m in three.metadata["networks"]] == ["mlp", "conv", "third"]
    assert three.network.shifts == [0, 0, 0]
    assert combine.main([str(out), "--shifts", "0,1", "--output", str(tmp_path / "viewed.npz"),
                         "--data-dir", str(fake_mnist)]) == 0
    assert "(convnet, 903 parameters, reading each drawing also moved by 1 px each way)" in capsys.readouterr().out
    assert load(tmp_path / "viewed.npz").network.shifts == [0, 1]
    # Combined again without --shifts, each network keeps the shift its file gave it.
    assert combine.main([str(tmp_path / "viewed.npz"), str(tmp_path / "third.npz"), "--output",
                         str(tmp_path / "again.npz"), "--data-dir", str(fake_mnist)]) == 0
    assert load(tmp_path / "again.npz").network.shifts == [0, 1, 0]


def test_combine_refuses_readably(fake_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:  # noqa: F811
    save(tmp_path / "mlp.npz", softmax_mlp(1), {"name": "mlp"})
    save(tmp_path / "classic.npz", Network([784, 16, 16, 10]), {"name": "classic"})
    save(tmp_path / "conv.npz", ConvNet([2, 3], hidden=8), {"name": "conv"})
    cases = [
        ([tmp_path / "mlp.npz", tmp_path / "classic.npz"], "cannot be averaged"),
        ([tmp_path / "mlp.npz"], "two or more networks"),
        ([tmp_path / "mlp.npz", tmp_path / "missing.npz"], "missing.npz: no such file"),
        ([tmp_path / "mlp.npz", tmp_path / "mlp.npz"], "networks 1 and 2 are the same network"),
        ([tmp_path / "mlp.npz", tmp_path / "conv.npz", "--shifts", "0,-1"], "shift must be 0 to 3 pixels, got [0, -1]"),
        ([tmp_path / "mlp.npz", tmp_path / "conv.npz", "--shifts", "1"], "2 networks but 1 shifts"),
    ]
    for paths, message in cases:
        args = [*map(str, paths), "--output", str(tmp_path / "out.npz"), "--data-dir", str(fake_mnist)]
        assert combine.main(args) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # argparse's own usage error
        combine.main([str(tmp_path / "mlp.npz"), str(tmp_path / "conv.npz"), "--shifts", "0,,1", "--output",
                      str(tmp_path / "out.npz")])
    assert usage.value.code == 2 and "whole numbers and commas, e.g. 0,1; got '0,,1'" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("width", [0, 1, 2])
def test_border_is_the_pixels_within_width_of_an_edge(width: int) -> None:
    frame = np.zeros((28, 28), dtype=np.float32)
    frame[width:28 - width, width:28 - width] = 1.0  # ink everywhere but the border
    pixels = border(frame.reshape(1, 784), width)
    assert pixels.shape == (1, 4 * width * (28 - width))
    assert not pixels.any()
