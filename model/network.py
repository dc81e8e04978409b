"""A fully connected feed-forward network, trained by backpropagation.

Conventions (as in 3Blue1Brown's series and Nielsen's book, with examples as rows):

- ``sizes = [784, 16, 16, 10]`` means 784 inputs, two hidden layers of 16, 10 outputs.
- Layer l (1-based, l = 1..L) has weights ``W[l]`` of shape ``(sizes[l], sizes[l-1])``
  (row j holds the incoming weights of neuron j) and biases ``b[l]`` of shape ``(sizes[l],)``.
- A batch of n inputs is ``x`` of shape ``(n, 784)``; layer l computes
      z^l = a^{l-1} W^l.T + b^l          (n, sizes[l])
      a^l = f_l(z^l)
  In code the lists are 0-based: ``weights[0]`` is W^1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model import activations, costs

Array = np.ndarray
INITS = ("standard", "xavier", "he")


class Network:
    kind = "mlp"

    def __init__(
        self,
        sizes: Sequence[int],
        activations_: Sequence[str] | str = "sigmoid",
        cost: str = "quadratic",
        init: str = "standard",
        dropout: float = 0.0,
        seed: int = 0,
        dtype: type = np.float32,
    ) -> None:
        """Build a network with freshly initialised weights.

        ``activations_`` is one name per weighted layer (``len(sizes) - 1``), or a
        single name for every layer. ``dropout`` is the probability of zeroing a
        hidden neuron during training (0 disables it).
        """
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must be at least two positive layer sizes, got {list(sizes)}")
        self.sizes = [int(s) for s in sizes]
        n_layers = len(self.sizes) - 1
        if isinstance(activations_, str):
            activations_ = [activations_] * n_layers
        self.activations = list(activations_)
        if len(self.activations) != n_layers:
            raise ValueError(f"need {n_layers} activations for sizes {self.sizes}, got {self.activations}")
        for name in self.activations[:-1]:
            if name not in activations.HIDDEN_NAMES:
                raise ValueError(f"hidden activation {name!r} is not one of {', '.join(activations.HIDDEN_NAMES)}")
        if self.activations[-1] not in activations.NAMES:
            raise ValueError(f"output activation {self.activations[-1]!r} is not one of {', '.join(activations.NAMES)}")
        costs.check_pair(cost, self.activations[-1])
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.cost = cost
        self.init = init
        self.dropout = float(dropout)
        self.dtype = np.dtype(dtype)
        self.weights, self.biases = initial_parameters(self.sizes, init, np.random.default_rng(seed), self.dtype)

    @property
    def parameter_count(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def architecture(self) -> dict[str, object]:
        """What the weights file records, beside sizes, activations and cost, to build this network again."""
        return {"kind": self.kind}

    def incoming(self, layer: int, neuron: int) -> tuple[Array, tuple[int, ...], float]:
        """Neuron ``neuron`` of layer ``layer`` (1 = first hidden): its incoming weights (sizes[layer-1],), their
        shape (an image, (28, 28), for the first layer of a network with a square input, else one row), its bias."""
        weights = self.weights[layer - 1][neuron]
        side = int(round(weights.size**0.5))
        shape = (side, side) if layer == 1 and side * side == weights.size else (weights.size,)
        return weights, shape, float(self.biases[layer - 1][neuron])

    def astype(self, dtype: type) -> Network:
        """Convert the parameters in place (float64 for gradient checks); returns self."""
        self.dtype = np.dtype(dtype)
        self.weights = [w.astype(dtype) for w in self.weights]
        self.biases = [b.astype(dtype) for b in self.biases]
        return self

    # ---- forward pass -------------------------------------------------------

    def feedforward(self, x: Array) -> Array:
        """Output activations for a batch: x (n, sizes[0]) → (n, sizes[-1])."""
        return self.forward(x)[-1]

    def forward(self, x: Array, rng: np.random.Generator | None = None) -> list[Array]:
        """Every layer's activations ``[a^0 = x, a^1, ..., a^L]``, a^l of shape (n, sizes[l]).

        With an ``rng`` and ``dropout > 0`` it runs in training mode: each hidden
        neuron is zeroed with probability p and the survivors scaled by 1/(1-p)
        ("inverted" dropout, so inference needs no rescaling). The masks are
        kept on ``self._masks`` for the backward pass.
        """
        a = np.asarray(x, dtype=self.dtype)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(f"input must have shape (n, {self.sizes[0]}), got {a.shape}")
        layers = [a]
        self._masks: list[Array | None] = []
        last = len(self.weights) - 1
        for l, (w, b, name) in enumerate(zip(self.weights, self.biases, self.activations)):
            # (w @ a.T).T is a @ w.T; OpenBLAS computes it 2-3 times faster for 2 to 32 rows, as fast for more
            # (the service's groups of drawings; docs/performance.md).
            a = activations.FORWARD[name]((w @ a.T).T + b)
            mask = None
            if rng is not None and self.dropout > 0 and l < last:
                keep = 1.0 - self.dropout
                mask = (rng.random(a.shape, dtype=np.float32) < keep).astype(self.dtype) / self.dtype.type(keep)
                a = a * mask
            self._masks.append(mask)
            layers.append(a)
        return layers

    # ---- backward pass ------------------------------------------------------

    def backprop(
        self, x: Array, y: Array, rng: np.random.Generator | None = None
    ) -> tuple[float, list[Array], list[Array]]:
        """Cost and its gradient for a batch.

        x: (n, sizes[0]) inputs; y: (n, sizes[-1]) targets (one-hot for digits).
        Returns ``(C, nabla_w, nabla_b)`` with ``nabla_w[l]`` shaped like
        ``weights[l]`` and ``nabla_b[l]`` like ``biases[l]``. The four equations:

            BP1  δ^L = ∇_a C ⊙ f'(z^L)                 (costs.output_delta)
            BP2  δ^l = (δ^{l+1} W^{l+1}) ⊙ f'(z^l)      δ^l: (n, sizes[l])
            BP3  ∂C/∂b^l = Σ_x δ^l_x                    (sizes[l],)
            BP4  ∂C/∂W^l = δ^l.T a^{l-1}                (sizes[l], sizes[l-1])
        """
        a = self.forward(x, rng)
        y = np.asarray(y, dtype=self.dtype)
        cost = costs.value(self.cost, self.activations[-1], a[-1], y)
        delta = costs.output_delta(self.cost, self.activations[-1], a[-1], y)  # BP1
        nabla_w: list[Array] = [np.empty(0)] * len(self.weights)
        nabla_b: list[Array] = [np.empty(0)] * len(self.biases)
        for l in range(len(self.weights) - 1, -1, -1):
            nabla_b[l] = delta.sum(axis=0)  # BP3
            nabla_w[l] = delta.T @ a[l]  # BP4 (a[l] is the layer's input a^{l-1})
            if l > 0:
                grad_a = delta @ self.weights[l]  # ∂C/∂a^{l-1}
                if self._masks[l - 1] is not None:
                    grad_a = grad_a * self._masks[l - 1]  # dropped neurons pass no gradient
                delta = activations.backward(self.activations[l - 1], a[l], grad_a)  # BP2
        return cost, nabla_w, nabla_b


def initial_parameters(
    sizes: Sequence[int], init: str, rng: np.random.Generator, dtype: np.dtype
) -> tuple[list[Array], list[Array]]:
    """Random weights (sizes[l], sizes[l-1]) and biases (sizes[l],) for each layer.

    - standard: every weight and bias ~ N(0, 1) (Nielsen's chapter 1).
    - xavier: W ~ N(0, 2/(fan_in + fan_out)), b = 0 (Glorot & Bengio 2010), for sigmoid/tanh.
    - he: W ~ N(0, 2/fan_in), b = 0 (He et al. 2015), for ReLU.
    """
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if init == "standard":
            w = rng.standard_normal((fan_out, fan_in))
            b = rng.standard_normal(fan_out)
        elif init == "xavier":
            w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / (fan_in + fan_out))
            b = np.zeros(fan_out)
        elif init == "he":
            w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
            b = np.zeros(fan_out)
        else:
            raise ValueError(f"unknown initialisation {init!r}; choose one of {', '.join(INITS)}")
        weights.append(w.astype(dtype))
        biases.append(b.astype(dtype))
    return weights, biases
