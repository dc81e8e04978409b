"""Activation functions and their derivatives.

Every function works element-wise on an array of pre-activations ``z`` of shape
``(n, units)``: one row per example. Derivatives are written in terms of the
activation ``a = f(z)`` where that is possible, so backprop only has to keep
the activations, not the pre-activations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^-z), computed without overflow for large |z|."""
    # exp(-|z|) never overflows; the two branches are the same function.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_prime(a: Array) -> Array:
    """σ'(z) = σ(z)(1 - σ(z)), given a = σ(z)."""
    return a * (1.0 - a)


def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_prime(a: Array) -> Array:
    """tanh'(z) = 1 - tanh(z)², given a = tanh(z)."""
    return 1.0 - a * a


def relu(z: Array) -> Array:
    return np.maximum(z, 0)


def relu_prime(a: Array) -> Array:
    """ReLU'(z) = 1 where z > 0, else 0 (a > 0 exactly when z > 0)."""
    return (a > 0).astype(a.dtype)


def softmax(z: Array) -> Array:
    """Row-wise softmax: a_j = e^{z_j} / Σ_k e^{z_k}. Shift by the row max for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_backward(a: Array, grad_a: Array) -> Array:
    """∂C/∂z for a softmax layer, given a = softmax(z) and ∂C/∂a, both (n, k).

    The Jacobian is ∂a_i/∂z_j = a_i (δ_ij - a_j), so ∂C/∂z_j = a_j (g_j - Σ_i g_i a_i).
    """
    return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))


FORWARD: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "softmax": softmax,
}

# Element-wise derivative f'(z) expressed through a = f(z). Softmax is not
# element-wise, so it has no entry here: see `backward`.
PRIME: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid_prime,
    "tanh": tanh_prime,
    "relu": relu_prime,
}

NAMES = tuple(FORWARD)
HIDDEN_NAMES = tuple(PRIME)


def backward(name: str, a: Array, grad_a: Array) -> Array:
    """∂C/∂z from ∂C/∂a for the activation ``name``; all arrays (n, units)."""
    if name == "softmax":
        return softmax_backward(a, grad_a)
    return grad_a * PRIME[name](a)
