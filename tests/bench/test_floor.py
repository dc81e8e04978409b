"""bench.floor_app, the service without a prediction's work, against the real service: two servers, real HTTP."""

from __future__ import annotations

import json
import urllib.request

from bench import floor
from bench.sample import data_url
from bench.server import serve

ONE_WORKER = {"DIGITPAD_WORKERS": "1"}  # one process each: quicker to start, the same code path


def post(url: str, body: dict[str, str]) -> dict:
    request = urllib.request.Request(
        url + "/api/predict", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_floor_answers_any_drawing_as_the_service_answers_the_sample() -> None:
    three, seven = data_url(3), data_url(7)
    with serve(ONE_WORKER) as service, serve(ONE_WORKER, module=floor.SERVERS["floor"]) as without_work:
        for model in ("default", "classic"):
            sample = post(service.url, {"image": three, "model": model})
            assert sample["digit"] == 3 and len(sample["input"]) == 784
            # The same JSON, byte for byte as parsed: the floor's answers cost what the service's cost to send …
            assert post(without_work.url, {"image": three, "model": model}) == sample
            # … but it does not read the drawing, where the service does.
            assert post(without_work.url, {"image": seven, "model": model}) == sample
            assert post(service.url, {"image": seven, "model": model})["digit"] == 7
