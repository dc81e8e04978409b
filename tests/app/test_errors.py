"""Bad input: a clear 4xx with a readable {"detail": "..."}, never a 5xx, and the service keeps serving."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tests.app.helpers import data_url, draw, encode, error

PNG = encode(draw())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("image", "fragments"),
    [
        ("", ["empty string", "data url"]),
        ("   ", ["empty string"]),
        (b64(b"hello, this is not an image at all"), ["not an image", "accepted: png, jpeg, webp, bmp or gif"]),
        (b64(PNG[: len(PNG) // 2]), ["could not be decoded", "complete"]),
        (b64(PNG[:40]), ["png"]),
        ("not*base64!", ["not valid base64"]),
        ("QUJD=QUJD", ["not valid base64"]),
        ("data:text/plain;base64,aGVsbG8=", ["text/plain", "not a supported image", "accepted"]),
        ("data:,hello", ["text/plain", "not a supported image"]),
        ("data:image/svg+xml;base64," + b64(b'<svg xmlns="http://www.w3.org/2000/svg"/>'), ["image/svg+xml"]),
        (b64(b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>'), ["not an image"]),
        ("data:image/png," + "x" * 20, ["without ';base64'"]),
        ("data:image/png;base64", ["not a data url"]),
        ("data:image/png;base64,", ["zero bytes"]),
    ],
    ids=[
        "empty-string",
        "blank",
        "not-an-image",
        "truncated",
        "header-only",
        "invalid-base64",
        "bad-padding",
        "text-data-url",
        "default-type-data-url",
        "svg-data-url",
        "svg-bytes",
        "not-base64-data-url",
        "no-comma",
        "empty-payload",
    ],
)
def test_bad_image_field(client: TestClient, image: str, fragments: list[str]) -> None:
    error(client.post("/api/predict", json={"image": image}), 422, *fragments)


ACCEPTED_JSON = '"pixels": [784 numbers in 0..1]'


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({"image": 5}, ["image: input should be a valid string"]),
        ({"image": ["a"]}, ["image:"]),
        ({"pixels": "abc"}, ["pixels: input should be a valid list"]),
        ({"pixels": ["0.5"] * 784}, ["pixels[0]: input should be a valid number."]),  # the first bad one only
        ({"pixels": [True] * 784}, ["pixels[0]"]),
        ({"pixels": [0.5] * 783}, ["pixels", "at least 784"]),
        ({"pixels": [0.5] * 785}, ["pixels", "at most 784"]),
        ({"pixels": [0.5] * 783 + [1.5]}, ["pixels[783]", "less than or equal to 1"]),
        ({"pixels": [-0.1] + [0.5] * 783}, ["pixels[0]", "greater than or equal to 0"]),
        ({"pixels": [[0.5] * 28] * 28}, ["pixels", "784"]),
        ({"pixels": [0] * 784, "explain": "yes"}, ["explain: input should be a valid boolean"]),
        ({"pixels": [0] * 784, "model": 3}, ["model: input should be a valid string"]),
        ({"pixels": [0] * 784, "colour": "red"}, ["colour: extra inputs are not permitted"]),
        ({}, ["exactly one of 'image' and 'pixels'"]),
        ({"image": data_url(PNG), "pixels": [0] * 784}, ["exactly one of 'image' and 'pixels'"]),
        ([1, 2, 3], ["valid dictionary"]),
        ("a string", ["valid dictionary"]),
    ],
    ids=[
        "image-number",
        "image-list",
        "pixels-string",
        "pixels-strings",
        "pixels-booleans",
        "783-pixels",
        "785-pixels",
        "over-one",
        "negative",
        "nested-28x28",
        "explain-string",
        "model-number",
        "unknown-field",
        "neither",
        "both",
        "json-list",
        "json-string",
    ],
)
def test_wrong_json(client: TestClient, body: object, fragments: list[str]) -> None:
    error(client.post("/api/predict", json=body), 422, "invalid request", *fragments, ACCEPTED_JSON)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_pixels(client: TestClient, token: str) -> None:
    # JSON has no NaN, but Python's parser accepts these tokens (and 1e999 overflows to inf): refuse them.
    raw = '{"pixels": [' + token + ", " + ", ".join(["0"] * 783) + "]}"
    assert json.loads(raw)  # the server's parser does read it
    response = client.post("/api/predict", content=raw, headers={"content-type": "application/json"})
    error(response, 422, "pixels[0]", "finite number")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b'{"pixels": [', "not valid json"), (b"", "request body is missing"), (b"\xff\xfe{}", "not valid json")],
    ids=["cut-short", "no-body", "not-utf8"],
)
def test_invalid_json(client: TestClient, content: bytes, fragment: str) -> None:
    response = client.post("/api/predict", content=content, headers={"content-type": "application/json"})
    error(response, 422, fragment)


def test_unknown_model(client: TestClient) -> None:
    detail = error(client.post("/api/predict", json={"pixels": [0] * 784, "model": "resnet"}), 404, "resnet")
    assert "classic, default" in detail


@pytest.mark.parametrize("name", ["../../etc/passwd", "../weights/default", "default.npz", "/etc/passwd", "ДЕФОЛТ", ""])
def test_model_names_are_not_paths(client: TestClient, name: str) -> None:
    error(client.post("/api/predict", json={"pixels": [0] * 784, "model": name}), 404, "no model named")
    files = {"file": ("d.png", PNG)}
    error(client.post("/api/predict/file", params={"model": name}, files=files), 404, "no model named")
    batch = {"model": name, "items": [{"pixels": [0] * 784}]}
    error(client.post("/api/predict/batch", json=batch), 404, "no model named")


@pytest.mark.parametrize("path", ["/api/models/..%2F..%2Fetc%2Fpasswd", "/api/models/resnet", "/api/models/%2E%2E"])
def test_unknown_model_by_path(client: TestClient, path: str) -> None:
    error(client.get(path), 404)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/api/models/classic/weights/0/0", "layers 1 to 3"),
        ("/api/models/classic/weights/4/0", "layers 1 to 3"),
        ("/api/models/classic/weights/1/16", "neurons 0 to 15"),
        ("/api/models/classic/weights/3/-1", "neurons 0 to 9"),
        ("/api/models/nope/weights/1/0", "no model named"),
    ],
)
def test_weights_out_of_range(client: TestClient, path: str, fragment: str) -> None:
    error(client.get(path), 404, fragment)


def test_weights_path_must_be_integers(client: TestClient) -> None:
    error(client.get("/api/models/classic/weights/one/2"), 422, "path parameter layer", "valid integer")


def test_upload_errors(client: TestClient) -> None:
    error(client.post("/api/predict/file", files={"image": ("d.png", PNG)}), 422, "file: field required", "'file'")
    error(client.post("/api/predict/file", files={"file": ("d.png", b"")}), 422, "empty")
    error(client.post("/api/predict/file", files={"file": ("d.txt", b"just text")}), 422, "not an image")
    error(client.post("/api/predict/file", files={"file": ("d.png", PNG[:100])}), 422, "could not be decoded")
    error(client.post("/api/predict/file", json={"image": data_url(PNG)}), 422, "file", "multipart")
    error(client.post("/api/predict/file", params={"explain": "maybe"}, files={"file": PNG}), 422, "explain")


def test_batch_errors(client: TestClient) -> None:
    items = [{"pixels": [0] * 784}] * 257
    error(client.post("/api/predict/batch", json={"items": items}), 422, "items", "at most 256", "up to 256")
    bad_item = [{"pixels": [0] * 784}, {"image": "not*base64"}]
    error(client.post("/api/predict/batch", json={"items": bad_item}), 422, "items[1]:", "base64")
    error(client.post("/api/predict/batch", json={"items": [{"pixels": [2] + [0] * 783}]}), 422, "items[0].pixels[0]")
    error(client.post("/api/predict/batch", json={"items": "all"}), 422, "items: input should be a valid list")
    error(client.post("/api/predict/batch", json={}), 422, "items: field required")
    unknown = {"items": [{"pixels": [0] * 784, "model": "gpt"}]}
    error(client.post("/api/predict/batch", json=unknown), 404, "gpt")


def test_unknown_route_and_method(client: TestClient) -> None:
    error(client.get("/api/nothing"), 404, "/api/nothing", "/docs")
    error(client.post("/nothing"), 404, "/nothing")
    error(client.get("/api/predict"), 405, "get is not allowed on /api/predict", "post")
    error(client.post("/healthz"), 405, "use get")
    error(client.delete("/api/models"), 405)


def test_the_service_keeps_serving(client: TestClient) -> None:
    for body in ({"image": ""}, {"pixels": "x"}, {"image": b64(PNG[:50])}):
        assert client.post("/api/predict", json=body).status_code == 422
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/predict", json={"image": data_url(PNG)}).status_code == 200
