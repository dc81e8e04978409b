"""Several networks answering together: the mean of their output probabilities.

Networks of different kinds make different mistakes, so their average makes fewer than either (the
default MLP with a convnet: README, "The default: the MLP averaged with a network that sees strokes").
An ``Average`` offers what a network offers for reading (``forward``, ``feedforward``), so the
evaluation, the weights file and the service need not know it is several: its layers are the *first*
network's, the one the page shows, with the averaged outputs as the last layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from model.convnet import ConvNet
from model.network import Network

Array = np.ndarray


class Average:
    """The networks (each with 784 inputs and 10 softmax outputs), the first one shown."""

    kind = "average"

    def __init__(self, networks: Sequence[Network | ConvNet]) -> None:
        if len(networks) < 2:
            raise ValueError(f"an average needs two or more networks, got {len(networks)}")
        for i, net in enumerate(networks, start=1):
            # Only probabilities average into probabilities: sigmoid outputs need not sum to 1.
            if net.sizes[0] != 784 or net.sizes[-1] != 10 or net.activations[-1] != "softmax":
                raise ValueError(
                    f"network {i} ({net.kind}, sizes {net.sizes}, outputs {net.activations[-1]}) cannot be "
                    "averaged: every network needs 784 inputs and 10 softmax outputs"
                )
        self.networks = list(networks)
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
        """The first network's layers ``[x, a1, …, out]``, with ``out`` (n, 10) the mean of every network's."""
        layers = self.networks[0].forward(x)
        outputs = [layers[-1], *(net.feedforward(x) for net in self.networks[1:])]
        return [*layers[:-1], np.mean(outputs, axis=0, dtype=np.float32)]
