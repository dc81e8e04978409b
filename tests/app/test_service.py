"""Everything around the endpoints: the page and its files, headers, CORS, request logs, the OpenAPI schema."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.helpers import error


def test_page_at_root(client: TestClient, static_dir: Path) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.text == (static_dir / "index.html").read_text()


def test_page_files_at_root_and_under_static(client: TestClient) -> None:
    for path in ("/app.js", "/static/app.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == "console.log('hi');\n"
        assert "javascript" in response.headers["content-type"]
    error(client.get("/missing.js"), 404, "/missing.js")
    error(client.get("/static/missing.js"), 404)
    error(client.get("/static/../../etc/passwd"), 404)


def test_favicon_falls_back_to_svg(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"


def test_page_missing_is_a_clear_404(settings: Settings, tmp_path: Path) -> None:
    bare = Settings(models_dir=settings.models_dir, static_dir=tmp_path / "none")
    with TestClient(create_app(bare)) as client:
        error(client.get("/"), 404, "index.html", "/docs")
        error(client.get("/favicon.ico"), 404, "favicon")
        assert client.get("/healthz").status_code == 200


def test_only_index_html_is_enough(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><p>hi")
    only = Settings(models_dir=settings.models_dir, static_dir=tmp_path)
    with TestClient(create_app(only)) as client:
        assert client.get("/").text == "<!doctype html><p>hi"
        error(client.get("/favicon.ico"), 404)


def test_security_headers(client: TestClient) -> None:
    for response in (client.get("/"), client.get("/healthz"), client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_cors_closed_by_default(client: TestClient) -> None:
    response = client.get("/api/models", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/api/predict",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_when_configured(settings: Settings) -> None:
    allowed = Settings(models_dir=settings.models_dir, cors_origins=("https://pad.example",))
    with TestClient(create_app(allowed)) as client:
        ok = client.get("/api/models", headers={"Origin": "https://pad.example"})
        assert ok.headers["access-control-allow-origin"] == "https://pad.example"
        other = client.get("/api/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options(
            "/api/predict", headers={"Origin": "https://pad.example", "Access-Control-Request-Method": "POST"}
        )
        assert (
            preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://pad.example"
        )


def test_one_log_line_per_request(client: TestClient) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("digitpad")
    logger.addHandler(handler)
    try:
        client.get("/healthz")
        client.post("/api/predict", json={"pixels": "no"})
        client.get("/api/models/nothing")
    finally:
        logger.removeHandler(handler)
    lines = [record.getMessage() for record in records]
    assert len(lines) == 3
    for line, (method, path, status) in zip(
        lines,
        [("GET", "/healthz", 200), ("POST", "/api/predict", 422), ("GET", "/api/models/nothing", 404)],
        strict=True,
    ):
        assert line.startswith(f"{method} {path} {status} ") and line.endswith(" ms"), line
        float(line.split()[3])  # the duration is a number


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_openapi_lists_every_endpoint(openapi: dict) -> None:
    assert set(openapi["paths"]) == {
        "/healthz",
        "/api/models",
        "/api/models/{name}",
        "/api/models/{name}/weights/{layer}/{neuron}",
        "/api/predict",
        "/api/predict/file",
        "/api/predict/batch",
        "/api/feedback",
        "/api/feedback/stats",
    }


def test_openapi_has_examples_for_every_endpoint(openapi: dict) -> None:
    schemas = openapi["components"]["schemas"]

    def has_examples(schema: dict) -> bool:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("type") == "array":
            return has_examples(schema["items"])
        return bool(schema.get("examples"))

    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            success = operation["responses"].get("200") or operation["responses"]["201"]  # 201: POST /api/feedback
            ok = success["content"]["application/json"]["schema"]
            assert has_examples(ok), f"{method} {path}: no response example"
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                assert body["application/json"].get("examples"), f"{method} {path}: no request example"


def test_openapi_errors_are_documented_as_detail_strings(openapi: dict) -> None:
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    assert openapi["components"]["schemas"]["ErrorResponse"]["properties"]["detail"]["type"] == "string"
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, f"{method} {path} {code}"
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in operation["responses"], f"{method} {path}"


def test_docs_page(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


def test_head_requests(client: TestClient) -> None:
    for path in ("/", "/favicon.ico", "/app.js"):
        response = client.head(path)
        assert response.status_code == 200 and response.content == b"", path
