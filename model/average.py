"""Several networks answering together: the mean of their output probabilities.

Networks of different kinds make different mistakes, so their average makes fewer than either (the
default MLP with a convnet: README, "The default: the MLP averaged with a network that sees strokes").
An ``Average`` offers what a network offers for reading (``forward``, ``feedforward``), so the
evaluation, the weights file and the service need not know it is several: its layers are the *first*
network's, the one the page shows, with the averaged outputs as the last layer.

A network with a ``shift`` of 1 or more also reads the frame moved by that many pixels up, down, left and
right (five views in all), and its output is the mean over the views. The preprocessing centres a drawing by
whole pixels, and the convnet, whose max-pooling works in 2×2 cells, answers a little differently for each
position: the mean over five views is steadier than any one of them. The default model's convnet reads them
(since 2026-12-02: README, "Five views adopted"), for 6–22% more CPU per prediction in the service.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.convnet import ConvNet
from model.network import Network

Array = np.ndarray
SIDE = 28  # the input frame is SIDE × SIDE
MAX_SHIFT = 3  # the frame leaves 4 px around a 20-px digit, less when its centre of mass is off its box's centre
VIEWS = 5  # with a shift: the frame as it is, and moved up, down, left and right
# The views' moves (rows, columns; down and right positive), in the order ``views`` stacks them.
MOVES = {s: [(0, 0), (-s, 0), (s, 0), (0, -s), (0, s)] for s in range(1, MAX_SHIFT + 1)}


class Average:
    """The networks (each with 784 inputs and 10 softmax outputs), the first one shown."""

    kind = "average"

    def __init__(self, networks: Sequence[Network | ConvNet], shifts: Sequence[int] | None = None) -> None:
        """``shifts[i]``: how far network i also reads each frame moved (0, the default: the frame as it is)."""
        if len(networks) < 2:
            raise ValueError(f"an average needs two or more networks, got {len(networks)}")
        shifts = list(shifts) if shifts is not None else [0] * len(networks)
        if len(shifts) != len(networks):
            raise ValueError(f"{len(networks)} networks but {len(shifts)} shifts: give one shift per network")
        if not all(isinstance(shift, int) and not isinstance(shift, bool) for shift in shifts):
            raise ValueError(f"shifts must be whole numbers of pixels, got {shifts}")
        if not all(0 <= shift <= MAX_SHIFT for shift in shifts):
            raise ValueError(f"each shift must be 0 to {MAX_SHIFT} pixels, got {shifts}")
        for i, net in enumerate(networks, start=1):
            # Only probabilities average into probabilities: sigmoid outputs need not sum to 1.
            if net.sizes[0] != 784 or net.sizes[-1] != 10 or net.activations[-1] != "softmax":
                raise ValueError(
                    f"network {i} ({net.kind}, sizes {net.sizes}, outputs {net.activations[-1]}) cannot be "
                    "averaged: every network needs 784 inputs and 10 softmax outputs"
                )
        self.networks = list(networks)
        self.shifts = shifts
        shown = self.networks[0]
        self.sizes, self.activations, self.cost = shown.sizes, shown.activations, shown.cost
        self.incoming = shown.incoming  # a neuron's weights: the shown network's

    @property
    def parameter_count(self) -> int:
        return sum(net.parameter_count for net in self.networks)

    def feedforward(self, x: Array) -> Array:
        """Mean output probabilities: x (n, 784) → (n, 10)."""
        return self.forward(x)[-1]

    def forward(self, x: Array) -> list[Array]:
        """The first network's layers ``[x, a1, …, out]`` for x (n, 784) as given, with ``out`` (n, 10) the
        mean of every network's output (each the mean over its views of x)."""
        n = len(x)
        # Each network reads all of its views in one pass: (v·n, 784), x itself first.
        layers = self.networks[0].forward(views(x, self.shifts[0]))
        outputs = [layers[-1], *(view_outputs(net, x, s) for net, s in zip(self.networks[1:], self.shifts[1:]))]
        per_network = [mean_over_views(out, s) for out, s in zip(outputs, self.shifts)]
        mean = np.mean(per_network, axis=0, dtype=np.float32)  # (n, 10)
        return [*(layer[:n] for layer in layers[:-1]), mean]


def view_outputs(network: Network | ConvNet, x: Array, shift: int) -> Array:
    """A network's outputs (v·n, 10) for ``views(x, shift)``.

    A convnet shares its first convolution between the views, and its second between views that pool alike
    (``ConvNet.feedforward_moved``), when nothing inked moves out of the frame — the preprocessing leaves a margin
    of about 4 px; 159 of the canvas set's 16,446 drawings come within 1 px of an edge; the choice is per batch —
    and answers the same (to the last bit on the canvas set and MNIST's test set). On 2026-12-02 (medians of 5,000
    runs), one drawing's five views took 0.50 ms with the first convolution shared, 0.65 ms without, and one view
    0.22 ms. On 2026-12-03 (another machine, old and new code alternating), sharing the second as well: 0.33
    instead of 0.38 ms for one drawing, 0.27–0.29 instead of 0.45–0.47 ms per drawing in groups of 4 to 32.
    """
    if shift and isinstance(network, ConvNet) and not border(x, shift).any():
        return network.feedforward_moved(x, MOVES[shift])
    return network.feedforward(views(x, shift))


def border(x: Array, width: int) -> Array:
    """x (n, 784) → (n, 4·width·(28 − width)) the frames' pixels within ``width`` of an edge: what views drop."""
    frames = x.reshape(-1, SIDE, SIDE)
    inner = np.ones((SIDE, SIDE), dtype=bool)
    inner[width : SIDE - width, width : SIDE - width] = False  # not [width:-width]: that is empty for width 0
    return frames[:, inner]


def mean_over_views(outputs: Array, shift: int) -> Array:
    """A network's outputs (v·n, 10) for ``views(x, shift)`` → (n, 10), each drawing's mean over its views."""
    count = VIEWS if shift else 1
    return outputs.reshape(count, len(outputs) // count, 10).mean(axis=0)


def views(x: Array, shift: int) -> Array:
    """x (n, 784) → (v·n, 784): x, then (with shift > 0) x moved by ``shift`` pixels up, down, left, right.

    What moves past the frame's edge is dropped and the frame is filled with background (0).
    """
    if shift == 0:
        return x
    frames = x.reshape(-1, SIDE, SIDE)
    moved = np.zeros((VIEWS, *frames.shape), dtype=x.dtype)  # (5, n, 28, 28)
    for view, (dy, dx) in zip(moved, MOVES[shift]):  # as it is, up, down, left, right
        view[:, _kept(dy), _kept(dx)] = frames[:, _kept(-dy), _kept(-dx)]
    return moved.reshape(-1, SIDE * SIDE)


def _kept(step: int) -> slice:
    """Along one axis, where a frame moved by ``step`` pixels (positive: down or right) holds pixels."""
    return slice(max(step, 0), SIDE + min(step, 0))
