"""Security headers: a Content-Security-Policy the page needs no exception for, one that fits /docs exactly,
nosniff, no referrer, no framing, no server banner (also from `make run`), and CORS closed unless configured."""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from app.headers import script_hashes
from app.main import create_app
from app.settings import REPO_ROOT, Settings
from tests.app.serving import environment, free_port, start


def policy(response: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as directive → sources."""
    directives = [part.split() for part in response.headers["content-security-policy"].split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


def check_common(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert "server" not in response.headers


@pytest.mark.parametrize("path", ["/", "/app.js", "/static/app.js", "/favicon.ico", "/api/models", "/healthz",
                                  "/nowhere", "/openapi.json"])
def test_strict_policy_everywhere_but_the_docs(client: TestClient, path: str) -> None:
    response = client.get(path)
    check_common(response)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert not any("unsafe" in source for sources in csp.values() for source in sources)


def test_errors_carry_the_headers_too(client: TestClient) -> None:
    for response in (client.post("/api/predict", json={"image": "x"}), client.delete("/api/models")):
        assert response.status_code in (405, 422)
        check_common(response)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_policy_allows_exactly_what_the_docs_load(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    check_common(response)
    csp = policy(response)
    html = response.content
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    inline = script_hashes(html).split()
    assert inline == [source for source in scripts if source.startswith("'sha256-")]
    assert bool(inline) == (b"<script>" in html)  # Swagger UI and its redirect page run one; ReDoc none
    for src in re.findall(rb'<script[^>]*\ssrc="([^"]+)"', html):
        assert origin(src) in scripts, src
    for link in re.findall(rb"<link[^>]*>", html):
        if b"stylesheet" in link:
            href = re.search(rb'href="([^"]+)"', link)
            assert href and origin(href.group(1)) in csp["style-src"], link


def origin(url: bytes) -> str:
    parts = urlsplit(url.decode())
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def test_the_inline_script_hash_is_the_real_one() -> None:
    html = b"<p>x</p><script>alert(1)</script><script src='a.js'></script><script type=module>go()</script>"
    # sha256 of "alert(1)" and "go()", base64: computed independently of app.headers
    expected = [f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in (b"alert(1)", b"go()")]
    assert script_hashes(html).split() == expected


def test_the_real_page_needs_no_inline_code() -> None:
    """static/index.html (what the strict policy protects) has no inline script, style or event handler."""
    html = (REPO_ROOT / "static" / "index.html").read_text()
    assert re.findall(r"<script\b[^>]*>", html) and all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"<style\b", html, re.IGNORECASE)
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert "javascript:" not in html.lower()
    for script in (REPO_ROOT / "static").rglob("*.js"):
        code = script.read_text()
        assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|setAttribute\(\s*['\"]style", code), script.name


def test_make_run_serves_without_a_version_banner(models_dir: Path, tmp_path: Path) -> None:
    """The Makefile's own `run` command line, run for real: no Server header, the strict policy on the page."""
    recipe = re.search(r"^run:.*\n\t(.+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe, "no run target in the Makefile"
    port = free_port()
    line = recipe.group(1).replace("$(PY)", shlex.quote(sys.executable))
    line = line.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", str(port))
    assert "$(" not in line, line
    server = start(shlex.split(line), environment(models_dir), port, tmp_path / "server.log")
    try:
        for path in ("/", "/healthz", "/nowhere"):
            response = httpx.get(f"{server.url}{path}", timeout=10)
            assert "server" not in response.headers, (path, response.headers)
            assert "script-src 'self'" in response.headers["content-security-policy"]
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    assert "--no-server-header" in line


def test_cors_from_the_environment(settings: Settings) -> None:
    for value, origin_, allowed in (
        ("", "https://pad.example", False),  # unset: closed
        ("https://pad.example", "https://pad.example", True),
        ("https://pad.example", "https://evil.example", False),
        ("*", "https://anyone.example", True),
    ):
        env = {"DIGITPAD_CORS_ORIGINS": value, "DIGITPAD_MODELS_DIR": str(settings.models_dir)}
        configured = Settings.from_env(env)
        with TestClient(create_app(configured)) as client:
            response = client.get("/api/models", headers={"Origin": origin_})
            assert ("access-control-allow-origin" in response.headers) == allowed, (value, origin_)
            assert "access-control-allow-credentials" not in response.headers  # never with credentials
