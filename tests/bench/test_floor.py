"""bench.floor_app, the service without a prediction's work: beside the real service over HTTP; its lane in process."""

from __future__ import annotations

import base64
import importlib
import json
import urllib.error
import urllib.request
from collections import deque

import pytest

from app import inference
from app.inference import Ticket
from app.registry import load_models
from app.schemas import PredictRequest
from app.settings import Settings
from bench import floor
from bench.sample import canvas_png, data_url
from bench.server import serve


def post(url: str, body: dict[str, str]) -> tuple[int, bytes]:
    """POST /api/predict → the status and the answer's bytes."""
    request = urllib.request.Request(
        url + "/api/predict", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_floor_answers_any_drawing_as_the_service_answers_the_sample() -> None:
    three, seven = data_url(3), data_url(7)
    png = canvas_png(3)
    truncated = "data:image/png;base64," + base64.b64encode(png[: len(png) // 2]).decode()  # a header, half the data
    # The floor with its default settings (a supervisor and two workers), as bench.floor runs it.
    with serve({"DIGITPAD_WORKERS": "1"}) as service, serve(module=floor.SERVERS["floor"]) as without_work:
        for model in ("default", "classic"):
            status, sample = post(service.url, {"image": three, "model": model})
            assert status == 200 and json.loads(sample)["digit"] == 3
            # The same bytes: the floor's answers cost what the service's cost to validate and send …
            assert post(without_work.url, {"image": three, "model": model}) == (200, sample)
            # … but it neither reads the drawing nor decodes it, where the service does both.
            assert post(without_work.url, {"image": seven, "model": model}) == (200, sample)
            assert json.loads(post(service.url, {"image": seven, "model": model})[1])["digit"] == 7
            assert post(without_work.url, {"image": truncated, "model": model}) == (200, sample)
            assert post(service.url, {"image": truncated, "model": model})[0] == 422


def test_the_floor_s_lane_runs_a_network_only_for_its_first_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Importing bench.floor_app replaces these two for good; set them to themselves first, so that monkeypatch
    # puts them back after this test.
    for name in ("prepare_one", "predict_each_model"):
        monkeypatch.setattr(inference, name, getattr(inference, name))
    importlib.reload(importlib.import_module("bench.floor_app"))  # a fresh copy, with no answer kept yet
    settings = Settings.from_env()
    loaded = load_models(settings.models_dir, settings.default_model).get(None)
    rows = []  # the drawings each forward pass was given
    forward = loaded.model.network.forward
    monkeypatch.setattr(loaded.model.network, "forward", lambda x: rows.append(len(x)) or forward(x))
    blank = PredictRequest(pixels=[0.0] * 784)
    for _ in range(2):  # two groups of two drawings, as the lane's thread answers them
        group: list[Ticket] = []
        inference.answer_together(deque([Ticket(loaded, blank, None), Ticket(loaded, blank, None)]), group)
        assert [ticket.outcome().digit for ticket in group] == [3, 3]  # the sample's answer, not the blank's
    assert rows == [1]  # the sample's answer, once; never the drawings
