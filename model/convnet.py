"""A small convolutional network, trained by backpropagation like ``model.network``'s MLP.

    x (n, 784) as 28×28 → 5×5 convolution, c1 channels, padded to keep 28×28 → 2×2 max-pool, ReLU → 14×14×c1
                        → 5×5 convolution, c2 channels, unpadded → 10×10 → 2×2 max-pool, ReLU → 5×5×c2
                        → dense, ``hidden`` ReLU neurons (dropout in training) → dense, 10 softmax outputs.

It offers what the MLP offers (``forward``, ``feedforward``, ``backprop``, ``weights``, ``biases``), so the
trainer, the weights file and the service treat both alike. Its "layers" are the pooled feature maps
flattened, so ``sizes`` is ``[784, 14·14·c1, 5·5·c2, hidden, 10]``.

Images are channels last: a batch of feature maps is (n, height, width, channels). A convolution is one
matrix product: every k×k window of the input, with its channels, is unrolled into a row ("im2col"), so

    z = cols @ K.T + b      cols (n·H'·W', k·k·C_in), K (C_out, k·k·C_in), z (n·H'·W', C_out)

(row j of K is output channel j's kernel, as row j of an MLP's W is neuron j's incoming weights), and its
backward pass is two more products, ∂C/∂K = dz.T @ cols and ∂C/∂cols = dz @ K, with each row of ∂C/∂cols
added back onto the window it came from ("col2im"). The cost is softmax cross-entropy, whose δ at the
outputs is (a − y) / n, as for the MLP.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from model import activations, costs

Array = np.ndarray
KERNEL = 5  # both convolutions are 5×5
SIDE = 28
CONV2_SIDE = SIDE // 2 - KERNEL + 1  # the second convolution's output is 10×10 for a frame


def im2col(x: Array, k: int, pad: int) -> Array:
    """x (n, H, W, C) → cols (n·H'·W', k·k·C): each k×k window of x padded with ``pad`` zeros, as one row
    ordered (row, column, channel), windows in the order of their top-left corner, image by image."""
    n, height, width, channels = x.shape
    padded = x
    if pad:  # np.pad does the same, twenty times slower for one drawing
        padded = np.zeros((n, height + 2 * pad, width + 2 * pad, channels), x.dtype)
        padded[:, pad : pad + height, pad : pad + width] = x
    out_h, out_w = padded.shape[1] - k + 1, padded.shape[2] - k + 1
    s_image, s_row, s_col, s_channel = padded.strides
    # A view whose element [i, r, c, dr, dc, ch] is padded[i, r + dr, c + dc, ch]: windows, read in place.
    windows = as_strided(
        padded, (n, out_h, out_w, k, k, channels), (s_image, s_row, s_col, s_row, s_col, s_channel), writeable=False
    )
    return windows.reshape(n * out_h * out_w, k * k * channels)  # the one copy


def col2im(dcols: Array, k: int, pad: int, shape: tuple[int, ...]) -> Array:
    """The transpose of im2col: dcols (n·H'·W', k·k·C) → dx of ``shape`` (n, H, W, C), overlaps summed."""
    n, height, width, channels = shape
    out_h, out_w = height + 2 * pad - k + 1, width + 2 * pad - k + 1
    dcols = dcols.reshape(n, out_h, out_w, k, k, channels)
    dpadded = np.zeros((n, height + 2 * pad, width + 2 * pad, channels), dcols.dtype)
    for i in range(k):  # each window position's share goes back where it was read: k·k slices
        for j in range(k):
            dpadded[:, i : i + out_h, j : j + out_w, :] += dcols[:, :, :, i, j, :]
    return dpadded[:, pad : pad + height, pad : pad + width, :]


def pool_relu(z: Array) -> Array:
    """2×2 max-pool then ReLU: z (n, H, W, C) → a (n, H/2, W/2, C)."""
    # The larger of each block's top two and of its bottom two, then of those: three element-wise maximums
    # over strided views, several times quicker than a reduction over two axes.
    top = np.maximum(z[:, 0::2, 0::2], z[:, 0::2, 1::2])
    bottom = np.maximum(z[:, 1::2, 0::2], z[:, 1::2, 1::2])
    peak = np.maximum(top, bottom, out=top)
    return np.maximum(peak, 0, out=peak)


def pool_winners(z: Array) -> Array:
    """Which of each 2×2 block's values is its maximum: z (n, H, W, C) → (n, H/2, W/2, C) of 0…3, in the order
    (0,0) (0,1) (1,0) (1,1). Only training needs it (the backward pass), so inference skips it."""
    n, h, w, c = z.shape
    blocks = z.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)
    # One winner per block, the first of equals: on MNIST's blank background all four are often exactly equal,
    # and the maximum's derivative goes to one of them, not to each.
    return blocks.argmax(axis=-1)


def pool_relu_backward(da: Array, a: Array, winner: Array) -> Array:
    """∂C/∂a (n, H/2, W/2, C) → ∂C/∂z (n, H, W, C): each block's gradient goes to its winner, where ReLU passed."""
    n, h2, w2, c = a.shape
    dblocks = np.zeros((n, h2, w2, c, 4), da.dtype)
    np.put_along_axis(dblocks, winner[..., None], (da * (a > 0))[..., None], axis=-1)
    return dblocks.reshape(n, h2, w2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n, 2 * h2, 2 * w2, c)


def weight_shapes(channels: Sequence[int], hidden: int) -> list[tuple[int, int]]:
    """The shapes of K1, K2, W3 and W4 (each layer's biases: its first number) for these channels and hidden size."""
    c1, c2 = channels
    return [(c1, KERNEL * KERNEL), (c2, KERNEL * KERNEL * c1), (hidden, 5 * 5 * c2), (10, hidden)]


class ConvNet:
    """The network in the module docstring. ``weights`` and ``biases`` (in layer order) are its parameters:

    - K1 (c1, 25) and b1 (c1,): the first convolution (one input channel);
    - K2 (c2, 25·c1) and b2 (c2,): the second;
    - W3 (hidden, 25·c2) and b3 (hidden,): the dense hidden layer, reading the 5×5×c2 maps row by row;
    - W4 (10, hidden) and b4 (10,): the outputs.
    """

    kind = "convnet"

    def __init__(
        self,
        channels: Sequence[int] = (16, 32),
        hidden: int = 128,
        dropout: float = 0.0,
        seed: int = 0,
        dtype: type = np.float32,
    ) -> None:
        if len(channels) != 2 or any(int(c) < 1 for c in channels) or int(hidden) < 1:
            raise ValueError(f"need two positive channel counts and a positive hidden size, got {channels}, {hidden}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.channels = [int(c) for c in channels]
        self.hidden = int(hidden)
        self.dropout = float(dropout)
        self.dtype = np.dtype(dtype)
        c1, c2 = self.channels
        self.sizes = [SIDE * SIDE, 14 * 14 * c1, 5 * 5 * c2, self.hidden, 10]
        self.activations = ["relu", "relu", "relu", "softmax"]
        self.cost = "cross_entropy"
        rng = np.random.default_rng(seed)
        # He initialisation, for ReLU: W ~ N(0, 2/fan_in), b = 0.
        shapes = weight_shapes(self.channels, self.hidden)
        self.weights = [(rng.standard_normal(s) * np.sqrt(2.0 / s[1])).astype(self.dtype) for s in shapes]
        self.biases = [np.zeros(s[0], self.dtype) for s in shapes]

    @property
    def parameter_count(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def architecture(self) -> dict[str, object]:
        """What the weights file records to build this network again (``model.weights``)."""
        return {"kind": self.kind, "channels": self.channels, "hidden": self.hidden}

    def incoming(self, layer: int, neuron: int) -> tuple[Array, tuple[int, ...], float]:
        """Neuron ``neuron`` of layer ``layer`` (1 = first), as ``Network.incoming``. A neuron of a pooled feature
        map (flattened as (rows, columns, channels)) reads a window through its channel's kernel: (5, 5) for
        the first layer, (5, 5, c1) for the second; the dense layers' neurons read one row each."""
        weights, biases = self.weights[layer - 1], self.biases[layer - 1]
        if layer > 2:
            return weights[neuron], (weights.shape[1],), float(biases[neuron])
        channel = neuron % len(weights)
        shape = (KERNEL, KERNEL) if layer == 1 else (KERNEL, KERNEL, self.channels[0])
        return weights[channel], shape, float(biases[channel])

    def astype(self, dtype: type) -> ConvNet:
        """Convert the parameters in place (float64 for gradient checks); returns self."""
        self.dtype = np.dtype(dtype)
        self.weights = [w.astype(dtype) for w in self.weights]
        self.biases = [b.astype(dtype) for b in self.biases]
        return self

    # ---- forward pass -------------------------------------------------------

    def feedforward(self, x: Array) -> Array:
        """Output probabilities for a batch: x (n, 784) → (n, 10)."""
        return self.forward(x)[-1]

    def forward(self, x: Array, rng: np.random.Generator | None = None) -> list[Array]:
        """Every layer's activations ``[x, a1, a2, h, out]``, each flattened to (n, sizes[l]).

        With an ``rng`` and ``dropout > 0``, the dense hidden layer's neurons are dropped as in the MLP.
        """
        return self._forward(x, rng, for_backprop=False)[0]

    def feedforward_moved(self, x: Array, moves: Sequence[tuple[int, int]]) -> Array:
        """Output probabilities for x (n, 784) moved by each (rows, columns) of ``moves``, down and right for
        positive numbers, zero-filled: (len(moves)·n, 10), move by move.

        The first convolution reads each moved frame as it reads the frame itself, only displaced, so it is
        computed once, on a grid as many pixels wider each way as the largest move, and each move reads its 28×28
        window of that grid. Windows that start at rows and columns of the same parity pool the same 2×2 cells, so
        their pooled maps, and their second convolutions, are windows of one larger map: computed once for all of
        them (±1 px: up with down, left with right, 320 positions of the second convolution instead of 500). That
        equals moving the frames first only where nothing inked leaves the frame: the caller checks.
        """
        margin = max(abs(step) for move in moves for step in move)
        z1 = self._first_convolution(self._input(x), margin)[1]  # (n, 28 + 2·margin, 28 + 2·margin, c1)
        # A frame moved down by dy holds at row r what the frame holds at r − dy: grid row r − dy + margin.
        corners = [(margin - dy, margin - dx) for dy, dx in moves]  # each window's top-left corner in the grid
        z2 = self._windows_second_convolution(z1, corners)  # one (n, 10, 10, c2) per move
        _, _, out, _ = self._above_second_convolution(np.concatenate(z2), None)
        return out

    def _windows_second_convolution(self, z1: Array, corners: Sequence[tuple[int, int]]) -> list[Array]:
        """The first convolution on a grid z1 (n, g, g, c1) → the second convolution (n, 10, 10, c2) of each 28×28
        window of it whose top-left corner is in ``corners`` (row, column), as if each window were a frame.

        The windows whose corners have the same parities (row and column, each even or odd) are computed together:
        the region they cover then starts and ends on the same parity, so its 2×2 pooling cells are theirs, and each
        window's pooled map and second convolution are windows of the region's, offset by half its corner's offset.
        """
        z2: dict[int, Array] = {}  # by the window's index in corners
        for parity in {(row % 2, col % 2) for row, col in corners}:
            group = [i for i, (row, col) in enumerate(corners) if (row % 2, col % 2) == parity]
            first_row, first_col = min(corners[i][0] for i in group), min(corners[i][1] for i in group)
            end_row, end_col = max(corners[i][0] for i in group) + SIDE, max(corners[i][1] for i in group) + SIDE
            # (n, h, w, c1) with h = (end_row − first_row) / 2 and w = (end_col − first_col) / 2, whole numbers
            region = pool_relu(z1[:, first_row:end_row, first_col:end_col])
            shared = self._second_convolution(region)[1]  # (n, h − 4, w − 4, c2)
            for i in group:
                row, col = (corners[i][0] - first_row) // 2, (corners[i][1] - first_col) // 2  # exact: even offsets
                z2[i] = shared[:, row : row + CONV2_SIDE, col : col + CONV2_SIDE]
        return [z2[i] for i in range(len(corners))]

    def _input(self, x: Array) -> Array:
        a0 = np.asarray(x, dtype=self.dtype)
        if a0.ndim != 2 or a0.shape[1] != SIDE * SIDE:
            raise ValueError(f"input must have shape (n, {SIDE * SIDE}), got {a0.shape}")
        return a0

    def _first_convolution(self, a0: Array, margin: int = 0) -> tuple[Array, Array]:
        """a0 (n, 784) → its im2col rows and the first convolution z (n, g, g, c1) on a grid g = 28 + 2·margin wide,
        centred on the frame (margin 0: the frame's own 28×28, padded to keep its size)."""
        n, grid = len(a0), SIDE + 2 * margin
        k1, b1 = self.weights[0], self.biases[0]
        cols1 = im2col(a0.reshape(n, SIDE, SIDE, 1), KERNEL, pad=2 + margin)  # (n·g·g, 25)
        return cols1, (cols1 @ k1.T + b1).reshape(n, grid, grid, len(k1))

    def _forward(
        self, x: Array, rng: np.random.Generator | None, for_backprop: bool
    ) -> tuple[list[Array], dict[str, Array]]:
        """The layers and, ``for_backprop``, what backprop needs: im2col rows, pooling winners, dropout mask."""
        a0 = self._input(x)
        cols1, z1 = self._first_convolution(a0)
        layers, cache = self._above_first_convolution(z1, rng, for_backprop)
        if for_backprop:
            cache["cols1"] = cols1
        return [a0, *layers], cache

    def _above_first_convolution(
        self, z1: Array, rng: np.random.Generator | None, for_backprop: bool
    ) -> tuple[list[Array], dict[str, Array]]:
        """The first convolution's output z1 (n, 28, 28, c1) → the layers ``[a1, a2, h, out]`` above it, flattened,
        and, ``for_backprop``, what backprop needs (as ``_forward``)."""
        n = len(z1)
        a1 = pool_relu(z1)  # (n, 14, 14, c1)
        cols2, z2 = self._second_convolution(a1)  # (n·10·10, 25·c1), (n, 10, 10, c2)
        a2, h, out, mask = self._above_second_convolution(z2, rng)
        cache = {}
        if for_backprop:
            cache = {"a1": a1, "winner1": pool_winners(z1), "cols2": cols2, "a2": a2, "winner2": pool_winners(z2),
                     "mask": mask}
        return [a1.reshape(n, self.sizes[1]), a2.reshape(n, self.sizes[2]), h, out], cache

    def _second_convolution(self, a1: Array) -> tuple[Array, Array]:
        """Pooled maps a1 (n, H, W, c1) → the im2col rows and the second convolution z2 (n, H − 4, W − 4, c2),
        unpadded (H = W = 14 for a frame)."""
        n, height, width, _ = a1.shape
        k2, b2 = self.weights[1], self.biases[1]
        cols2 = im2col(a1, KERNEL, pad=0)  # (n·(H − 4)·(W − 4), 25·c1)
        return cols2, (cols2 @ k2.T + b2).reshape(n, height - KERNEL + 1, width - KERNEL + 1, len(k2))

    def _above_second_convolution(
        self, z2: Array, rng: np.random.Generator | None
    ) -> tuple[Array, Array, Array, Array | None]:
        """z2 (n, 10, 10, c2) → the pooled maps a2 (n, 5, 5, c2), the hidden layer h (n, hidden), the outputs
        (n, 10), and the dropout mask (n, hidden) when ``rng`` drops neurons (else None)."""
        n = len(z2)
        (_, _, w3, w4), (_, _, b3, b4) = self.weights, self.biases
        a2 = pool_relu(z2)  # (n, 5, 5, c2)
        flat = a2.reshape(n, self.sizes[2])  # not (n, -1), which an empty batch leaves undefined
        h = activations.relu(flat @ w3.T + b3)  # (n, hidden)
        mask = None
        if rng is not None and self.dropout > 0:
            keep = 1.0 - self.dropout
            mask = (rng.random(h.shape, dtype=np.float32) < keep).astype(self.dtype) / self.dtype.type(keep)
            h = h * mask
        out = activations.softmax(h @ w4.T + b4)  # (n, 10)
        return a2, h, out, mask

    # ---- backward pass ------------------------------------------------------

    def backprop(
        self, x: Array, y: Array, rng: np.random.Generator | None = None
    ) -> tuple[float, list[Array], list[Array]]:
        """Cost and its gradient for a batch, as ``Network.backprop``: x (n, 784), y (n, 10) one-hot.

        Returns ``(C, nabla_w, nabla_b)`` shaped like ``weights`` and ``biases``. From the outputs down:

            δ4 = (a − y) / n                         dense:  ∂C/∂W4 = δ4.T h,      ∂C/∂b4 = Σ δ4
            δ3 = (δ4 W4) ⊙ relu'(h) ⊙ mask          dense:  ∂C/∂W3 = δ3.T a2,     ∂C/∂b3 = Σ δ3
            ∂C/∂a2 = δ3 W3 → through pool and ReLU   conv:   ∂C/∂K2 = δ2.T cols2,  ∂C/∂b2 = Σ δ2
            ∂C/∂a1 = col2im(δ2 K2) → pool and ReLU   conv:   ∂C/∂K1 = δ1.T cols1,  ∂C/∂b1 = Σ δ1
        """
        layers, cache = self._forward(x, rng, for_backprop=True)
        a0, _, flat, h, out = layers
        y = np.asarray(y, dtype=self.dtype)
        cost = costs.value(self.cost, "softmax", out, y)
        (k1, k2, w3, w4) = self.weights
        delta4 = costs.output_delta(self.cost, "softmax", out, y)  # (n, 10)
        delta3 = activations.backward("relu", h, delta4 @ w4)  # (n, hidden); h is 0 where dropped
        if cache["mask"] is not None:
            delta3 = delta3 * cache["mask"]
        da2 = (delta3 @ w3).reshape(cache["a2"].shape)  # (n, 5, 5, c2)
        delta2 = pool_relu_backward(da2, cache["a2"], cache["winner2"])  # (n, 10, 10, c2)
        delta2 = delta2.reshape(-1, delta2.shape[-1])  # (n·10·10, c2), rows as cols2's
        da1 = col2im(delta2 @ k2, KERNEL, 0, cache["a1"].shape)  # (n, 14, 14, c1)
        delta1 = pool_relu_backward(da1, cache["a1"], cache["winner1"])  # (n, 28, 28, c1)
        delta1 = delta1.reshape(-1, delta1.shape[-1])  # (n·28·28, c1)
        nabla_w = [delta1.T @ cache["cols1"], delta2.T @ cache["cols2"], delta3.T @ flat, delta4.T @ h]
        nabla_b = [delta1.sum(axis=0), delta2.sum(axis=0), delta3.sum(axis=0), delta4.sum(axis=0)]
        return cost, nabla_w, nabla_b
