"""Serving an average of networks (model.average) and a convnet: /api/models, predictions, neuron weights."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.average import Average
from model.convnet import ConvNet
from model.network import Network
from model.weights import save, save_average
from tests.app.helpers import data_url, draw, encode

MLP = Network([784, 32, 10], ["relu", "softmax"], "cross_entropy", init="he", seed=1)
CONV = ConvNet([2, 3], hidden=8, seed=2)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, static_dir: Path) -> Iterator[TestClient]:
    """An app whose default model averages MLP and CONV, beside CONV alone as 'conv' and their average over five
    views as 'viewed'."""
    folder = tmp_path_factory.mktemp("average-models")
    members = [(MLP, {"name": "mlp", "test_accuracy": 0.97}), (CONV, {"name": "small convnet"})]
    save_average(folder / "default.npz", members, {"name": "default", "test_accuracy": 0.98})
    save(folder / "conv.npz", CONV, {"name": "conv"})
    save_average(folder / "viewed.npz", members, {"name": "viewed"}, [1, 1])
    settings = Settings(models_dir=folder, static_dir=static_dir, data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_models_say_what_they_are(client: TestClient) -> None:
    models = {m["name"]: m for m in client.get("/api/models").json()}
    default, conv = models["default"], models["conv"]
    assert default["kind"] == "average" and default["layers"] == [784, 32, 10]  # the shown network's
    assert default["parameters"] == MLP.parameter_count + CONV.parameter_count
    assert [(n["name"], n["kind"], n["test_accuracy"]) for n in default["networks"]] == [
        ("mlp", "mlp", 0.97), ("small convnet", "convnet", None)]
    assert default["networks"][1]["layers"] == [784, 14 * 14 * 2, 5 * 5 * 3, 8, 10]
    assert conv["kind"] == "convnet" and conv["networks"] is None and conv["cost"] == "cross_entropy"
    assert [n["shift"] for n in default["networks"]] == [0, 0]
    assert [n["shift"] for n in models["viewed"]["networks"]] == [1, 1]


def test_a_prediction_is_the_mean_of_both_networks(client: TestClient) -> None:
    body = client.post("/api/predict", json={"image": data_url(encode(draw())), "explain": True}).json()
    x = np.array(body["input"], dtype=np.float32)[None, :]
    mean = (MLP.feedforward(x) + CONV.feedforward(x))[0] / 2
    np.testing.assert_allclose(body["activations"], mean, atol=1e-5)
    assert body["digit"] == int(mean.argmax()) and body["confidence"] == pytest.approx(float(mean.max()), abs=1e-5)
    assert not np.allclose(body["activations"], MLP.feedforward(x)[0], atol=1e-3)
    # The hidden layers shown are the MLP's.
    np.testing.assert_allclose(body["hidden"][0], MLP.forward(x)[1][0], atol=1e-5)
    batch = client.post("/api/predict/batch", json={"items": [{"pixels": body["input"]}]}).json()
    np.testing.assert_allclose(batch["results"][0]["activations"], body["activations"], atol=1e-6)


def test_a_convnet_alone_explains_its_feature_maps(client: TestClient) -> None:
    body = client.post("/api/predict", json={"image": data_url(encode(draw())), "model": "conv", "explain": True})
    assert body.status_code == 200
    x = np.array(body.json()["input"], dtype=np.float32)[None, :]
    np.testing.assert_allclose(body.json()["activations"], CONV.feedforward(x)[0], atol=1e-5)
    assert [len(layer) for layer in body.json()["hidden"]] == [14 * 14 * 2, 5 * 5 * 3, 8]


def test_neuron_weights_of_an_average_are_its_first_networks(client: TestClient) -> None:
    body = client.get("/api/models/default/weights/1/5").json()
    assert body["shape"] == [28, 28]
    np.testing.assert_allclose(body["weights"], MLP.weights[0][5], atol=1e-6)


@pytest.mark.parametrize(
    ("layer", "neuron", "shape", "row"),
    [(1, 14 * 14 * 2 - 1, [5, 5], 1), (2, 4, [5, 5, 2], 1), (3, 7, [75], 7), (4, 9, [8], 9)],
)
def test_a_convnets_neuron_reads_through_its_channels_kernel(client: TestClient, layer: int, neuron: int,
                                                              shape: list[int], row: int) -> None:
    body = client.get(f"/api/models/conv/weights/{layer}/{neuron}").json()
    assert body["shape"] == shape
    np.testing.assert_allclose(body["weights"], CONV.weights[layer - 1][row], atol=1e-6)
    assert body["bias"] == pytest.approx(float(CONV.biases[layer - 1][row]), abs=1e-6)


def test_a_neuron_past_the_last_is_a_404(client: TestClient) -> None:
    response = client.get(f"/api/models/conv/weights/1/{14 * 14 * 2}")
    assert response.status_code == 404 and "neurons 0 to 391" in response.json()["detail"]
    assert client.get("/api/models/conv/weights/5/0").status_code == 404


def test_the_average_is_what_model_average_computes(client: TestClient) -> None:
    x = np.random.default_rng(0).random((2, 784)).astype(np.float32)
    body = client.post("/api/predict/batch", json={"items": [{"pixels": row.tolist()} for row in x]}).json()
    expected = Average([MLP, CONV]).feedforward(x)
    for answer, row in zip(body["results"], expected, strict=True):
        np.testing.assert_allclose(answer["activations"], row, atol=1e-5)


def test_an_average_over_views_answers_with_the_mean_of_every_view_and_shows_the_drawing_as_drawn(
    client: TestClient,
) -> None:
    body = client.post("/api/predict", json={"image": data_url(encode(draw())), "model": "viewed", "explain": True})
    assert body.status_code == 200
    x = np.array(body.json()["input"], dtype=np.float32)[None, :]
    expected = Average([MLP, CONV], [1, 1]).feedforward(x)[0]
    np.testing.assert_allclose(body.json()["activations"], expected, atol=1e-5)
    assert not np.allclose(expected, Average([MLP, CONV]).feedforward(x)[0], atol=1e-4)  # the views count
    np.testing.assert_allclose(body.json()["hidden"][0], MLP.forward(x)[1][0], atol=1e-5)  # the unmoved drawing's
