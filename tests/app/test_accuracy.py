"""End to end: MNIST test digits drawn onto 280×280 canvases, sent through /api/predict/batch, keep
at least 98% of the network's accuracy on the raw MNIST vectors — for each polarity and for a
transparent background. Uses the real weights in model/weights and the real MNIST files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.preprocess import CENTRE
from app.settings import REPO_ROOT, Settings
from model import mnist
from model.weights import load
from tests.app.helpers import data_url, encode

WEIGHTS = REPO_ROOT / "model" / "weights"
DIGITS = 1000
CANVAS = 280


def on_canvas(digit: np.ndarray, style: str) -> Image.Image:
    """A (28, 28) uint8 MNIST digit (ink high) drawn smoothly onto a 280×280 canvas."""
    ink = np.asarray(Image.fromarray(digit).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR))
    if style == "black-on-white":
        return Image.fromarray(255 - ink)
    if style == "white-on-black":
        return Image.fromarray(ink)
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)  # black ink on a transparent canvas
    rgba[..., 3] = ink
    return Image.fromarray(rgba, "RGBA")


@pytest.fixture(scope="module")
def digits(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    data = mnist.load(mnist_dir, download=False)
    return data.test_images[:DIGITS], data.test_labels[:DIGITS]


@pytest.fixture(scope="module")
def real_client() -> TestClient:
    if not all((WEIGHTS / f"{name}.npz").exists() for name in ("classic", "default")):
        pytest.skip("model/weights/classic.npz and default.npz are needed (make train)")
    with TestClient(create_app(Settings(models_dir=WEIGHTS))) as client:
        yield client


def seen_over_api(client: TestClient, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """Send the canvases as PNG data URLs; → the default model's digits (n,) and the inputs it saw (n, 784)."""
    digits, inputs = [], []
    for start in range(0, len(images), 50):  # 50 canvas PNGs (10-30 KB each) stay under the 2 MiB body limit
        items = [{"image": data_url(encode(image, compress_level=1))} for image in images[start : start + 50]]
        response = client.post("/api/predict/batch", json={"model": "default", "items": items})
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            digits.append(result["digit"])
            inputs.append(result["input"])
    return np.array(digits), np.array(inputs, dtype=np.float32)


@pytest.mark.parametrize("style", ["black-on-white", "white-on-black", "transparent"])
def test_canvas_keeps_98_percent_of_raw_accuracy(
    real_client: TestClient, digits: tuple[np.ndarray, np.ndarray], style: str
) -> None:
    images, labels = digits
    answered, seen = seen_over_api(real_client, [on_canvas(image, style) for image in images])
    for model in ("classic", "default"):
        network = load(WEIGHTS / f"{model}.npz").network
        predicted = network.feedforward(seen).argmax(axis=1)  # the same 28×28 inputs, through each network
        if model == "default":
            assert (predicted == answered).all()  # what the API answered is the network's answer on `input`
        raw = float((network.feedforward(mnist.as_vectors(images)).argmax(axis=1) == labels).mean())
        drawn = float((predicted == labels).mean())
        print(f"{style} {model}: raw {raw:.4f}, canvas {drawn:.4f}, ratio {drawn / raw:.4f}")
        assert drawn >= 0.98 * raw, f"{style} {model}: canvas {drawn:.4f} vs raw {raw:.4f}"


def test_canvas_rendering_is_what_it_claims(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    checks: dict[str, Callable[[np.ndarray], bool]] = {
        "black-on-white": lambda a: a[0, 0] == 255 and a.min() < 5,
        "white-on-black": lambda a: a[0, 0] == 0 and a.max() > 250,
        "transparent": lambda a: a[0, 0, 3] == 0 and a[..., :3].max() == 0 and a[..., 3].max() > 250,
    }
    for style, check in checks.items():
        assert check(np.asarray(on_canvas(digit, style))), style


def test_mnist_centre_of_mass_is_where_preprocessing_puts_it(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images = digits[0].astype(np.float64)  # (n, 28, 28)
    rows, cols = np.indices((28, 28))
    mass = images.sum(axis=(1, 2))
    mean_row = ((images * rows).sum(axis=(1, 2)) / mass).mean()
    mean_col = ((images * cols).sum(axis=(1, 2)) / mass).mean()
    assert abs(mean_row - CENTRE) < 0.1 and abs(mean_col - CENTRE) < 0.1
