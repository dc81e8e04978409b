"""Fixtures for the app tests: a models folder with two small networks, clients for the app, feedback stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model.network import Network
from tests.app.feedback_stores import BACKENDS, empty_store
from tests.app.helpers import write_models


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    write_models(folder)
    return folder


@pytest.fixture(scope="session")
def networks(models_dir: Path) -> dict[str, Network]:
    from model.weights import load

    return {name: load(models_dir / f"{name}.npz").network for name in ("default", "classic")}


@pytest.fixture(scope="session")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("static")
    (folder / "index.html").write_text("<!doctype html><title>digitpad</title><script type=module src=app.js></script>")
    (folder / "app.js").write_text("console.log('hi');\n")
    (folder / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return folder


@pytest.fixture(scope="session")
def settings(models_dir: Path, static_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")  # feedback the tests send is kept here, not in the repository
    return Settings(models_dir=models_dir, static_dir=static_dir, max_body_bytes=2 * 1024 * 1024, data_dir=data_dir)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of the app with its models loaded (the lifespan ran)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(params=BACKENDS)
def feedback_settings(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """``settings`` with a new, empty feedback store: SQLite, and PostgreSQL where one is configured."""
    with empty_store(request.param, settings, tmp_path) as chosen:
        yield chosen
