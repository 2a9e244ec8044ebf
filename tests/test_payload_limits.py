"""Huge and absurd payloads: bounded and reported, never a 500 (issue 8, "Payload limits").

Bodies over MAX_PAYLOAD_BYTES get 413 with a message; JSON nested 10 000 levels deep gets 400
(Python's json would raise RecursionError); the same on the signed approval endpoints. Script
output (logs) is capped by SCRIPT_OUTPUT_LIMIT (tests/test_sandbox.py); a huge script *result* is
not bounded yet (see test_huge_script_result_is_bounded_and_reported).
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from django.test import Client

from editor.flowstore import create_flow
from runs import sandbox
from runs.models import Run
from runs.orchestrator import apply_event
from runs.presenter import run_detail
from tests.fixtures_flows import fast_passwords, minimal_flow  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000
LIMIT = 100_000  # MAX_PAYLOAD_BYTES for these tests (the settings floor is 10 000)


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.MAX_PAYLOAD_BYTES = LIMIT
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT + 10_000


@pytest.fixture
def saved(user):
    return create_flow("u/alice/limits", minimal_flow(), user)


def post_raw(api, url: str, body: str):
    return api.generic("POST", url, body, content_type="application/json")


def message(response) -> str:
    return response.json()["errors"][0]["message"]


def big_string(n: int) -> str:
    return "a" * n


def test_huge_args_on_a_saved_flow_run_is_413_with_the_limit(api, saved):
    response = post_raw(api, "/api/flows/u/alice/limits/runs", json.dumps({"args": {"x": big_string(LIMIT)}}))
    assert response.status_code == 413
    assert str(LIMIT) in message(response)
    assert not Run.objects.exists()


def test_huge_args_on_a_preview_run_is_413(api):
    body = json.dumps({"flow": minimal_flow(), "args": {"x": big_string(LIMIT)}})
    response = post_raw(api, "/api/runs/", body)
    assert response.status_code == 413
    assert "larger than the limit" in message(response)


def test_body_over_djangos_own_limit_is_413_json_not_an_html_400(api):
    body = json.dumps({"flow": minimal_flow(), "args": {"x": big_string(LIMIT + 20_000)}})
    response = post_raw(api, "/api/runs/", body)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")


def test_huge_flow_save_is_413(api):
    flow = {**minimal_flow(description=big_string(LIMIT)), "path": "u/alice/huge"}
    response = post_raw(api, "/api/flows/", json.dumps(flow))
    assert response.status_code == 413
    assert "larger than the limit" in message(response)


def test_args_just_under_the_limit_are_accepted(api, saved):
    response = post_raw(api, "/api/flows/u/alice/limits/runs", json.dumps({"args": {"x": 5}}))
    assert response.status_code == 201


@pytest.mark.parametrize("url,template", [
    ("/api/runs/", '{"flow": FLOW, "args": {"x": DEEP}}'),
    ("/api/flows/u/alice/limits/runs", '{"args": {"x": DEEP}}'),
    ("/api/flows/", '{"path": "u/alice/deep", "summary": "d", "value": {"modules": DEEP}}'),
    ("/api/flows/validate", '{"flow": DEEP}'),
    ("/api/scripts/", '{"path": "u/alice/s", "language": "bash", "content": "", "schema": DEEP}'),
])
def test_deeply_nested_json_body_is_400_not_500(api, saved, url, template):
    response = post_raw(api, url, template.replace("FLOW", json.dumps(minimal_flow())).replace("DEEP", DEEP))
    assert response.status_code == 400, response.content[:200]
    assert "nested" in message(response)


def test_deeply_nested_json_in_a_put_is_400(api, saved):
    response = api.generic("PUT", "/api/flows/u/alice/limits", '{"summary": DEEP, "value": {"modules": []}}'.replace("DEEP", DEEP),
                           content_type="application/json")
    assert response.status_code == 400


def test_args_nested_below_the_recursion_limit_but_deep_are_handled(api, saved):
    """600 levels: within the parser's limit; the schema check answers, no crash anywhere."""
    response = post_raw(api, "/api/flows/u/alice/limits/runs", '{"args": {"x": %s}}' % ("[" * 500 + "]" * 500))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/args/x"


def _suspended(user) -> dict:
    flow = {"summary": "s", "value": {"modules": [
        {"id": "a", "value": {"type": "identity"}, "suspend": {"required_events": 1, "timeout": 60}}]}}
    run = Run.objects.create(snapshot=flow, args={}, created_by=user)
    apply_event(run.pk, {"type": "RunStarted", "args": {}, "now": time.time()})
    run.refresh_from_db()
    return run_detail(run, None)["suspended"]


def test_deeply_nested_approval_payload_is_400(user):
    links = _suspended(user)
    response = Client().post(links["resume_url"], DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in message(response)


def test_deeply_nested_approval_payload_in_the_query_string_is_400(user):
    links = _suspended(user)
    encoded = base64.urlsafe_b64encode(DEEP.encode()).decode()
    response = Client().get(links["resume_url"], {"payload": encoded})
    assert response.status_code == 400
    assert "nested" in message(response)


def test_huge_approval_body_is_413_json(user):
    links = _suspended(user)
    response = Client().post(links["resume_url"], json.dumps({"x": big_string(LIMIT + 20_000)}),
                             content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"]


def test_huge_script_result_is_bounded_and_reported(tmp_path):
    src = "def main():\n    return 'x' * (50 * 1024 * 1024)\n"
    outcome = sandbox.run_script("python3", src, {}, timeout=60, env={}, memory_mb=1024, output_limit=1_000_000,
                                 workdir_root=str(tmp_path))
    assert not outcome.success
    assert outcome.result["error"]["name"] == "ResultTooLarge"
    assert "limit" in outcome.result["error"]["message"]


# --- U+0000: PostgreSQL can't store it, so it is refused with its path on every database ------

def test_nul_character_in_a_flow_patch_is_400_naming_the_path_and_keeps_the_saved_flow(api, saved):
    before = api.get("/api/flows/u/alice/limits").json()
    response = api.generic("PATCH", "/api/flows/u/alice/limits", '{"description": "a\\u0000b"}',
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/description"
    assert "NUL" in message(response)
    assert api.get("/api/flows/u/alice/limits").json() == before


def test_nul_character_in_a_key_is_400_with_a_printable_path(api, saved):
    response = api.generic("PATCH", "/api/flows/u/alice/limits", '{"\\u0000": null}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/\\u0000"


def test_nul_character_in_run_args_is_400(api, saved):
    response = post_raw(api, "/api/flows/u/alice/limits/runs", '{"args": {"x": ["ok", "\\u0000"]}}')
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/args/x/1"
    assert not Run.objects.exists()


def test_escaped_backslash_before_u0000_is_plain_text_and_accepted(api, saved):
    response = api.generic("PATCH", "/api/flows/u/alice/limits", '{"description": "\\\\u0000"}',
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert api.get("/api/flows/u/alice/limits").json()["description"] == "\\u0000"


def test_nul_character_in_an_approval_payload_is_400(user):
    links = _suspended(user)
    response = Client().post(links["resume_url"], '{"note": "\\u0000"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/payload/note"
    encoded = base64.b64encode(b'{"note": "\\u0000"}').decode()
    assert Client().get(links["resume_url"], {"payload": encoded}).status_code == 400


def test_nan_in_an_approval_payload_is_400_not_a_stored_nan(user):
    links = _suspended(user)
    response = Client().post(links["resume_url"], '{"amount": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert "NaN" in message(response)
    encoded = base64.b64encode(b'{"amount": Infinity}').decode()
    assert Client().get(links["resume_url"], {"payload": encoded}).status_code == 400
