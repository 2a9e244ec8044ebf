"""schemathesis against the OpenAPI schema (issue 8, "Hostile input"): every operation, token
authenticated, a bounded number of generated requests each; 0 server errors, and every 4xx says
why in the API's error shape ``{"errors": [{"path", "message"}]}``.

The schema is the one /api/schema/ serves (drf-spectacular's generator, built in-process because
the endpoint itself needs a login); requests go through Django's WSGI handler in this process, so
they see this test's database.
"""

from __future__ import annotations

import json
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from editor.flowstore import create_flow
from editor.models import Script
from runs.models import Run
from tests.fixtures_flows import minimal_flow

FLOW, SCRIPT, RUN = "u/alice/fuzz", "u/alice/fuzz-script", "00000000-0000-4000-8000-0000000f0zz0".replace("z", "a")
EXAMPLES = 8  # per operation: bounded so the whole file stays well under a minute

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture
def keep_connection():
    """Django's WSGI handler closes the DB connection after each request; the test's transaction
    lives on it (Django's test Client does the same disconnect)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, user, keep_connection):
    create_flow(FLOW, minimal_flow(), user)
    Script.objects.create(path=SCRIPT, owner=user, language="python3", content="def main(x: int):\n    return x\n")
    Run.objects.create(id=RUN, snapshot=minimal_flow(), args={}, created_by=user)
    return Token.objects.create(user=user).key


def aim(case) -> None:
    """Point most generated path parameters at objects that exist, so the handlers get the fuzzed
    bodies and queries instead of only 404s (derandomized: the same choice every run)."""
    params = case.path_parameters or {}
    if "path" in params and zlib.crc32(repr(case.body).encode()) % 4:
        params["path"] = SCRIPT if "/scripts/" in case.operation.path else FLOW
    if "run_id" in params and zlib.crc32(repr(case.body).encode()) % 4:
        params["run_id"] = RUN
    if "number" in params and zlib.crc32(repr(case.query).encode()) % 2:
        params["number"] = 1


SENT = {"requests": 0, "server_errors": 0}


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\nschemathesis: {SENT['requests']} requests, {SENT['server_errors']} server errors")


def readable(response) -> str:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        return first.get("message", "") if isinstance(first, dict) else ""
    return ""


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_every_4xx_explains_itself(case, token):
    aim(case)
    response = case.call(headers={"Authorization": f"Token {token}"})
    SENT["requests"] += 1
    SENT["server_errors"] += response.status_code >= 500
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.content[:300]!r}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        assert readable(response), where
