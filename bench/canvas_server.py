"""A real digitpad server for the evaluation: ``python -m app`` on a free loopback port, and a client.

The server is a separate process started with the models to compare (symlinked into a temporary
models folder under the names they are served as), so what is measured is exactly what a browser
gets: PNG data URLs decoded and preprocessed by the service, answered over HTTP.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from bench import server

REPO = Path(__file__).resolve().parent.parent
BODY_BUDGET = 1_500_000  # bytes of JSON per batch request: well under the service's 2 MiB default limit
MAX_ITEMS = 256  # the service's batch limit (app.schemas.MAX_BATCH)


def data_url(image: Image.Image) -> str:
    """A Pillow image → the PNG data URL canvas.toDataURL() would send."""
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@contextmanager
def serve(models: dict[str, Path], timeout: float = 120.0) -> Iterator[str]:
    """Run ``python -m app`` serving ``models`` (name → weights file); yield its base URL, stop it after."""
    with tempfile.TemporaryDirectory(prefix="digitpad-canvas-") as folder:
        for name, path in models.items():
            (Path(folder) / f"{name}.npz").symlink_to(Path(path).resolve())
        env = {
            "DIGITPAD_MODELS_DIR": folder,
            "DIGITPAD_DEFAULT_MODEL": next(iter(models)),
            "DIGITPAD_LOG_LEVEL": "warning",
        }
        with server.serve(env, timeout=timeout) as running:  # the benchmarks' own start/poll/stop
            yield running.url


def batches(urls: list[str], budget: int = BODY_BUDGET) -> Iterator[tuple[int, int]]:
    """Split data URLs into (start, stop) runs whose JSON body stays under ``budget`` bytes and MAX_ITEMS."""
    start, size = 0, 0
    for i, url in enumerate(urls):
        item = len(url) + 16  # {"image": "..."}, plus a comma
        if i > start and (size + item > budget or i - start >= MAX_ITEMS):
            yield start, i
            start, size = i, 0
        size += item
    if start < len(urls):
        yield start, len(urls)


def predict_all(base: str, model: str, urls: list[str]) -> list[dict]:
    """POST every data URL to /api/predict/batch for ``model``; → the answers, in order."""
    answers: list[dict] = []
    for start, stop in batches(urls):
        body = json.dumps({"model": model, "items": [{"image": u} for u in urls[start:stop]]}).encode()
        request = urllib.request.Request(
            base + "/api/predict/batch", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                answers.extend(json.load(response)["results"])
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{model}: items {start}-{stop - 1}: HTTP {err.code}: {err.read()[:300]!r}") from None
    return answers
