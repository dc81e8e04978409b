"""The convolutional network's maths (model.convnet): a naive convolution, a transpose, finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from model.convnet import ConvNet, col2im, im2col, pool_relu, pool_relu_backward, pool_winners


def naive_convolution(x: np.ndarray, kernels: np.ndarray, pad: int) -> np.ndarray:
    """The definition, one value at a time: x (n, H, W, C_in), kernels (C_out, k, k, C_in) → (n, H', W', C_out)."""
    k = kernels.shape[1]
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, _ = padded.shape
    out = np.zeros((n, h - k + 1, w - k + 1, len(kernels)))
    for i in range(h - k + 1):
        for j in range(w - k + 1):
            window = padded[:, i : i + k, j : j + k, :]
            out[:, i, j, :] = np.tensordot(window, kernels, axes=([1, 2, 3], [1, 2, 3]))
    return out


@pytest.mark.parametrize("pad", [0, 2])
def test_im2col_times_the_kernels_is_the_convolution(pad: int) -> None:
    rng = np.random.default_rng(0)
    x, kernels = rng.standard_normal((2, 9, 8, 3)), rng.standard_normal((4, 5, 5, 3))
    out = naive_convolution(x, kernels, pad)
    cols = im2col(x, 5, pad)  # rows ordered (row, column, channel), as a kernel row of K (C_out, 25·C_in)
    assert np.allclose((cols @ kernels.reshape(4, -1).T).reshape(out.shape), out, atol=1e-12)


@pytest.mark.parametrize("pad", [0, 2])
def test_col2im_is_the_transpose_of_im2col(pad: int) -> None:
    """<im2col(x), g> = <x, col2im(g)> for every x and g: the backward pass of a linear map is its transpose."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 8, 3))
    cols = im2col(x, 5, pad)
    g = rng.standard_normal(cols.shape)
    dx = col2im(g, 5, pad, x.shape)
    assert dx.shape == x.shape
    assert np.vdot(cols, g) == pytest.approx(np.vdot(x, dx), rel=1e-12)


def test_pooling_takes_each_blocks_maximum_then_relu() -> None:
    z = np.array([[1.0, -2.0, -5.0, -1.0], [0.5, 3.0, -4.0, -3.0]]).reshape(1, 2, 4, 1)
    pooled = pool_relu(z)
    assert pooled.reshape(-1).tolist() == [3.0, 0.0]  # max(1, -2, 0.5, 3); max of the negatives, cut to 0


def test_a_tied_block_passes_its_gradient_to_one_value() -> None:
    z = np.full((1, 2, 2, 1), 0.5)  # four equal values, as on a blank background
    pooled = pool_relu(z)
    dz = pool_relu_backward(np.ones_like(pooled), pooled, pool_winners(z))
    assert dz.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]  # the first, as the maximum's derivative is 1, not 4


def cost(net: ConvNet, x: np.ndarray, y: np.ndarray) -> float:
    return float(-np.sum(y * np.log(net.feedforward(x))) / len(x))


def numerical_gradient(net: ConvNet, x: np.ndarray, y: np.ndarray, param: np.ndarray, cost=cost) -> np.ndarray:
    """∂C/∂param by central differences, one entry at a time; C is ``cost(net, x, y)``."""
    h, grad = 1e-6, np.zeros_like(param)
    for idx in np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + h
        plus = cost(net, x, y)
        param[idx] = old - h
        minus = cost(net, x, y)
        param[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def small_net_and_batch(blank_border: bool = False) -> tuple[ConvNet, np.ndarray, np.ndarray]:
    """A float64 network with 2 and 3 channels and 4 hidden neurons, and 3 images: x (3, 784), y (3, 10)."""
    rng = np.random.default_rng(7)
    net = ConvNet([2, 3], hidden=4, seed=1, dtype=np.float64)
    for bias in net.biases:  # non-zero biases keep ReLUs away from their kink
        bias[...] = rng.uniform(0.05, 0.2, bias.shape)
    x = rng.random((3, 28, 28))
    if blank_border:  # as in MNIST: where the input is 0, every value of a pooled block is the same
        x[:, :10], x[:, 18:], x[:, :, :10], x[:, :, 18:] = 0, 0, 0, 0
    return net, x.reshape(3, 784), np.eye(10)[[3, 0, 7]]


@pytest.mark.parametrize("blank_border", [False, True])
def test_backprop_matches_finite_differences(blank_border: bool) -> None:
    net, x, y = small_net_and_batch(blank_border)
    value, nabla_w, nabla_b = net.backprop(x, y)
    assert value == pytest.approx(cost(net, x, y))
    for param, grad in zip(net.weights + net.biases, nabla_w + nabla_b, strict=True):
        assert grad.shape == param.shape
        assert relative_error(grad, numerical_gradient(net, x, y, param)) < 1e-6


def test_backprop_with_dropout_matches_finite_differences() -> None:
    """The same neurons dropped in every evaluation (a generator of the same seed each time)."""
    net, x, y = small_net_and_batch()
    net.dropout = 0.5

    def cost_dropped(net: ConvNet, x: np.ndarray, y: np.ndarray) -> float:
        return float(-np.sum(y * np.log(net.forward(x, np.random.default_rng(5))[-1])) / len(x))

    _, nabla_w, nabla_b = net.backprop(x, y, np.random.default_rng(5))
    for param, grad in zip(net.weights[2:] + net.biases[2:], nabla_w[2:] + nabla_b[2:], strict=True):
        assert relative_error(grad, numerical_gradient(net, x, y, param, cost_dropped)) < 1e-6


def test_the_gradient_check_can_fail() -> None:
    net, x, y = small_net_and_batch()
    _, nabla_w, _ = net.backprop(x, y)
    assert relative_error(nabla_w[0] * 1.01, numerical_gradient(net, x, y, net.weights[0])) > 1e-3


def test_dropout_only_in_training_and_gradients_pass_only_kept_neurons() -> None:
    net = ConvNet([2, 3], hidden=8, dropout=0.5)
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    plain = net.feedforward(x)
    assert plain.shape == (4, 10) and plain.dtype == np.float32 and np.allclose(plain.sum(axis=1), 1, atol=1e-5)
    dropped = net.forward(x, np.random.default_rng(1))
    assert not np.allclose(dropped[-1], plain)
    assert np.array_equal(net.feedforward(x), plain)  # dropping in one pass leaves the next untouched
    _, nabla_w, _ = net.backprop(x, np.eye(10)[[1, 2, 3, 4]], np.random.default_rng(1))
    silent = (dropped[3] == 0).all(axis=0)  # hidden neurons dropped (or off) for every image
    assert silent.any() and (nabla_w[3][:, silent] == 0).all()


def test_layers_are_the_flattened_feature_maps() -> None:
    net = ConvNet([2, 3], hidden=8)
    layers = net.forward(np.zeros((5, 784), np.float32))
    assert [layer.shape for layer in layers] == [(5, size) for size in net.sizes] == [
        (5, 784), (5, 14 * 14 * 2), (5, 5 * 5 * 3), (5, 8), (5, 10)]
    assert net.parameter_count == (2 * 25 + 2) + (3 * 50 + 3) + (8 * 75 + 8) + (10 * 8 + 10)
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        net.forward(np.zeros((2, 783)))
    with pytest.raises(ValueError, match="two positive channel counts"):
        ConvNet([16], hidden=8)


@pytest.mark.parametrize(
    "moves",
    [
        [(0, 0), (2, -1), (-3, 3), (0, -2)],  # (0, 0) and (0, -2) share their second convolution, the others not
        [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)],  # the default's five views: up with down, left with right
        [(0, 0), (-2, 0), (2, 0), (0, -2), (0, 2)],  # all five share one
        [(1, 1), (-1, -1), (1, -1), (-1, 1)],  # one group, its windows in the corners of the region
    ],
)
def test_moved_frames_share_the_convolutions_and_answer_as_if_moved_first(moves: list[tuple[int, int]]) -> None:
    net = ConvNet([3, 4], hidden=8, seed=1)
    frames = np.zeros((2, 28, 28), dtype=np.float32)
    frames[:, 3:-3, 3:-3] = np.random.default_rng(0).random((2, 22, 22))  # a blank border 3 px wide
    moved = np.zeros((len(moves), 2, 28, 28), dtype=np.float32)
    for view, (dy, dx) in zip(moved, moves):  # np.roll wraps around; the blank border makes it a plain move
        view[:] = np.roll(frames, (dy, dx), axis=(1, 2))
    expected = net.feedforward(moved.reshape(-1, 784))  # move by move, image by image
    got = net.feedforward_moved(frames.reshape(2, 784), moves)
    assert got.shape == (2 * len(moves), 10)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert not np.allclose(got[:2], got[2:4], atol=1e-3)  # the moves change the answer
    assert net.feedforward_moved(np.zeros((0, 784), np.float32), moves).shape == (0, 10)


def test_a_single_move_and_repeated_moves_answer_as_the_moved_frames() -> None:
    net = ConvNet([3, 4], hidden=8, seed=2)
    frames = np.zeros((3, 28, 28), dtype=np.float32)
    frames[:, 4:-4, 4:-4] = np.random.default_rng(1).random((3, 20, 20))
    for moves in ([(0, 0)], [(2, 1)], [(1, 0), (1, 0), (0, 0)]):
        moved = np.stack([np.roll(frames, move, axis=(1, 2)) for move in moves]).reshape(-1, 784)
        got = net.feedforward_moved(frames.reshape(3, 784), moves)
        np.testing.assert_allclose(got, net.feedforward(moved), atol=1e-6)
