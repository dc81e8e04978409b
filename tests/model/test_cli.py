"""The train and evaluate command lines, on a tiny fake MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import blas, combine, evaluate, train
from model.weights import load
from tests.model.test_mnist import write_dataset


@pytest.fixture
def fake_mnist(tmp_path: Path) -> Path:
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_dataset(folder, n_train=60, n_test=20)
    return folder


def test_train_writes_a_loadable_model(fake_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "w.npz"
    args = ["--preset", "classic", "--epochs", "2", "--holdout", "10", "--data-dir", str(fake_mnist),
            "--output", str(out), "--no-progress", "--sizes", "784,8,10", "--name", "tiny"]
    assert train.main(args) == 0
    printed = capsys.readouterr().out
    assert "epoch   2: loss" in printed and "held-out accuracy" in printed and "test accuracy" in printed
    model = load(out)
    meta = model.metadata
    assert meta["name"] == "tiny" and meta["sizes"] == [784, 8, 10] and meta["kind"] == "mlp"
    assert "channels" not in meta["training"]  # a convnet's setting
    assert [h["epoch"] for h in meta["history"]] == [1, 2]
    assert len(meta["confusion_matrix"]) == 10 and sum(map(sum, meta["confusion_matrix"])) == 20
    assert meta["training"]["optimizer"] == "momentum" and len(meta["data_sha256"]) == 64
    assert meta["created_at"] and meta["interrupted"] is False


def test_train_writes_a_convnet(fake_mnist: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.npz"
    args = ["--preset", "convnet", "--epochs", "1", "--holdout", "10", "--data-dir", str(fake_mnist),
            "--output", str(out), "--no-progress", "--channels", "2,3", "--hidden", "8"]
    assert train.main(args) == 0
    model = load(out)
    assert model.network.kind == "convnet" and model.network.channels == [2, 3] and model.network.hidden == 8
    assert model.metadata["training"]["kind"] == "convnet" and len(model.metadata["history"]) == 1
    assert "sizes" not in model.metadata["training"] and "cost" not in model.metadata["training"]  # not a convnet's


def test_train_goes_on_from_a_weights_file(fake_mnist: Path, tmp_path: Path) -> None:
    tiny = ["--preset", "classic", "--holdout", "10", "--data-dir", str(fake_mnist), "--no-progress",
            "--sizes", "784,8,10"]
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert train.main([*tiny, "--epochs", "2", "--output", str(first)]) == 0
    # A learning rate too small to move anything: the second run's network is the first's.
    go_on = ["--start-from", str(first), "--output", str(second)]
    assert train.main([*tiny, "--epochs", "1", "--lr", "1e-12", *go_on]) == 0
    before, after = load(first), load(second)
    for p, q in zip([*before.network.weights, *before.network.biases], [*after.network.weights, *after.network.biases]):
        np.testing.assert_allclose(q, p, atol=1e-6)
    started = after.metadata["started_from"]
    assert started["path"] == str(first) and started["name"] == before.metadata["name"]
    assert started["test_accuracy"] == before.metadata["test_accuracy"] and started["training"]["epochs"] == 2
    assert load(first).metadata["started_from"] is None  # a fresh run
    # The same start with the usual rate learns on: the weights move.
    assert train.main([*tiny, "--epochs", "1", *go_on]) == 0
    assert not np.allclose(load(second).network.weights[0], before.network.weights[0], atol=1e-4)


def test_train_starts_from_the_network_of_its_kind_in_an_averaged_model(fake_mnist: Path, tmp_path: Path) -> None:
    mlp, conv, both = tmp_path / "mlp.npz", tmp_path / "conv.npz", tmp_path / "both.npz"
    common = ["--holdout", "10", "--data-dir", str(fake_mnist), "--no-progress", "--epochs", "1"]
    assert train.main(["--preset", "default", "--sizes", "784,8,10", "--output", str(mlp), *common]) == 0
    small_convnet = ["--preset", "convnet", "--channels", "2,3", "--hidden", "8"]
    assert train.main([*small_convnet, "--output", str(conv), *common]) == 0
    assert combine.main([str(mlp), str(conv), "--output", str(both), "--data-dir", str(fake_mnist)]) == 0
    out = tmp_path / "again.npz"
    assert train.main([*small_convnet, "--lr", "1e-12", "--start-from", str(both), "--output", str(out), *common]) == 0
    np.testing.assert_allclose(load(out).network.weights[0], load(conv).network.weights[0], atol=1e-6)


@pytest.mark.parametrize(("preset", "found"), [("default", 2), ("convnet", 0)])
def test_train_refuses_an_average_without_exactly_one_network_of_its_kind(
    fake_mnist: Path, tmp_path: Path, preset: str, found: int, capsys: pytest.CaptureFixture
) -> None:
    """An average of two MLPs has two to start an MLP from, and none to start a convnet from: say so."""
    common = ["--holdout", "10", "--data-dir", str(fake_mnist), "--no-progress", "--epochs", "1"]
    first, second, both = tmp_path / "first.npz", tmp_path / "second.npz", tmp_path / "both.npz"
    for path, seed in ((first, "1"), (second, "2")):
        mlp = ["--preset", "default", "--sizes", "784,8,10", "--seed", seed]
        assert train.main([*mlp, "--output", str(path), *common]) == 0
    assert combine.main([str(first), str(second), "--output", str(both), "--data-dir", str(fake_mnist)]) == 0
    capsys.readouterr()
    out = tmp_path / "out.npz"
    shape = ["--sizes", "784,8,10"] if preset == "default" else ["--channels", "2,3", "--hidden", "8"]
    assert train.main(["--preset", preset, *shape, "--start-from", str(both), "--output", str(out), *common]) == 2
    err = capsys.readouterr().err
    kind = "mlp" if preset == "default" else "convnet"
    assert f"averages {found} networks of kind {kind}; give a file with one" in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(
    ("start", "extra", "message"),
    [
        ("missing.npz", [], "missing.npz: no such file"),
        ("mlp", ["--sizes", "784,9,10"], "cannot start from a mlp of layers [784, 8, 10] (sigmoid, sigmoid; "
                                         "quadratic): this config trains a mlp of layers [784, 9, 10]"),
        ("mlp", ["--preset", "default", "--sizes", "784,8,10"], "(relu, softmax; cross_entropy)"),  # same shapes
        ("mlp", ["--preset", "convnet", "--channels", "2,3"], "cannot start from a mlp"),
    ],
)
def test_train_refuses_a_start_that_does_not_fit(fake_mnist: Path, tmp_path: Path, start: str, extra: list[str],
                                                 message: str, capsys: pytest.CaptureFixture) -> None:
    mlp = tmp_path / "mlp.npz"
    common = ["--holdout", "10", "--data-dir", str(fake_mnist), "--no-progress", "--epochs", "1"]
    assert train.main(["--preset", "classic", "--sizes", "784,8,10", "--output", str(mlp), *common]) == 0
    capsys.readouterr()
    path = mlp if start == "mlp" else tmp_path / start
    out = tmp_path / "out.npz"
    extra = extra if "--preset" in extra else ["--preset", "classic", *extra]
    assert train.main([*extra, "--start-from", str(path), "--output", str(out), *common]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sizes", "784,0,10"], "positive layer sizes"),
        (["--preset", "convnet", "--channels", "16"], "two positive channel counts"),
        (["--preset", "convnet", "--channels", "16,x"], "--channels takes whole numbers separated by commas"),
        (["--preset", "convnet", "--cost", "quadratic", "--sizes", "784,10"],
         "--cost, --sizes: only for an mlp, not the convnet of preset 'convnet'"),
        (["--hidden", "64"], "--hidden: only for a convnet, not the mlp of preset 'default'"),
        (["--lr", "-1"], "must be positive"),
        (["--cost", "cross_entropy", "--output-activation", "relu"], "sigmoid or softmax"),
        (["--threads", "0"], "--threads must be a whole number ≥ 1"),
    ],
)
def test_train_rejects_bad_settings_readably(fake_mnist: Path, extra: list[str], message: str,
                                             capsys: pytest.CaptureFixture) -> None:
    assert train.main(["--data-dir", str(fake_mnist), *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(blas.threads() is None, reason="NumPy's BLAS is not OpenBLAS")
def test_train_sets_the_blas_threads(fake_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    before = blas.threads()
    args = ["--preset", "classic", "--epochs", "1", "--holdout", "10", "--data-dir", str(fake_mnist),
            "--output", str(tmp_path / "w.npz"), "--no-progress", "--sizes", "784,8,10"]
    try:
        for threads in (2, 1):  # whatever the count was, each is set in turn
            assert train.main([*args, "--threads", str(threads)]) == 0
            assert blas.threads() == threads
            assert f"  {threads} BLAS thread{'s' if threads > 1 else ''}\n" in capsys.readouterr().out
    finally:
        blas.threads(before)


def test_train_refuses_to_hold_out_every_image(fake_mnist: Path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(["--data-dir", str(fake_mnist), "--holdout", "60"]) == 2  # the fake set has 60
    assert capsys.readouterr().err == "error: --holdout 60 leaves none of the 60 training images\n"


def test_train_with_missing_data_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert train.main(["--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --data-dir=") and "missing" in err and "Traceback" not in err


def test_evaluate_prints_accuracy_and_confusion(fake_mnist: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "w.npz"
    train.main(["--preset", "classic", "--epochs", "1", "--holdout", "0", "--data-dir", str(fake_mnist),
                "--output", str(out), "--no-progress"])
    capsys.readouterr()
    assert evaluate.main([str(out), "--data-dir", str(fake_mnist)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "per digit" in printed and "confusion matrix" in printed


def test_evaluate_names_a_corrupt_file(fake_mnist: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert evaluate.main([str(bad), "--data-dir", str(fake_mnist)]) == 1
    assert "bad.npz" in capsys.readouterr().err


def test_committed_weights_meet_their_targets(mnist_dir: Path) -> None:
    """The weights in the repository are the ones the README reports."""
    from model import mnist

    data = mnist.load(mnist_dir)
    x = mnist.as_vectors(data.test_images)
    root = Path(__file__).resolve().parents[2] / "model" / "weights"
    for name, target in (("classic", 0.95), ("default", 0.992)):
        model = load(root / f"{name}.npz")
        accuracy = evaluate.evaluate(model.network, x, data.test_labels).accuracy
        assert accuracy >= target, f"{name}: {accuracy:.4f} < {target}"
        assert accuracy == pytest.approx(model.metadata["test_accuracy"], abs=1e-4)
