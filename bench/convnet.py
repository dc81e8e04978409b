"""A small convolutional network in NumPy, for a trial (``bench.convnet_trial``); the service does not use it.

    28×28 input → 5×5 convolution, c1 channels, padded to keep 28×28 → 2×2 max-pool, ReLU → 14×14×c1
                → 5×5 convolution, c2 channels, unpadded → 10×10 → 2×2 max-pool, ReLU → 5×5×c2
                → dense, ``hidden`` ReLU neurons (dropout in training) → dense, 10 softmax outputs.

Images are rows of channels last: a batch is (n, height, width, channels). A convolution is one matrix
product: every k×k window of the input, with its channels, is unrolled into a row ("im2col"), so

    z = cols @ W + b      cols (n·H'·W', k·k·C_in), W (k·k·C_in, C_out), z (n·H'·W', C_out)

and its backward pass is two more products, dW = cols.T @ dz and dcols = dz @ W.T, with dcols added back
onto the windows they came from ("col2im"). The cost is softmax cross-entropy, whose gradient at the
outputs' inputs is (p − y) / n, as for the MLP in ``model.network``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike

Array = np.ndarray


class Conv:
    """k×k convolution of C_in → C_out channels, stride 1, ``pad`` zeros around the input."""

    def __init__(self, c_in: int, c_out: int, k: int, pad: int, rng: np.random.Generator, dtype: DTypeLike) -> None:
        self.k, self.pad = k, pad
        fan_in = k * k * c_in
        self.W = (rng.standard_normal((fan_in, c_out)) * np.sqrt(2.0 / fan_in)).astype(dtype)  # He initialisation
        self.b = np.zeros(c_out, dtype)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)  # set by backward
        self.cache: tuple = ()  # set by forward, for backward

    def forward(self, x: Array) -> Array:
        """x (n, H, W, C_in) → z (n, H + 2·pad − k + 1, W + 2·pad − k + 1, C_out); keeps what backward needs."""
        n, _, _, channels = x.shape
        p, k = self.pad, self.k
        padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))) if p else x
        windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (n, H', W', C_in, k, k), a view
        out_h, out_w = windows.shape[1], windows.shape[2]
        cols = np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(n * out_h * out_w, k * k * channels)
        self.cache = (cols, padded.shape, out_h, out_w)
        return (cols @ self.W + self.b).reshape(n, out_h, out_w, -1)

    def backward(self, dz: Array, need_dx: bool = True) -> Array | None:
        """dz (n, H', W', C_out) → dx (n, H, W, C_in); sets self.dW and self.db."""
        cols, padded_shape, out_h, out_w = self.cache
        n = dz.shape[0]
        dz2 = dz.reshape(-1, dz.shape[-1])
        self.dW = cols.T @ dz2
        self.db = dz2.sum(axis=0)
        if not need_dx:
            return None
        k, p = self.k, self.pad
        dcols = (dz2 @ self.W.T).reshape(n, out_h, out_w, k, k, padded_shape[3])
        dpadded = np.zeros(padded_shape, dz.dtype)
        for i in range(k):  # col2im: each window position's share goes back where it was read (k·k slices)
            for j in range(k):
                dpadded[:, i : i + out_h, j : j + out_w, :] += dcols[:, :, :, i, j, :]
        return dpadded[:, p:-p, p:-p, :] if p else dpadded


def pool_relu(z: Array) -> tuple[Array, tuple[Array, Array, tuple[int, ...]]]:
    """2×2 max-pool then ReLU: z (n, H, W, C) → a (n, H/2, W/2, C), and what the backward pass needs."""
    n, h, w, c = z.shape
    # Each 2×2 block's four values side by side: (n, H/2, W/2, C, 4), in the order (0,0) (0,1) (1,0) (1,1).
    blocks = z.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)
    # One winner per block, the first of equals: on MNIST's blank background all four are often exactly equal,
    # and the maximum's derivative goes to one of them, not to each.
    winner = blocks.argmax(axis=-1)
    peak = np.take_along_axis(blocks, winner[..., None], axis=-1)[..., 0]
    return np.maximum(peak, 0), (winner, peak, z.shape)


def pool_relu_backward(da: Array, cache: tuple[Array, Array, tuple[int, ...]]) -> Array:
    """da (n, H/2, W/2, C) → dz (n, H, W, C): each block's gradient goes to its winner, where ReLU let it through."""
    winner, peak, (n, h, w, c) = cache
    dblocks = np.zeros((*peak.shape, 4), da.dtype)
    np.put_along_axis(dblocks, winner[..., None], (da * (peak > 0))[..., None], axis=-1)
    return dblocks.reshape(n, h // 2, w // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n, h, w, c)


class ConvNet:
    """The network in the module docstring; ``params()`` lists its arrays, weights first, in a fixed order."""

    def __init__(
        self, c1: int = 16, c2: int = 32, hidden: int = 128, seed: int = 0, dtype: DTypeLike = np.float32
    ) -> None:
        rng = np.random.default_rng(seed)
        self.c1, self.c2, self.hidden = c1, c2, hidden
        self.conv1 = Conv(1, c1, 5, 2, rng, dtype)
        self.conv2 = Conv(c1, c2, 5, 0, rng, dtype)
        flat = 5 * 5 * c2
        self.W3 = (rng.standard_normal((flat, hidden)) * np.sqrt(2.0 / flat)).astype(dtype)
        self.b3 = np.zeros(hidden, dtype)
        self.W4 = (rng.standard_normal((hidden, 10)) * np.sqrt(2.0 / hidden)).astype(dtype)
        self.b4 = np.zeros(10, dtype)
        self.cache: tuple = ()  # set by forward, for backprop

    def params(self) -> list[Array]:
        """The parameter arrays, weights first: conv1 (25, c1), conv2 (25·c1, c2), dense (25·c2, hidden), (hidden, 10),
        then the biases (c1,), (c2,), (hidden,), (10,). ``backprop``'s gradients come in the same order."""
        return [self.conv1.W, self.conv2.W, self.W3, self.W4, self.conv1.b, self.conv2.b, self.b3, self.b4]

    def decay_mask(self) -> list[bool]:
        """Which of ``params()`` weight decay applies to: the weights, not the biases."""
        return [True] * 4 + [False] * 4

    def forward(self, x: Array, rng: np.random.Generator | None = None, dropout: float = 0.0) -> Array:
        """x (n, 784) → output probabilities (n, 10); with ``rng`` and ``dropout``, hidden neurons are dropped."""
        n = len(x)
        a1, pool1 = pool_relu(self.conv1.forward(x.reshape(n, 28, 28, 1)))  # (n, 14, 14, c1)
        a2, pool2 = pool_relu(self.conv2.forward(a1))  # (n, 5, 5, c2)
        flat = a2.reshape(n, -1)
        h = np.maximum(flat @ self.W3 + self.b3, 0)  # (n, hidden)
        mask = None
        if rng is not None and dropout:
            mask = (rng.random(h.shape, dtype=h.dtype) >= dropout).astype(h.dtype) / h.dtype.type(1 - dropout)
            h = h * mask
        z = h @ self.W4 + self.b4
        z = z - z.max(axis=1, keepdims=True)  # softmax, shifted so exp cannot overflow
        e = np.exp(z)
        self.cache = (pool1, pool2, a2.shape, flat, h, mask)
        return e / e.sum(axis=1, keepdims=True)

    def backprop(
        self, x: Array, labels: Array, rng: np.random.Generator | None = None, dropout: float = 0.0
    ) -> tuple[float, list[Array]]:
        """Mean cross-entropy of x (n, 784) against labels (n,), and its gradient for each of ``params()``."""
        p = self.forward(x, rng, dropout)
        n = len(x)
        loss = float(-np.log(np.maximum(p[np.arange(n), labels], 1e-12)).mean())
        pool1, pool2, a2_shape, flat, h, mask = self.cache
        delta = p.copy()
        delta[np.arange(n), labels] -= 1
        delta /= n  # ∂C/∂z at the outputs
        dW4, db4 = h.T @ delta, delta.sum(axis=0)
        dh = delta @ self.W4.T
        if mask is not None:
            dh *= mask
        dh *= h > 0
        dW3, db3 = flat.T @ dh, dh.sum(axis=0)
        da2 = (dh @ self.W3.T).reshape(a2_shape)
        da1 = self.conv2.backward(pool_relu_backward(da2, pool2))
        self.conv1.backward(pool_relu_backward(da1, pool1), need_dx=False)
        grads = [self.conv1.dW, self.conv2.dW, dW3, dW4, self.conv1.db, self.conv2.db, db3, db4]
        return loss, grads

    def predict_proba(self, x: Array, batch: int = 1000) -> Array:
        """x (n, 784) → probabilities (n, 10), ``batch`` rows at a time to bound memory."""
        return np.concatenate([self.forward(x[i : i + batch]) for i in range(0, len(x), batch)])
