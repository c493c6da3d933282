"""Schemathesis against the API's own /openapi.json (in process, over ASGI): generated valid and invalid requests
never get a 5xx, and every response matches the schema (status codes, bodies, headers).

Driven from a plain test with Hypothesis (schemathesis' pytest plugin does not load under pytest 9)."""

from __future__ import annotations

import pytest
import schemathesis
from helpers import faq_store
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.app import create_app
from services.api_keys import ApiKeys
from services.assistant import Assistant


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("fuzz")
    settings, kb = faq_store(tmp, api_keys_file=tmp / "keys.json", api_rate_per_minute=100_000)
    key = ApiKeys(settings.api_keys_file).create("fuzz")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, Assistant(settings, kb)))
    return schema, key


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize(
    "label", ["POST /v1/chat", "GET /v1/search", "POST /v1/feedback", "GET /healthz", "GET /readyz"]
)
def test_the_api_keeps_its_schema_under_generated_requests(api, label: str) -> None:
    schema, key = api
    [operation] = [op for op in _operations(schema) if op.label == label]

    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(data=st.data())
    def run(data) -> None:
        case = data.draw(operation.as_strategy())
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"})

    run()


def test_every_operation_is_fuzzed(api) -> None:
    schema, _key = api
    assert {op.label for op in _operations(schema)} == {
        "POST /v1/chat",
        "GET /v1/search",
        "POST /v1/feedback",
        "GET /healthz",
        "GET /readyz",
    }
