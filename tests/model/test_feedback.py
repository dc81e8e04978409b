"""model.feedback: the reader of the service's feedback database, its pixel format and its command line."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from model import evaluate, extra_data, feedback, train
from model.feedback import decode_pixels, encode_pixels, load
from tests.model.feedback_files import write_feedback
from tests.model.test_cli import fake_mnist  # noqa: F401  (a fixture)


def drawings(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 784)).astype(np.float32)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Six drawings: two by each model, two where the client named neither model nor prediction."""
    return write_feedback(
        tmp_path / "feedback.sqlite3",
        drawings(6),
        labels=[7, 7, 1, 4, 0, 9],
        predicted=[7, 3, 1, 9, None, None],
        models=["default", "default", "classic", "classic", None, None],
    )


def test_pixels_round_trip_exactly_as_little_endian_float32() -> None:
    vector = drawings(1)[0]
    blob = encode_pixels(vector)
    assert len(blob) == 3136 and blob[:4] == np.float32(vector[0]).tobytes() and np.little_endian
    assert np.array_equal(decode_pixels(blob), vector)
    assert np.array_equal(decode_pixels(encode_pixels(vector.reshape(28, 28))), vector)


@pytest.mark.parametrize(
    ("vector", "message"),
    [(np.zeros(783), "784 pixels"), (np.full(784, 1.5), r"in \[0, 1\]"), (np.full(784, np.nan), "finite")],
)
def test_encode_refuses_what_is_not_a_drawing(vector: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_pixels(vector)


def test_decode_refuses_a_blob_of_the_wrong_size_or_range() -> None:
    with pytest.raises(ValueError, match="3136 bytes"):
        decode_pixels(b"\x00" * 3135)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        decode_pixels(np.full(784, -1, dtype="<f4").tobytes())


def test_load_gives_arrays_in_id_order(database: Path) -> None:
    data = load(database)
    assert len(data) == 6 and data.x.shape == (6, 784) and data.x.dtype == np.float32
    assert np.array_equal(data.x, drawings(6))
    assert data.labels.tolist() == [7, 7, 1, 4, 0, 9] and data.labels.dtype == np.int64
    assert data.predicted.tolist() == [7, 3, 1, 9, -1, -1]
    assert data.models == ["default", "default", "classic", "classic", None, None]
    assert data.ids.tolist() == [1, 2, 3, 4, 5, 6] and data.created_at[0].startswith("2026-11-27T23:00:00")
    assert data.accuracy_by_model() == {"classic": (2, 1), "default": (2, 1)}
    assert data.confusion()[7].tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0] and data.confusion().sum() == 4


def test_load_does_not_write_to_the_database(database: Path) -> None:
    before = database.read_bytes()
    load(database)
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.iterdir()) == ["feedback.sqlite3"]


def test_export_round_trip(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out" / "collected.npz"
    assert feedback.main(["export", str(database), str(out)]) == 0
    assert capsys.readouterr().out == f"wrote 6 drawings to {out}\n"
    original = load(database)
    with np.load(out, allow_pickle=False) as npz:  # plain arrays only: no pickle needed to read any of them
        arrays = {key: npz[key] for key in npz.files}
    assert sorted(arrays) == ["created_at", "ids", "labels", "models", "predicted", "x"]
    assert np.array_equal(arrays["x"], original.x) and arrays["x"].dtype == np.float32
    assert arrays["labels"].tolist() == original.labels.tolist()
    assert arrays["predicted"].tolist() == original.predicted.tolist()
    assert arrays["ids"].tolist() == original.ids.tolist()
    assert arrays["created_at"].tolist() == original.created_at and arrays["created_at"].dtype.kind == "U"
    assert arrays["models"].tolist() == ["default", "default", "classic", "classic", "", ""]
    again = load(out)  # an export reads back as the same set
    assert np.array_equal(again.x, original.x) and again.models == original.models
    assert again.predicted.tolist() == original.predicted.tolist() and again.created_at == original.created_at


def test_export_of_an_empty_database(tmp_path: Path) -> None:
    empty = write_feedback(tmp_path / "empty.sqlite3", np.zeros((0, 784)), [])
    assert feedback.main(["export", str(empty), str(tmp_path / "e.npz")]) == 0
    assert load(tmp_path / "e.npz").x.shape == (0, 784)


def test_stats_prints_totals_accuracy_and_confusion(database: Path, capsys: pytest.CaptureFixture) -> None:
    assert feedback.main(["stats", str(database)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{database}: 6 drawings"
    assert "  0: 1  1: 1  2: 0  3: 0  4: 1  5: 0  6: 0  7: 2  8: 0  9: 1" in lines
    assert "  classic: 50.0% of 2" in lines and "  default: 50.0% of 2" in lines
    assert "  (2 without a prediction or a model)" in lines
    row_seven = next(line for line in lines if line.startswith("  7  "))
    assert row_seven.split()[1:] == ["0", "0", "0", "1", "0", "0", "0", "1", "0", "0"]


def schema_v2(path: Path) -> Path:
    write_feedback(path, drawings(1), [3], version=2)
    return path


def a_different_database(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    db.close()
    return path


def one_drawing_then(statement: str) -> Callable[[Path], Path]:
    """A database of one drawing, then ``statement`` run on it."""

    def make(path: Path) -> Path:
        write_feedback(path, drawings(1), [3])
        with sqlite3.connect(path) as db:
            db.execute(statement)
        db.close()
        return path

    return make


def short_pixels(path: Path) -> Path:
    write_feedback(path, drawings(2), [3, 4])
    with sqlite3.connect(path) as db:
        db.execute("UPDATE feedback SET pixels = x'00' WHERE id = 2")
    db.close()
    return path


def truncated(path: Path) -> Path:
    write_feedback(path, drawings(50), [3] * 50)
    path.write_bytes(path.read_bytes()[:5000])
    return path


def other_npz(path: Path) -> Path:
    with open(path, "wb") as f:
        np.savez(f, x=np.zeros(3))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: p.write_text("id,label\n1,7\n") and p, "not a feedback database (SQLite) or an exported .npz"),
        (lambda p: p.mkdir() or p, "not a file"),
        (schema_v2, "schema version 2, this code reads version 1"),
        (a_different_database, "no schema_version or feedback table"),
        (one_drawing_then("DELETE FROM schema_version"), "schema_version should hold one integer"),
        # Two equal rows: refused as the service refuses them (app.feedback.store.check_version).
        (
            one_drawing_then("INSERT INTO schema_version (version) VALUES (1)"),
            "schema_version should hold one integer, holds [1, 1]",
        ),
        (short_pixels, "row id 2: pixels must be 3136 bytes"),
        (truncated, "cannot read the feedback database"),
        (other_npz, "not a feedback export: no labels"),
    ],
    ids=[
        "missing", "csv", "folder", "v2", "other-db", "no-version", "two-versions", "short-pixels", "truncated",
        "other-npz",
    ],
)
def test_bad_files_give_one_readable_line_and_exit_2(tmp_path: Path, make, message: str,
                                                     capsys: pytest.CaptureFixture) -> None:
    path = make(tmp_path / "feedback.sqlite3")
    for command in (["stats", str(path)], ["export", str(path), str(tmp_path / "out.npz")]):
        assert feedback.main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}: ") and message in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out.npz").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        feedback.main(["stats"])
    assert exit_.value.code == 2 and "path" in capsys.readouterr().err


def test_train_refuses_a_bad_extra_data_file_before_training(fake_mnist: Path, tmp_path: Path,  # noqa: F811
                                                              capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "nope.sqlite3"
    assert train.main(["--data-dir", str(fake_mnist), "--extra-data", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: {missing.resolve()}: no such file\n"
    assert train.main(["--data-dir", str(fake_mnist), "--extra-weight", "0"]) == 2
    assert "--extra-weight must be a whole number ≥ 1" in capsys.readouterr().err


def test_with_extra_repeats_each_drawing_after_the_mnist_images(database: Path) -> None:
    x, labels = drawings(4, seed=5), np.array([1, 2, 3, 4], dtype=np.uint8)
    collected = load(database)
    x2, labels2 = extra_data.with_extra(x, labels, [collected], weight=3)
    assert x2.shape == (4 + 3 * 6, 784) and np.array_equal(x2[:4], x)
    assert np.array_equal(x2[4:10], collected.x) and np.array_equal(x2[16:], collected.x)
    assert labels2.tolist() == [1, 2, 3, 4] + [7, 7, 1, 4, 0, 9] * 3
    assert extra_data.with_extra(x, labels, [], weight=3)[0] is x


def test_evaluate_on_collected_drawings(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    weights = Path(__file__).resolve().parents[2] / "model" / "weights" / "classic.npz"
    assert evaluate.main([str(weights), "--feedback", str(database)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"classic ({weights}): accuracy on 6 collected drawings ") and first.endswith("%")
    assert evaluate.main([str(weights), "--feedback", str(tmp_path / "none.sqlite3")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'none.sqlite3'}: no such file\n"
    empty = write_feedback(tmp_path / "empty.sqlite3", np.zeros((0, 784)), [])
    assert evaluate.main([str(weights), "--feedback", str(empty)]) == 2
    assert "no drawings collected yet" in capsys.readouterr().err


def test_export_to_a_place_that_cannot_be_written(database: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "collected.npz"
    assert feedback.main(["export", str(database), str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: cannot write (") and err.count("\n") == 1


def test_extra_data_files_are_read_once_and_empty_ones_left_out(database: Path, tmp_path: Path) -> None:
    empty = write_feedback(tmp_path / "empty.sqlite3", np.zeros((0, 784)), [])
    sets = extra_data.load_extra([database, tmp_path / "." / database.name, empty])
    assert [s.source for s in sets] == [database.resolve()] and len(sets[0]) == 6
