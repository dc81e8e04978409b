"""Training end to end on small data: the optimisers learn, runs are deterministic."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from model import mnist, optim
from model import train as train_module
from model.augment import augment
from model.train import PRESETS, Config, build_network, train


def blobs(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data shaped like MNIST vectors, for tests of the training loop's mechanics."""
    rng = np.random.default_rng(seed)
    centres = rng.random((10, 784)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    x = np.clip(centres[labels] + rng.normal(0, 0.3, (n, 784)), 0, 1).astype(np.float32)
    return x, labels.astype(np.uint8)


SMALL = Config(sizes=[784, 16, 16, 10], epochs=2, batch_size=16, lr=0.5, holdout=0)


@pytest.fixture(scope="module")
def mnist_slice(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    """The first 3,000 MNIST training images (2,500 to train on, 500 to check)."""
    data = mnist.load(mnist_dir)
    return mnist.as_vectors(data.train_images[:3000]), data.train_labels[:3000]


@pytest.mark.parametrize(
    "changes",
    [
        # The classic recipe (sigmoid, quadratic, momentum) and plain SGD: slow starters, more epochs.
        {"epochs": 15},
        {"epochs": 15, "optimizer": "sgd", "lr": 3.0, "batch_size": 10},
        {"hidden_activation": "relu", "output_activation": "softmax", "cost": "cross_entropy", "init": "he",
         "optimizer": "adam", "lr": 2e-3, "dropout": 0.1, "weight_decay": 0.01, "schedule": "step"},
        {"hidden_activation": "tanh", "cost": "cross_entropy", "lr": 0.05, "augment": True},
    ],
)
def test_training_on_a_slice_lowers_the_loss_and_beats_chance(mnist_slice, changes: dict) -> None:
    x, labels = mnist_slice
    config = dataclasses.replace(SMALL, **{"epochs": 5, **changes})
    net, history, interrupted = train(config, x[:2500], labels[:2500], x[2500:], labels[2500:], progress=False)
    assert not interrupted and len(history) == config.epochs
    assert history[-1]["loss"] < history[0]["loss"] * 0.8
    assert history[-1]["val_accuracy"] > 0.6  # chance is 0.1


def test_training_is_deterministic_for_a_seed() -> None:
    x, labels = blobs(200)
    config = dataclasses.replace(SMALL, epochs=2, augment=True)
    first, _, _ = train(config, x, labels, progress=False)
    second, _, _ = train(config, x, labels, progress=False)
    other, _, _ = train(dataclasses.replace(config, seed=1), x, labels, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights))
    assert not np.array_equal(first.weights[0], other.weights[0])


AUGMENTED = dataclasses.replace(SMALL, augment=True, batch_size=train_module.AHEAD_MIN_BATCH)  # big enough batches


def test_augmenting_ahead_in_a_second_thread_changes_nothing_but_the_time(monkeypatch: pytest.MonkeyPatch) -> None:
    made_in: list[str] = []  # the thread that augmented each batch

    def recording_augment(*args: object) -> np.ndarray:
        made_in.append(threading.current_thread().name)
        return augment(*args)

    monkeypatch.setattr(train_module, "augment", recording_augment)
    x, labels = blobs(200)
    config = dataclasses.replace(AUGMENTED, epochs=2, dropout=0.2)  # both draw random numbers
    alone, _, _ = train(config, x, labels, progress=False, augment_ahead=False)
    assert set(made_in) == {threading.main_thread().name}
    made_in.clear()
    ahead, _, _ = train(config, x, labels, progress=False)
    assert len(made_in) == 8 and threading.main_thread().name not in made_in  # 2 epochs × 4 batches, all ahead
    assert all(np.array_equal(a, b) for a, b in zip(ahead.weights, alone.weights))


def test_ctrl_c_while_the_helper_augments_leaves_no_thread_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    original_step = optim.Momentum.step

    def interrupting_step(self, grads, lr):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 6:  # in epoch 2, while the helper augments the next batch
            raise KeyboardInterrupt
        return original_step(self, grads, lr)

    monkeypatch.setattr(optim.Momentum, "step", interrupting_step)
    before = threading.active_count()
    x, labels = blobs(200)
    _, history, interrupted = train(dataclasses.replace(AUGMENTED, epochs=3), x, labels, progress=False)
    assert interrupted and len(history) == 1
    assert threading.active_count() == before


def test_blas_threads_leave_a_core_to_the_augmentation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(train_module.blas, "usable_cores", lambda: 4)
    assert train_module.default_threads(AUGMENTED) == 3
    assert train_module.default_threads(dataclasses.replace(AUGMENTED, augment=False)) is None  # OpenBLAS's choice
    assert train_module.default_threads(dataclasses.replace(AUGMENTED, batch_size=16)) is None  # no helper thread
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")
    assert train_module.default_threads(AUGMENTED) == 3  # an empty variable says nothing (OpenBLAS ignores it too)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert train_module.default_threads(AUGMENTED) is None  # the environment says


def test_ctrl_c_keeps_the_last_completed_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    x, labels = blobs(200)
    config = dataclasses.replace(SMALL, epochs=3, optimizer="sgd")
    steps_per_epoch = -(-200 // config.batch_size)
    built: list = []
    after_epoch: list = []
    monkeypatch.setattr(train_module, "build_network", lambda c: built.append(build_network(c)) or built[-1])

    # Ctrl-C arrives as a KeyboardInterrupt in the middle of epoch 2, after a few updates.
    original_step = optim.SGD.step
    calls = {"n": 0}

    def interrupting_step(self, grads, lr):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == steps_per_epoch + 3:
            raise KeyboardInterrupt
        return original_step(self, grads, lr)

    monkeypatch.setattr(optim.SGD, "step", interrupting_step)
    def snapshot(record: dict) -> None:
        after_epoch.append([w.copy() for w in built[0].weights])

    net, history, interrupted = train(config, x, labels, progress=False, on_epoch=snapshot)
    assert interrupted and len(history) == 1
    assert calls["n"] == steps_per_epoch + 3  # two updates of epoch 2 happened ...
    assert all(np.array_equal(w, good) for w, good in zip(net.weights, after_epoch[0]))  # ... and were undone


@pytest.mark.parametrize("name", ["constant", "step", "cosine"])
def test_learning_rate_schedules(name: str) -> None:
    rates = [optim.learning_rate(name, 1.0, p / 10) for p in range(11)]
    assert rates[0] == 1.0
    assert all(a >= b for a, b in zip(rates, rates[1:]))  # never increases
    if name == "constant":
        assert rates[-1] == 1.0
    else:
        assert rates[-1] < 0.01


def test_warmup_ramps_up() -> None:
    assert optim.learning_rate("cosine", 1.0, 0.05, warmup=0.1) == pytest.approx(0.5)


def test_presets_keep_the_classic_network() -> None:
    classic = PRESETS["classic"]
    assert classic.sizes == [784, 16, 16, 10]
    assert (classic.hidden_activation, classic.output_activation, classic.cost) == ("sigmoid", "sigmoid", "quadratic")
    assert classic.optimizer in ("sgd", "momentum")


def test_one_hot() -> None:
    assert mnist.one_hot(np.array([2, 0])).tolist()[0] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
