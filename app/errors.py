"""Every error leaves the service as JSON ``{"detail": "<one readable sentence or two>"}``.

- ``InputError``: bad input found by our own code (an image that will not decode, an unknown
  model); carries its status code (404, 413 or 422) and message.
- FastAPI's request validation errors (422) are turned from a list of dicts into a sentence
  naming each bad field, followed by what the endpoint accepts.
- Starlette's bare "Not Found" / "Method Not Allowed" become sentences naming the route.
- A body FastAPI or Starlette cannot parse at all (JSON that is not UTF-8 or nests too deeply,
  broken multipart) is their bare 400; it becomes a 422 like any other invalid JSON, so every
  invalid input gets the one documented status and a sentence saying what is accepted.
- Anything unexpected is a 500 with a generic message; the traceback goes to the log.
"""

from __future__ import annotations

import http
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("digitpad")

MAX_LISTED_ERRORS = 3

# What each endpoint accepts, appended to its validation errors.
ACCEPTED = {
    "/api/predict": (
        'Send JSON {"image": "<PNG, JPEG, WebP, BMP or GIF as a data URL or bare base64>"} or '
        '{"pixels": [784 numbers in 0..1]}, with optional "model" (a name from /api/models) and "explain" (true/false).'
    ),
    "/api/predict/file": (
        "Send multipart/form-data with the image in a field named 'file' (curl -F file=@digit.png); "
        "optional query parameters model=<name> and explain=true."
    ),
    "/api/predict/batch": (
        'Send JSON {"model": "<optional name>", "items": [up to 256 objects of the /api/predict form]}.'
    ),
    "/api/feedback": (
        'Send JSON {"image": "<data URL or base64>"} or {"pixels": [784 numbers in 0..1]} with "label" (the digit '
        'it really is, 0-9), and optional "model" (a name from /api/models) and "predicted" (0-9).'
    ),
}


class InputError(Exception):
    """Input the service understood but cannot use; ``status_code`` is 404, 413 or 422."""

    def __init__(self, detail: str, status_code: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


def shorten(text: str, limit: int = 64) -> str:
    """``text`` cut to ``limit`` characters: what a client sent is echoed in errors, but never a megabyte of it."""
    return text if len(text) <= limit else text[:limit] + "…"


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def describe_validation_errors(errors: list[dict[str, Any]], path: str) -> str:
    """Pydantic/FastAPI error dicts → 'Invalid request: pixels[3]: Input should be … . Accepted: …'."""
    parts = [_describe_one(error) for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        parts.append(f"and {len(errors) - MAX_LISTED_ERRORS} more errors")
    return with_accepted("Invalid request: " + "; ".join(parts) + ".", path)


def with_accepted(message: str, path: str) -> str:
    """``message`` followed by what the endpoint at ``path`` accepts, if it is one that takes a body."""
    accepted = ACCEPTED.get(path.rstrip("/") or "/")
    return f"{message} {accepted}" if accepted else message


def _describe_one(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        return f"the body is not valid JSON ({reason})" if reason else "the body is not valid JSON"
    loc = [str(part) for part in error.get("loc", ())]
    where, field = (loc[0], loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else ("", loc)
    name = shorten("".join(f"[{part}]" if part.isdigit() else f".{part}" for part in field).lstrip("."), 100)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if error.get("type") == "missing" and where == "body" and not name:
        return "the request body is missing"
    if not name:
        return message if error.get("type") == "value_error" else f"the {where or 'request'}: {message}"
    label = f"{where} parameter {name}" if where in ("query", "path", "header") else name
    return f"{label}: {message}"


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return error_response(exc.status_code, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, describe_validation_errors(list(exc.errors()), request.url.path))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = str(exc.detail)
    default_phrase = _phrase(exc.status_code)
    path = shorten(request.url.path, 100)
    if exc.status_code == 400:
        return error_response(422, describe_unparsable_body(detail, request.url.path), headers=exc.headers)
    if exc.status_code == 404 and detail == default_phrase:
        detail = f"No such page or endpoint: {path}. The API is described at /docs."
    elif exc.status_code == 405 and detail == default_phrase:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {path}" + (f"; use {allowed}." if allowed else ".")
    return error_response(exc.status_code, detail, headers=exc.headers)


def describe_unparsable_body(detail: str, path: str) -> str:
    """FastAPI's "There was an error parsing the body" / Starlette's multipart errors → a readable 422 detail."""
    if detail == "There was an error parsing the body":
        reason = "the body is not valid JSON (not UTF-8 text, or nested too deeply)"
    else:
        reason = f"the body could not be parsed ({detail.rstrip('.')})"
    return with_accepted(f"Invalid request: {reason}.", path)


def _phrase(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error; the problem has been logged.")


def install(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
