"""POST /api/feedback and GET /api/feedback/stats on both stores: SQLite, and PostgreSQL where configured.

Every test here runs once per backend (the ``feedback_settings`` fixture), each on a new, empty store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.feedback_stores import backend_of, drawing_pixels, sql, stored
from tests.app.helpers import FOUR, data_url, draw, encode, error


@pytest.fixture
def client(feedback_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(feedback_settings)) as test_client:
        yield test_client


def test_a_correction_is_stored_as_the_vector_the_network_saw(client: TestClient, feedback_settings: Settings) -> None:
    image = data_url(encode(draw(FOUR)))
    seen = client.post("/api/predict", json={"image": image, "model": "classic"}).json()
    response = client.post(
        "/api/feedback", json={"image": image, "label": 4, "predicted": seen["digit"], "model": "classic"}
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id"}
    (row,) = stored(feedback_settings)
    assert row["id"] == response.json()["id"]
    assert (row["label"], row["predicted"], row["model"]) == (4, seen["digit"], "classic")
    assert row["pixels"].dtype == np.float32 and row["pixels"].shape == (784,)
    np.testing.assert_allclose(row["pixels"], seen["input"], atol=1e-6)  # /api/predict rounds to 6 decimals


def test_pixels_are_stored_as_sent_and_optional_fields_as_null(client: TestClient, feedback_settings: Settings) -> None:
    pixels = drawing_pixels(1)
    response = client.post("/api/feedback", json={"pixels": pixels, "label": 1})
    assert response.status_code == 201, response.text
    (row,) = stored(feedback_settings)
    assert (row["label"], row["predicted"], row["model"]) == (1, None, None)
    np.testing.assert_array_equal(row["pixels"], np.array(pixels, dtype=np.float32))
    assert str(row["created_at"]).startswith("20")


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"label": 10}, ["label", "less than or equal to 9", '"label"']),
        ({"label": -1}, ["label", "greater than or equal to 0"]),
        ({"label": "4"}, ["label", "valid integer"]),
        ({"label": 4.0}, ["label", "valid integer"]),
        ({}, ["label", "field required"]),
        ({"label": 4, "predicted": 12}, ["predicted", "less than or equal to 9"]),
        ({"label": 4, "extra": 1}, ["extra", "not permitted"]),
    ],
)
def test_bad_labels_are_refused(client: TestClient, feedback_settings: Settings, body: dict, fragments: list) -> None:
    error(client.post("/api/feedback", json={"pixels": drawing_pixels(), **body}), 422, *fragments)
    assert stored(feedback_settings) == []


@pytest.mark.parametrize(
    ("drawing", "fragments"),
    [
        ({"image": "bm90IGFuIGltYWdl"}, ["not an image"]),
        ({"image": "data:text/plain;base64,aGk="}, ["not a supported image"]),
        ({"pixels": [0.5] * 783}, ["pixels", "at least 784"]),
        ({"pixels": [0.0] * 783 + [2.0]}, ["pixels[783]", "less than or equal to 1"]),
        ({"pixels": [0.0] * 784}, ["no ink"]),
        ({}, ["exactly one of 'image' and 'pixels'"]),
        ({"image": "x", "pixels": [0.0] * 784}, ["exactly one of 'image' and 'pixels'"]),
    ],
)
def test_bad_drawings_are_refused(
    client: TestClient, feedback_settings: Settings, drawing: dict, fragments: list
) -> None:
    error(client.post("/api/feedback", json={**drawing, "label": 3}), 422, *fragments)
    assert stored(feedback_settings) == []


def test_an_unknown_model_is_refused_as_on_predict(client: TestClient, feedback_settings: Settings) -> None:
    body = {"pixels": drawing_pixels(), "label": 3, "model": "resnet"}
    detail = error(client.post("/api/feedback", json=body), 404, "no model named 'resnet'", "classic, default")
    assert detail == error(client.post("/api/predict", json={"pixels": body["pixels"], "model": "resnet"}), 404)
    assert stored(feedback_settings) == []


def test_stats_on_an_empty_store(client: TestClient) -> None:
    response = client.get("/api/feedback/stats")
    assert response.status_code == 200, response.text
    assert response.json() == {"total": 0, "per_label": [0] * 10, "accuracy": {}, "predictions": {}}


def test_stats_count_labels_and_accuracy_per_model(client: TestClient) -> None:
    sent = [  # (label, predicted, model)
        (4, 4, "default"),
        (4, 9, "default"),
        (7, 7, "default"),
        (7, 7, "default"),
        (1, 7, "classic"),
        (1, None, "classic"),  # no prediction: counted in total and per_label only
        (0, 0, None),  # no model: likewise
        (9, None, None),
    ]
    for i, (label, predicted, model) in enumerate(sent):
        body = {"pixels": drawing_pixels(i), "label": label, "predicted": predicted, "model": model}
        assert client.post("/api/feedback", json=body).status_code == 201
    stats = client.get("/api/feedback/stats").json()
    assert stats == {
        "total": 8,
        "per_label": [1, 2, 0, 0, 2, 0, 0, 2, 0, 1],
        "accuracy": {"classic": 0.0, "default": 0.75},
        "predictions": {"classic": 1, "default": 4},
    }


def test_concurrent_writers_lose_nothing(client: TestClient, feedback_settings: Settings) -> None:
    """64 corrections from 16 threads at once: 64 rows, 64 distinct ids, each row the drawing that was sent."""
    start = threading.Barrier(16)

    def send(i: int) -> int:
        if i < 16:
            start.wait()  # the first request of every thread leaves together
        response = client.post("/api/feedback", json={"pixels": drawing_pixels(i), "label": i % 10})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(send, range(64)))
    assert len(set(ids)) == 64
    rows = {row["id"]: row for row in stored(feedback_settings)}
    assert set(rows) == set(ids)
    for i, row_id in enumerate(ids):
        assert rows[row_id]["label"] == i % 10
        np.testing.assert_array_equal(rows[row_id]["pixels"], np.array(drawing_pixels(i), dtype=np.float32))
    assert client.get("/api/feedback/stats").json()["total"] == 64


def test_the_rows_outlive_the_app(feedback_settings: Settings) -> None:
    """A second app on the same store (a restart, or another replica) sees what the first stored."""
    with TestClient(create_app(feedback_settings)) as first:
        responses = [first.post("/api/feedback", json={"pixels": drawing_pixels(i), "label": 5}) for i in range(3)]
        ids = [response.json()["id"] for response in responses]
    with TestClient(create_app(feedback_settings)) as second:
        assert second.get("/api/feedback/stats").json()["per_label"][5] == 3
        newer = second.post("/api/feedback", json={"pixels": drawing_pixels(9), "label": 2}).json()["id"]
    assert newer > max(ids)
    assert [row["id"] for row in stored(feedback_settings)] == [*ids, newer]


def test_the_row_cap_answers_507_and_keeps_what_it_has(feedback_settings: Settings) -> None:
    with TestClient(create_app(replace(feedback_settings, feedback_max_rows=3))) as client:
        for i in range(3):
            assert client.post("/api/feedback", json={"pixels": drawing_pixels(i), "label": 1}).status_code == 201
        response = client.post("/api/feedback", json={"pixels": drawing_pixels(5), "label": 1})
        error(response, 507, "maximum of 3 drawings", "DIGITPAD_FEEDBACK_MAX_ROWS")
        assert client.get("/api/feedback/stats").json()["total"] == 3
        assert client.post("/api/predict", json={"pixels": drawing_pixels(5)}).status_code == 200
        # Deleting a row (a gap in the ids) makes room for exactly one more.
        _, second, _ = (row["id"] for row in stored(feedback_settings))
        sql(feedback_settings, "DELETE FROM feedback WHERE id = ?", (second,))
        assert client.post("/api/feedback", json={"pixels": drawing_pixels(6), "label": 1}).status_code == 201
        error(client.post("/api/feedback", json={"pixels": drawing_pixels(7), "label": 1}), 507)
    assert len(stored(feedback_settings)) == 3


def test_the_schema_is_created_on_first_use_with_version_1(client: TestClient, feedback_settings: Settings) -> None:
    assert client.post("/api/feedback", json={"pixels": drawing_pixels(), "label": 8}).status_code == 201
    assert sql(feedback_settings, "SELECT version FROM schema_version") == [(1,)]
    if backend_of(feedback_settings) == "sqlite":
        assert sql(feedback_settings, "PRAGMA journal_mode") == [("wal",)]


def test_a_newer_schema_is_left_alone(client: TestClient, feedback_settings: Settings) -> None:
    """A database a newer service migrated: 503 naming the versions, and nothing written into it."""
    assert client.post("/api/feedback", json={"pixels": drawing_pixels(), "label": 8}).status_code == 201
    sql(feedback_settings, "UPDATE schema_version SET version = 2")
    error(client.post("/api/feedback", json={"pixels": drawing_pixels(1), "label": 8}), 503, "schema version 2", "1")
    error(client.get("/api/feedback/stats"), 503, "schema version 2")
    assert len(stored(feedback_settings)) == 1
    assert client.post("/api/predict", json={"pixels": drawing_pixels(1)}).status_code == 200


def test_a_second_version_row_is_refused_as_model_feedback_refuses_it(
    client: TestClient, feedback_settings: Settings
) -> None:
    """Even an equal second row: the service accepts only what the training reader (model.feedback) reads."""
    assert client.post("/api/feedback", json={"pixels": drawing_pixels(), "label": 8}).status_code == 201
    sql(feedback_settings, "INSERT INTO schema_version (version) VALUES (1)")
    error(client.post("/api/feedback", json={"pixels": drawing_pixels(1), "label": 8}), 503, "holds 2 rows (1, 1)")
    error(client.get("/api/feedback/stats"), 503, "not one")
    assert len(stored(feedback_settings)) == 1


def test_a_restarted_app_also_checks_the_version(feedback_settings: Settings) -> None:
    with TestClient(create_app(feedback_settings)) as client:
        assert client.post("/api/feedback", json={"pixels": drawing_pixels(), "label": 8}).status_code == 201
    sql(feedback_settings, "UPDATE schema_version SET version = 7")
    with TestClient(create_app(feedback_settings)) as client:
        error(client.post("/api/feedback", json={"pixels": drawing_pixels(1), "label": 8}), 503, "schema version 7")
    assert len(stored(feedback_settings)) == 1


def test_turned_off_both_endpoints_answer_404_and_predictions_work(feedback_settings: Settings) -> None:
    with TestClient(create_app(replace(feedback_settings, feedback=False))) as client:
        error(client.post("/api/feedback", json={"pixels": drawing_pixels(), "label": 8}), 404, "DIGITPAD_FEEDBACK=off")
        error(client.post("/api/feedback", content=b"not json"), 404, "turned off")
        error(client.get("/api/feedback/stats"), 404, "turned off")
        assert client.post("/api/predict", json={"pixels": drawing_pixels()}).status_code == 200
        assert not any(path.startswith("/api/feedback") for path in client.get("/openapi.json").json()["paths"])
    with TestClient(create_app(feedback_settings)) as client:  # nothing was stored
        assert client.get("/api/feedback/stats").json()["total"] == 0


def test_the_body_limit_applies(feedback_settings: Settings) -> None:
    with TestClient(create_app(replace(feedback_settings, max_body_bytes=4096))) as client:
        body = {"image": data_url(b"\x89PNG" + bytes(8000)), "label": 1}
        error(client.post("/api/feedback", json=body), 413, "limit")
        assert client.get("/api/feedback/stats").json()["total"] == 0
