"""Cost functions: the value C averaged over a batch, and the output error δ^L = ∂C/∂z^L.

Shapes: ``a`` (the output activations) and ``y`` (the one-hot targets) are both
``(n, 10)`` for n examples. The costs are means over the batch, so gradients do
not grow with the batch size.
"""

from __future__ import annotations

import numpy as np

from model import activations

Array = np.ndarray
NAMES = ("quadratic", "cross_entropy")

# log(0) would give -inf; clip probabilities this far from 0 and 1 in the *value* only.
_EPS = 1e-12


def value(cost: str, output_activation: str, a: Array, y: Array) -> float:
    """C = (1/n) Σ_x c(a_x, y_x)."""
    n = a.shape[0]
    if cost == "quadratic":
        # C = 1/(2n) Σ ‖a - y‖², as in 3Blue1Brown's series and Nielsen's book.
        return float(0.5 * np.sum((a - y) ** 2) / n)
    if cost == "cross_entropy":
        a = np.clip(a, _EPS, 1.0 - _EPS) if output_activation == "sigmoid" else np.maximum(a, _EPS)
        if output_activation == "softmax":
            # Log-likelihood of the right class: C = -(1/n) Σ y·ln a.
            return float(-np.sum(y * np.log(a)) / n)
        # Sigmoid outputs: each unit is its own yes/no question.
        return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / n)
    raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(NAMES)}")


def output_delta(cost: str, output_activation: str, a: Array, y: Array) -> Array:
    """δ^L = ∂C/∂z^L, shape (n, 10).

    Quadratic: δ^L = (a - y) ⊙ σ'(z^L) / n (BP1 in Nielsen's chapter 2).
    Cross-entropy with a sigmoid or softmax output: the σ'(z) factor cancels and
    δ^L = (a - y) / n, which is why this pairing learns fast even when saturated.
    """
    n = a.shape[0]
    if cost == "quadratic":
        return activations.backward(output_activation, a, (a - y) / n)
    if cost == "cross_entropy":
        check_pair(cost, output_activation)
        return (a - y) / n
    raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(NAMES)}")


def check_pair(cost: str, output_activation: str) -> None:
    """Cross-entropy reads the outputs as probabilities, so they must lie in (0, 1)."""
    if cost not in NAMES:
        raise ValueError(f"unknown cost {cost!r}; choose one of {', '.join(NAMES)}")
    if cost == "cross_entropy" and output_activation not in ("sigmoid", "softmax"):
        raise ValueError(
            f"cross_entropy needs a sigmoid or softmax output layer, not {output_activation!r}"
        )
