"""Gradient-descent optimisers and learning-rate schedules.

An optimiser updates a list of parameter arrays in place from a list of
gradients of the same shapes. ``weight_decay`` is L2 regularisation: for SGD
and momentum it adds λ·w to the gradient of every *weight* matrix (biases are
not decayed); for Adam it is applied decoupled from the adaptive step
(AdamW, Loshchilov & Hutter 2019), which is what L2 is meant to do there.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "step", "cosine")


class Optimizer:
    def __init__(self, params: list[Array], decay_mask: list[bool], weight_decay: float = 0.0) -> None:
        self.params = params
        self.decay_mask = decay_mask  # True for weight matrices, False for biases
        self.weight_decay = weight_decay

    def step(self, grads: list[Array], lr: float) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Array]:
        """Arrays to save for resuming training (none for plain SGD)."""
        return {}


class SGD(Optimizer):
    """w ← w − η (∇C + λw)."""

    def step(self, grads: list[Array], lr: float) -> None:
        for p, g, decay in zip(self.params, grads, self.decay_mask):
            if decay and self.weight_decay:
                g = g + self.weight_decay * p
            p -= lr * g


class Momentum(Optimizer):
    """v ← μv − η(∇C + λw);  w ← w + v  (heavy-ball momentum)."""

    def __init__(self, params, decay_mask, weight_decay=0.0, momentum: float = 0.9) -> None:
        super().__init__(params, decay_mask, weight_decay)
        self.momentum = momentum
        self.velocity = [np.zeros_like(p) for p in params]

    def step(self, grads: list[Array], lr: float) -> None:
        for p, g, v, decay in zip(self.params, grads, self.velocity, self.decay_mask):
            if decay and self.weight_decay:
                g = g + self.weight_decay * p
            v *= self.momentum
            v -= lr * g
            p += v


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with decoupled weight decay.

    m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  w ← w − η (m̂ / (√v̂ + ε) + λw)
    """

    # Elements updated at a time: the five arrays of a chunk (1.25 MB) stay in the L2 cache while all
    # the operations below run over them. Over whole matrices each operation would stream them from
    # memory again, and Adam took about a third of a training step (docs/performance.md).
    CHUNK = 1 << 16

    def __init__(self, params, decay_mask, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8) -> None:
        super().__init__(params, decay_mask, weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.scratch = np.empty(min(self.CHUNK, max(p.size for p in params)), dtype=params[0].dtype)
        self.t = 0

    def step(self, grads: list[Array], lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        # Fold the bias corrections of m̂ and v̂ into one step size.
        step_size = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        eps = self.eps * math.sqrt(1 - b2**self.t)
        shrink = 1 - lr * self.weight_decay
        # In-place arithmetic with one scratch buffer, chunk by chunk: no temporaries on the hot
        # path (the update runs over every weight at every step).
        for arrays, decay in zip(zip(self.params, grads, self.m, self.v), self.decay_mask):
            flat_p, flat_g, flat_m, flat_v = (_flat(a) for a in arrays)
            for start in range(0, flat_p.size, self.CHUNK):
                chunk = slice(start, start + self.CHUNK)
                p, g, m, v = flat_p[chunk], flat_g[chunk], flat_m[chunk], flat_v[chunk]
                buf = self.scratch[: p.size]
                m *= b1
                m += np.multiply(g, 1 - b1, out=buf)
                v *= b2
                v += np.multiply(np.square(g, out=buf), 1 - b2, out=buf)
                if decay and self.weight_decay:
                    p *= shrink
                np.sqrt(v, out=buf)
                buf += eps
                np.divide(m, buf, out=buf)
                buf *= step_size
                p -= buf


def _flat(a: Array) -> Array:
    """``a`` as one flat view (parameters, gradients and optimiser state are contiguous arrays)."""
    flat = a.reshape(-1)
    if not np.may_share_memory(flat, a):
        raise ValueError("the optimiser needs contiguous arrays: it updates them in place")
    return flat


def make_optimizer(name: str, params: list[Array], decay_mask: list[bool], weight_decay: float,
                   momentum: float = 0.9) -> Optimizer:
    if name == "sgd":
        return SGD(params, decay_mask, weight_decay)
    if name == "momentum":
        return Momentum(params, decay_mask, weight_decay, momentum)
    if name == "adam":
        return Adam(params, decay_mask, weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def learning_rate(schedule: str, base_lr: float, progress: float, *, step_every: float = 0.3,
                  step_gamma: float = 0.1, warmup: float = 0.0) -> float:
    """The learning rate at ``progress`` ∈ [0, 1] of the whole run.

    - constant: η.
    - step: η·γ^k, k = the number of ``step_every`` fractions of the run already done.
    - cosine: η·½(1 + cos(π·progress)), after an optional linear warm-up over ``warmup``.
    """
    if warmup > 0 and progress < warmup:
        return base_lr * (progress / warmup)
    if schedule == "constant":
        return base_lr
    if schedule == "step":
        return base_lr * step_gamma ** math.floor(progress / step_every + 1e-9)
    if schedule == "cosine":
        p = (progress - warmup) / (1 - warmup) if warmup > 0 else progress
        return base_lr * 0.5 * (1 + math.cos(math.pi * min(max(p, 0.0), 1.0)))
    raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
