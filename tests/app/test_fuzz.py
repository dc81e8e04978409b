"""Property-based fuzzing of the API from its own OpenAPI schema (schemathesis, run in-process over ASGI).

For every operation, schema-valid requests (positive) and, where the schema constrains any input,
schema-violating ones (negative) are generated; every response must be no 5xx, have a status the
schema documents, the documented content type and a body that validates against the response schema,
and every schema-violating request must be refused (a 4xx: 422, or 413 when it is over the body limit).

Schemathesis' ``positive_data_acceptance`` check is left out for generated data only: the schema says
``image`` is a string, but only a string holding a decodable image is accepted (422 otherwise), which no
JSON Schema can express. The schema's own examples must be accepted, with that check on.

The number of examples per operation and mode is ``DIGITPAD_FUZZ_EXAMPLES`` (default 40); the runs are
derandomised so the suite is reproducible. ``make fuzz`` runs many more, with fresh random seeds.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from app.main import create_app
from app.settings import Settings

EXAMPLES = int(os.environ.get("DIGITPAD_FUZZ_EXAMPLES", "40"))
RANDOM = os.environ.get("DIGITPAD_FUZZ_RANDOM") == "1"  # fresh seeds (make fuzz) instead of reproducible ones

OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/api/models"),
    ("GET", "/api/models/{name}"),
    ("GET", "/api/models/{name}/weights/{layer}/{neuron}"),
    ("POST", "/api/predict"),
    ("POST", "/api/predict/file"),
    ("POST", "/api/predict/batch"),
    ("POST", "/api/feedback"),
    ("GET", "/api/feedback/stats"),
]
# Operations with an input the schema constrains; the others accept any request, so there is no negative case.
CONSTRAINED = OPERATIONS[3:-1]
# Operations whose generated requests can succeed, and their success status: it must be among what the fuzzer
# saw, so the success body's schema was checked too (for /api/models/{name} a random name is almost never a
# loaded model).
CAN_SUCCEED = {
    ("GET", "/healthz"): 200,
    ("GET", "/api/models"): 200,
    ("POST", "/api/predict"): 200,
    ("POST", "/api/predict/batch"): 200,
    ("POST", "/api/feedback"): 201,
    ("GET", "/api/feedback/stats"): 200,
}

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a shared 2-core machine: no per-example time limit
    derandomize=not RANDOM,
    database=None,  # nothing written into the repository
    suppress_health_check=list(HealthCheck),  # large bodies (784 pixels, batches) are slow to generate by design
    print_blob=True,
)


@pytest.fixture(scope="module")
def api_schema(settings: Settings) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))


def operation(api_schema: Any, method: str, path: str) -> Any:
    return api_schema[path][method]


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    found = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


def fuzz(op: Any, mode: GenerationMode) -> Counter[int]:
    """Run up to EXAMPLES generated requests through every check; return how often each status came back.

    Schema-violating requests must get a 4xx: checked here rather than by schemathesis'
    negative_data_rejection, whose list of acceptable statuses lacks 413 (a body over the limit).
    """
    statuses: Counter[int] = Counter()
    excluded = [positive_data_acceptance, negative_data_rejection]

    @FUZZ_SETTINGS
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(op.as_strategy(generation_mode=mode))
        response = case.call_and_validate(excluded_checks=excluded)
        statuses[response.status_code] += 1
        assert response.status_code < 500, response.text[:500]  # also a schemathesis check; explicit here
        if mode == GenerationMode.NEGATIVE:
            assert 400 <= response.status_code < 500, f"accepted: {response.status_code} {response.text[:300]}"

    run()
    return statuses


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schema_valid_requests(api_schema: Any, method: str, path: str) -> None:
    statuses = fuzz(operation(api_schema, method, path), GenerationMode.POSITIVE)
    assert statuses, "no request was generated"
    if (method, path) in CAN_SUCCEED:
        assert statuses[CAN_SUCCEED[method, path]] > 0, f"no generated request succeeded: {dict(statuses)}"


@pytest.mark.parametrize(("method", "path"), CONSTRAINED, ids=[f"{m} {p}" for m, p in CONSTRAINED])
def test_schema_violating_requests(api_schema: Any, method: str, path: str) -> None:
    statuses = fuzz(operation(api_schema, method, path), GenerationMode.NEGATIVE)
    assert statuses and all(400 <= status < 500 for status in statuses), dict(statuses)


@pytest.mark.parametrize("path", ["/api/predict", "/api/predict/batch", "/api/feedback"])
def test_documented_examples_are_accepted(api_schema: Any, path: str) -> None:
    strategies = operation(api_schema, "POST", path).get_strategies_from_examples()
    assert strategies, "the schema lost its request examples"
    for strategy in strategies:

        @settings(max_examples=5, deadline=None, database=None, derandomize=True)
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call_and_validate()  # every check, positive_data_acceptance included
            assert response.status_code == CAN_SUCCEED["POST", path], response.text

        run()


def test_the_checks_do_catch_a_broken_api(api_schema: Any) -> None:
    """The harness is not vacuous: an app answering a 500, or a body off the schema, fails the checks."""

    def broken(status: int, body: bytes) -> Any:
        async def app(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return app

    case = operation(api_schema, "GET", "/healthz").Case()
    for status, body, failure in (
        (500, b'{"detail": "boom"}', ServerError),
        (200, b'{"status": "fine", "models": 3}', JsonSchemaError),
    ):
        with pytest.raises(FailureGroup) as caught:
            case.call_and_validate(app=broken(status, body))
        assert any(isinstance(error, failure) for error in caught.value.exceptions), caught.value.exceptions
