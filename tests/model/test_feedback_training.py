"""Training from corrections: a few hundred crossed sevens teach a small network a style it misread.

The whole loop runs through the command lines, on a slice of MNIST written as IDX files (so a run takes
seconds): train without the corrections, store 300 crossed sevens labelled 7 in a feedback database as the
service would, train again with ``--extra-data``, and read *fresh* crossed sevens — drawn with another seed,
never trained on — with both models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import evaluate, mnist, train
from model.weights import load
from tests.model.feedback_files import write_feedback
from tests.model.handwriting import crossed_sevens
from tests.model.test_mnist import idx_bytes

# A small, quick network: 784-64-10 with Adam, 15 epochs over 5,000 MNIST digits.
SMALL = ["--preset", "classic", "--sizes", "784,64,10", "--hidden-activation", "relu", "--output-activation",
         "softmax", "--cost", "cross_entropy", "--init", "he", "--optimizer", "adam", "--lr", "2e-3",
         "--weight-decay", "0", "--epochs", "15", "--batch-size", "32", "--no-augment", "--holdout", "500",
         "--seed", "0", "--no-progress"]


@pytest.fixture(scope="module")
def mnist_slice(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5,000 training and 2,000 test digits of the real MNIST, as a folder of IDX files."""
    data = mnist.load(mnist_dir)
    folder = tmp_path_factory.mktemp("mnist-slice")
    for name, array in (("train-images-idx3-ubyte", data.train_images[:5000]),
                        ("train-labels-idx1-ubyte", data.train_labels[:5000]),
                        ("t10k-images-idx3-ubyte", data.test_images[:2000]),
                        ("t10k-labels-idx1-ubyte", data.test_labels[:2000])):
        (folder / name).write_bytes(idx_bytes(array))
    return folder


def test_corrections_teach_a_distinctive_style(mnist_slice: Path, tmp_path: Path, capsys) -> None:
    fresh = crossed_sevens(200, np.random.default_rng(2))  # the person's next drawings
    before_path, after_path = tmp_path / "before.npz", tmp_path / "after.npz"
    assert train.main([*SMALL, "--data-dir", str(mnist_slice), "--output", str(before_path)]) == 0
    before = load(before_path)
    read_before = evaluate.predict(before.network, fresh)
    assert (read_before == 7).mean() < 0.3  # the style is misread (about 5%: mostly as a 3)

    # 300 corrections, stored as the service stores them: "that was a 7", against what the network had shown.
    drawings = crossed_sevens(300, np.random.default_rng(1))
    shown = evaluate.predict(before.network, drawings).tolist()
    database = write_feedback(tmp_path / "feedback.sqlite3", drawings, [7] * 300, shown, ["small"] * 300)
    args = [*SMALL, "--data-dir", str(mnist_slice), "--output", str(after_path), "--extra-data", str(database)]
    assert train.main(args) == 0
    assert "plus 300 collected drawings × 5" in capsys.readouterr().out
    after = load(after_path)
    assert (evaluate.predict(after.network, fresh) == 7).mean() > 0.9  # read right now

    # MNIST does not suffer: the same test accuracy within a point, and its real 3s and 7s are still read.
    assert after.metadata["test_accuracy"] > before.metadata["test_accuracy"] - 0.01
    for digit in (3, 7):
        assert after.metadata["per_digit_accuracy"][digit] > before.metadata["per_digit_accuracy"][digit] - 0.03
    # The held-out slice is MNIST's alone, as without corrections.
    assert after.metadata["history"][-1]["val_accuracy"] > before.metadata["history"][-1]["val_accuracy"] - 0.02
    extra = after.metadata["extra_data"]
    assert extra["drawings"] == 300 and extra["weight"] == 5 and extra["per_label"][7] == 300
    (source,) = extra["sources"]
    assert source["path"] == str(database.resolve()) and source["drawings"] == 300 and source["last_id"] == 300
    assert len(source["sha256"]) == 64
    assert extra["accuracy"] > 0.95 and before.metadata["extra_data"] is None

    # model.evaluate --feedback reads the fresh drawings from a database too.
    fresh_db = write_feedback(tmp_path / "fresh.sqlite3", fresh, [7] * len(fresh))
    capsys.readouterr()
    assert evaluate.main([str(before_path), str(after_path), "--feedback", str(fresh_db)]) == 0
    printed = capsys.readouterr().out
    accuracies = [float(line.split()[-1].rstrip("%")) for line in printed.splitlines() if "collected drawings" in line]
    assert len(accuracies) == 2 and accuracies[0] < 30 < 90 < accuracies[1], printed
