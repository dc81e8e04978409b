"""The REST API's successful answers: health, models, weights, predict (JSON, file, batch)."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from model.network import Network
from tests.app.helpers import FOUR, data_url, draw, encode


@pytest.fixture(scope="module")
def seven_png() -> bytes:
    return encode(draw())


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "models": ["classic", "default"], "default_model": "default"}


def test_models_list(client: TestClient, networks: dict[str, Network]) -> None:
    response = client.get("/api/models")
    assert response.status_code == 200
    models = {m["name"]: m for m in response.json()}
    assert set(models) == {"classic", "default"}
    classic = models["classic"]
    assert classic["layers"] == [784, 16, 16, 10]
    assert classic["activations"] == ["sigmoid", "sigmoid", "sigmoid"]
    assert classic["cost"] == "quadratic"
    assert classic["parameters"] == networks["classic"].parameter_count == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    assert classic["test_accuracy"] == 0.91 and classic["trained_at"] == "2026-01-01T00:00:00+00:00"
    assert classic["history"] == [{"epoch": 1, "loss": 0.5, "seconds": 0.1, "val_accuracy": 0.9}]
    assert models["default"]["default"] is True and classic["default"] is False


def test_one_model(client: TestClient) -> None:
    response = client.get("/api/models/default")
    assert response.status_code == 200
    assert response.json()["layers"] == [784, 32, 10]
    assert response.json() == next(m for m in client.get("/api/models").json() if m["name"] == "default")


def test_first_layer_weights_are_a_28x28_image(client: TestClient, networks: dict[str, Network]) -> None:
    response = client.get("/api/models/classic/weights/1/5")
    assert response.status_code == 200
    body = response.json()
    assert body["shape"] == [28, 28] and len(body["weights"]) == 784
    np.testing.assert_allclose(body["weights"], networks["classic"].weights[0][5], atol=1e-6)
    assert body["bias"] == pytest.approx(float(networks["classic"].biases[0][5]), abs=1e-6)


def test_deeper_layer_weights(client: TestClient, networks: dict[str, Network]) -> None:
    body = client.get("/api/models/classic/weights/3/9").json()
    assert body["shape"] == [16] and body["layer"] == 3 and body["neuron"] == 9
    np.testing.assert_allclose(body["weights"], networks["classic"].weights[2][9], atol=1e-6)


def check_answer(body: dict, network: Network, model: str) -> None:
    """The answer is the network's real output on the 'input' it reports."""
    assert body["model"] == model
    x = np.array(body["input"], dtype=np.float32)[None, :]
    assert x.shape == (1, 784) and x.min() >= 0 and x.max() <= 1
    outputs = network.feedforward(x)[0]
    np.testing.assert_allclose(body["activations"], outputs, atol=1e-5)
    assert body["digit"] == int(outputs.argmax())
    assert body["confidence"] == pytest.approx(float(outputs.max()), abs=1e-5)
    assert body["empty"] is False


def test_predict_data_url(client: TestClient, networks: dict[str, Network], seven_png: bytes) -> None:
    response = client.post("/api/predict", json={"image": data_url(seven_png)})
    assert response.status_code == 200
    body = response.json()
    check_answer(body, networks["default"], "default")  # the default model answers when none is named
    assert "hidden" not in body
    assert max(body["input"]) == pytest.approx(1.0)


def test_predict_bare_base64_is_the_same(client: TestClient, seven_png: bytes) -> None:
    with_prefix = client.post("/api/predict", json={"image": data_url(seven_png)}).json()
    bare = client.post("/api/predict", json={"image": data_url(seven_png).split(",", 1)[1]}).json()
    assert bare == with_prefix


def test_predict_named_model(client: TestClient, networks: dict[str, Network], seven_png: bytes) -> None:
    body = client.post("/api/predict", json={"image": data_url(seven_png), "model": "classic"}).json()
    check_answer(body, networks["classic"], "classic")


def test_predict_pixels(client: TestClient, networks: dict[str, Network]) -> None:
    pixels = np.zeros(784)
    pixels[200:220] = 1.0
    pixels[300] = 0.25
    response = client.post("/api/predict", json={"pixels": pixels.tolist(), "model": "classic"})
    assert response.status_code == 200
    body = response.json()
    assert body["input"] == pytest.approx(pixels.tolist())  # used as given, not preprocessed again
    check_answer(body, networks["classic"], "classic")


def test_predict_integers_are_numbers(client: TestClient) -> None:
    pixels = [0] * 784
    pixels[100] = 1
    assert client.post("/api/predict", json={"pixels": pixels}).status_code == 200


def test_explain_returns_every_hidden_layer(client: TestClient, networks: dict[str, Network], seven_png: bytes) -> None:
    body = client.post("/api/predict", json={"image": data_url(seven_png), "model": "classic", "explain": True}).json()
    assert [len(layer) for layer in body["hidden"]] == [16, 16]
    layers = networks["classic"].forward(np.array([body["input"]], dtype=np.float32))
    np.testing.assert_allclose(body["hidden"][0], layers[1][0], atol=1e-5)
    np.testing.assert_allclose(body["hidden"][1], layers[2][0], atol=1e-5)
    one_hidden = client.post("/api/predict", json={"image": data_url(seven_png), "explain": True}).json()
    assert [len(layer) for layer in one_hidden["hidden"]] == [32]


@pytest.mark.parametrize(
    "body",
    [
        {"image": data_url(encode(draw(strokes=[])))},  # a blank white canvas
        {"image": data_url(encode(draw(strokes=[], mode="RGBA", paper=(0, 0, 0, 0))))},  # canvas.toDataURL() untouched
        {"pixels": [0.0] * 784},
    ],
    ids=["white", "transparent", "zero-pixels"],
)
def test_empty_drawing(client: TestClient, body: dict) -> None:
    response = client.post("/api/predict", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["digit"] is None and answer["empty"] is True and answer["confidence"] is None
    assert len(answer["activations"]) == 10 and answer["input"] == [0.0] * 784


def test_upload_file(client: TestClient, networks: dict[str, Network], seven_png: bytes) -> None:
    response = client.post("/api/predict/file", files={"file": ("seven.png", seven_png, "image/png")})
    assert response.status_code == 200
    check_answer(response.json(), networks["default"], "default")
    as_json = client.post("/api/predict", json={"image": data_url(seven_png)}).json()
    assert response.json() == as_json


def test_upload_file_with_model_and_explain(client: TestClient, networks: dict[str, Network], seven_png: bytes) -> None:
    response = client.post(
        "/api/predict/file", params={"model": "classic", "explain": "true"}, files={"file": ("7.png", seven_png)}
    )
    assert response.status_code == 200
    body = response.json()
    check_answer(body, networks["classic"], "classic")
    assert [len(layer) for layer in body["hidden"]] == [16, 16]


def test_batch_matches_single_predictions(client: TestClient, seven_png: bytes) -> None:
    items = [
        {"image": data_url(seven_png)},
        {"image": data_url(encode(draw(strokes=FOUR))), "explain": True},
        {"pixels": [0.0] * 784},
        {"image": data_url(seven_png), "model": "default"},
    ]
    response = client.post("/api/predict/batch", json={"model": "classic", "items": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["model"] for r in results] == ["classic", "classic", "classic", "default"]
    for item, result in zip(items, results, strict=True):
        single = client.post("/api/predict", json={"model": "classic", **item}).json()
        assert result["digit"] == single["digit"] and result["empty"] == single["empty"]
        np.testing.assert_allclose(result["activations"], single["activations"], atol=1e-6)
        assert ("hidden" in result) == item.get("explain", False)


def test_batch_runs_each_network_once(client: TestClient, monkeypatch: pytest.MonkeyPatch, seven_png: bytes) -> None:
    calls: list[tuple[int, int]] = []
    original = Network.forward

    def counting_forward(self: Network, x: np.ndarray, rng: object = None) -> list[np.ndarray]:
        calls.append(x.shape)
        return original(self, x)

    monkeypatch.setattr(Network, "forward", counting_forward)
    items = [{"image": data_url(seven_png)}] * 5 + [{"pixels": [0.0] * 784, "model": "classic"}] * 3
    response = client.post("/api/predict/batch", json={"items": items})
    assert response.status_code == 200 and len(response.json()["results"]) == 8
    assert sorted(calls) == [(3, 784), (5, 784)]


def test_batch_of_256(client: TestClient) -> None:
    items = [{"pixels": [0.0] * 784}] * 256
    response = client.post("/api/predict/batch", json={"items": items})
    assert response.status_code == 200 and len(response.json()["results"]) == 256


def test_empty_batch(client: TestClient) -> None:
    response = client.post("/api/predict/batch", json={"items": []})
    assert response.status_code == 200 and response.json() == {"results": []}
