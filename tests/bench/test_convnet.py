"""The trial convolutional network's maths (bench.convnet): a naive convolution, and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from bench.convnet import Conv, ConvNet, pool_relu, pool_relu_backward


def naive_convolution(x: np.ndarray, conv: Conv) -> np.ndarray:
    """The definition, one output value at a time: x (n, H, W, C_in) → (n, H', W', C_out)."""
    k, p = conv.k, conv.pad
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    kernel = conv.W.reshape(k, k, x.shape[3], -1)  # rows of W are (row, column, channel) of the window
    n, h, w, _ = padded.shape
    out = np.zeros((n, h - k + 1, w - k + 1, kernel.shape[3]))
    for i in range(h - k + 1):
        for j in range(w - k + 1):
            window = padded[:, i : i + k, j : j + k, :]
            out[:, i, j, :] = np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2])) + conv.b
    return out


@pytest.mark.parametrize("pad", [0, 2])
def test_the_convolution_is_the_definition(pad: int) -> None:
    rng = np.random.default_rng(0)
    conv = Conv(3, 4, 5, pad, rng, np.float64)
    conv.b = rng.standard_normal(4)
    x = rng.standard_normal((2, 9, 8, 3))
    assert np.allclose(conv.forward(x), naive_convolution(x, conv), atol=1e-12)


@pytest.mark.parametrize("pad", [0, 2])
def test_the_backward_pass_is_the_transpose_of_the_convolution(pad: int) -> None:
    """For the linear map x → conv(x) − b, backward must be its transpose: <conv(x) − b, g> = <x, backward(g)>."""
    rng = np.random.default_rng(1)
    conv = Conv(3, 4, 5, pad, rng, np.float64)
    x = rng.standard_normal((2, 9, 8, 3))
    out = conv.forward(x) - conv.b
    g = rng.standard_normal(out.shape)
    dx = conv.backward(g)
    assert dx.shape == x.shape
    assert np.vdot(out, g) == pytest.approx(np.vdot(x, dx), rel=1e-12)


def test_pooling_takes_each_blocks_maximum_then_relu() -> None:
    z = np.array([[1.0, -2.0, -5.0, -1.0], [0.5, 3.0, -4.0, -3.0]]).reshape(1, 2, 4, 1)
    pooled, _ = pool_relu(z)
    assert pooled.reshape(-1).tolist() == [3.0, 0.0]  # max(1, -2, 0.5, 3); max of the negatives, cut to 0


def test_a_tied_block_passes_its_gradient_to_one_value() -> None:
    z = np.full((1, 2, 2, 1), 0.5)  # four equal values, as on a blank background
    pooled, cache = pool_relu(z)
    dz = pool_relu_backward(np.ones_like(pooled), cache)
    assert dz.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]  # the first, as the maximum's derivative is 1, not 4


def loss(net: ConvNet, x: np.ndarray, labels: np.ndarray) -> float:
    p = net.forward(x)
    return float(-np.log(p[np.arange(len(x)), labels]).mean())


def numerical_gradient(net: ConvNet, x: np.ndarray, labels: np.ndarray, param: np.ndarray) -> np.ndarray:
    """∂C/∂param by central differences, one entry at a time."""
    h, grad = 1e-6, np.zeros_like(param)
    for idx in np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + h
        plus = loss(net, x, labels)
        param[idx] = old - h
        minus = loss(net, x, labels)
        param[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def small_net_and_batch(blank_border: bool = False) -> tuple[ConvNet, np.ndarray, np.ndarray]:
    """A float64 network with 2 and 3 channels and 4 hidden neurons, and 3 images: x (3, 784), labels (3,)."""
    rng = np.random.default_rng(7)
    net = ConvNet(c1=2, c2=3, hidden=4, seed=1, dtype=np.float64)
    for bias in net.params()[4:]:  # non-zero biases keep ReLUs away from their kink
        bias[...] = rng.uniform(0.05, 0.2, bias.shape)
    x = rng.random((3, 28, 28))
    if blank_border:  # as in MNIST: where the input is 0, every value of a pooled block is the same
        x[:, :10], x[:, 18:], x[:, :, :10], x[:, :, 18:] = 0, 0, 0, 0
    return net, x.reshape(3, 784), np.array([3, 0, 7])


@pytest.mark.parametrize("blank_border", [False, True])
def test_backprop_matches_finite_differences(blank_border: bool) -> None:
    net, x, labels = small_net_and_batch(blank_border)
    value, grads = net.backprop(x, labels)
    assert value == pytest.approx(loss(net, x, labels))
    for param, grad in zip(net.params(), grads):
        assert grad.shape == param.shape
        assert relative_error(grad, numerical_gradient(net, x, labels, param)) < 1e-6


def test_the_gradient_check_can_fail() -> None:
    net, x, labels = small_net_and_batch()
    _, grads = net.backprop(x, labels)
    assert relative_error(grads[0] * 1.01, numerical_gradient(net, x, labels, net.params()[0])) > 1e-3


def test_dropout_only_in_training_and_outputs_are_probabilities() -> None:
    net = ConvNet(c1=2, c2=3, hidden=8)
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    plain = net.forward(x)
    assert plain.shape == (4, 10) and plain.dtype == np.float32 and np.allclose(plain.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(net.predict_proba(x, batch=3), plain, atol=1e-6)  # in pieces or whole, the same
    dropped = net.forward(x, np.random.default_rng(1), dropout=0.5)
    assert not np.allclose(dropped, plain)
    assert np.array_equal(net.forward(x), plain)  # dropping in one pass leaves the next untouched
