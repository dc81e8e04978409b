"""The network's maths: backprop against finite differences, and the forward pass's shapes."""

from __future__ import annotations

import numpy as np
import pytest

from model import costs
from model.network import Network

# Every hidden activation, every output activation, every cost a network accepts.
CASES = [
    (["sigmoid", "sigmoid", "sigmoid"], "quadratic"),
    (["tanh", "tanh", "sigmoid"], "cross_entropy"),
    (["relu", "relu", "softmax"], "cross_entropy"),
    (["relu", "tanh", "softmax"], "quadratic"),
    (["sigmoid", "relu", "tanh"], "quadratic"),
    (["tanh", "sigmoid", "relu"], "quadratic"),
]


def numerical_gradient(net: Network, x: np.ndarray, y: np.ndarray, param: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂C/∂param by central differences: (C(p + h) - C(p - h)) / 2h, one entry at a time."""
    grad = np.zeros_like(param)
    for idx in np.ndindex(param.shape):
        old = param[idx]
        param[idx] = old + h
        plus = costs.value(net.cost, net.activations[-1], net.feedforward(x), y)
        param[idx] = old - h
        minus = costs.value(net.cost, net.activations[-1], net.feedforward(x), y)
        param[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


@pytest.mark.parametrize(("acts", "cost"), CASES)
def test_backprop_matches_finite_differences(acts: list[str], cost: str) -> None:
    rng = np.random.default_rng(42)
    net = Network([6, 5, 4, 3], acts, cost, init="xavier", seed=3, dtype=np.float64)
    # Non-zero biases so ReLU units sit away from their kink (where the derivative is undefined).
    net.biases = [rng.uniform(0.1, 0.5, b.shape) for b in net.biases]
    x = rng.random((7, 6))
    y = np.eye(3)[rng.integers(0, 3, 7)]
    _, nabla_w, nabla_b = net.backprop(x, y)
    for l in range(3):
        assert relative_error(nabla_w[l], numerical_gradient(net, x, y, net.weights[l])) < 1e-6
        assert relative_error(nabla_b[l], numerical_gradient(net, x, y, net.biases[l])) < 1e-6


def test_gradient_check_catches_a_wrong_gradient() -> None:
    """The check above must be able to fail: a perturbed gradient is far off."""
    net = Network([4, 3, 2], ["sigmoid", "sigmoid"], "quadratic", seed=1, dtype=np.float64)
    x, y = np.random.default_rng(0).random((5, 4)), np.eye(2)[[0, 1, 0, 1, 1]]
    _, nabla_w, _ = net.backprop(x, y)
    assert relative_error(nabla_w[0] * 1.01, numerical_gradient(net, x, y, net.weights[0])) > 1e-3


def test_classic_network_has_13002_parameters_and_the_right_shapes() -> None:
    net = Network([784, 16, 16, 10])
    assert net.parameter_count == 13002
    assert [w.shape for w in net.weights] == [(16, 784), (16, 16), (10, 16)]
    layers = net.forward(np.zeros((3, 784), dtype=np.float32))
    assert [a.shape for a in layers] == [(3, 784), (3, 16), (3, 16), (3, 10)]
    assert all(a.dtype == np.float32 for a in layers)
    assert ((layers[-1] > 0) & (layers[-1] < 1)).all()  # sigmoid outputs


def test_softmax_outputs_are_probabilities() -> None:
    net = Network([8, 5, 4], ["relu", "softmax"], "cross_entropy", init="he")
    out = net.feedforward(np.random.default_rng(0).random((6, 8)) * 100)
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5) and (out >= 0).all()


def test_dropout_only_in_training_mode() -> None:
    net = Network([10, 200, 2], ["sigmoid", "softmax"], "cross_entropy", dropout=0.5)  # sigmoid: never 0 itself
    x = np.ones((4, 10), dtype=np.float32)
    assert np.array_equal(net.feedforward(x), net.feedforward(x))  # inference: no randomness
    hidden = net.forward(x, np.random.default_rng(0))[1]
    dropped = (hidden == 0).mean()
    assert 0.4 < dropped < 0.6
    assert np.allclose(hidden[hidden > 0], 2 * net.forward(x)[1][hidden > 0])  # survivors scaled by 1/(1-p)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(sizes=[784]), "at least two"),
        (dict(sizes=[4, 3, 2], activations_=["relu"]), "need 2 activations"),
        (dict(sizes=[4, 2], activations_="softmax", cost="nope"), "unknown cost"),
        (dict(sizes=[4, 2], activations_="relu", cost="cross_entropy"), "sigmoid or softmax"),
        (dict(sizes=[4, 3, 2], activations_=["softmax", "softmax"]), "hidden activation"),
        (dict(sizes=[4, 2], init="zeros"), "unknown initialisation"),
    ],
)
def test_bad_configurations_are_rejected_clearly(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Network(**kwargs)


def test_wrong_input_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        Network([784, 16, 10]).feedforward(np.zeros((2, 783)))
