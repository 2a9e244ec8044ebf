"""The runs API without a worker: validation, permissions, listing, links (DESIGN "Public API")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from editor.models import Flow
from runs.models import Run

pytestmark = pytest.mark.django_db

IDENTITY = {"summary": "id", "value": {"modules": [{"id": "a", "value": {"type": "identity"}}]}}
TYPED = {**IDENTITY, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}


def test_posting_an_invalid_flow_returns_every_error_with_its_json_path(api):
    flow = {"summary": "bad", "value": {"modules": [
        {"id": "a", "value": {"type": "forloopflow", "modules": [], "skip_failures": False}},
        {"id": "a", "value": {"type": "nope"}},
    ]}}
    response = api.post("/api/runs/", {"flow": flow, "args": {}}, format="json")
    assert response.status_code == 400
    paths = {e["path"] for e in response.json()["errors"]}
    assert "/value/modules/0/value/iterator" in paths
    assert "/value/modules/1/value/type" in paths
    assert Run.objects.count() == 0


def test_args_failing_the_flow_schema_are_rejected_with_paths(api):
    response = api.post("/api/runs/", {"flow": TYPED, "args": {"n": "three"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/args/n"


def test_missing_required_arg_is_reported(api):
    response = api.post("/api/runs/", {"flow": TYPED, "args": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_body_without_flow_is_a_400_naming_flow(api):
    response = api.post("/api/runs/", {"args": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/flow"


def test_malformed_json_body_is_a_400_not_a_500(api):
    response = api.post("/api/runs/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_a_valid_preview_run_is_created_queued(api, user):
    response = api.post("/api/runs/", {"flow": TYPED, "args": {"n": 3}}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["args"] == {"n": 3}
    assert body["flow"]["summary"] == "id"
    assert Run.objects.get(pk=body["id"]).created_by == user


def test_running_a_saved_flow_records_its_path(api, user):
    Flow.objects.create(path="f/demo/id", owner=user, summary="id", openflow=IDENTITY)
    response = api.post("/api/flows/f/demo/id/runs", {"args": {}}, format="json")
    assert response.status_code == 201
    assert response.json()["flow_path"] == "f/demo/id"


def test_running_someone_elses_flow_is_a_404(api, other_user):
    Flow.objects.create(path="f/theirs/x", owner=other_user, summary="x", openflow=IDENTITY)
    assert api.post("/api/flows/f/theirs/x/runs", {"args": {}}, format="json").status_code == 404


def test_runs_of_other_users_are_invisible(api, other_user):
    run = Run.objects.create(snapshot=IDENTITY, args={}, created_by=other_user)
    assert api.get(f"/api/runs/{run.pk}").status_code == 404
    assert api.post(f"/api/runs/{run.pk}/cancel").status_code == 404
    assert api.get("/api/runs/").json()["count"] == 0


def test_anonymous_requests_are_refused(db):
    client = APIClient()
    assert client.get("/api/runs/").status_code in (401, 403)
    assert client.post("/api/runs/", {"flow": IDENTITY}, format="json").status_code in (401, 403)


def test_token_authentication_works(user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/runs/").status_code == 200


def test_history_is_newest_first_and_filters_by_flow_and_status(api, user):
    first = Run.objects.create(snapshot=IDENTITY, args={}, created_by=user, flow_path="f/a/b", status="success")
    second = Run.objects.create(snapshot=IDENTITY, args={}, created_by=user, flow_path="f/a/b", status="failure")
    Run.objects.create(snapshot=IDENTITY, args={}, created_by=user, flow_path="f/other", status="success")
    listed = api.get("/api/runs/", {"flow": "f/a/b"}).json()
    assert [r["id"] for r in listed["results"]] == [str(second.pk), str(first.pk)]
    assert api.get("/api/runs/", {"flow": "f/a/b", "status": "success"}).json()["count"] == 1
    bad = api.get("/api/runs/", {"status": "exploded"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "/status"


def test_cancel_of_a_finished_run_is_a_conflict(api, user):
    run = Run.objects.create(snapshot=IDENTITY, args={}, created_by=user, status="success")
    assert api.post(f"/api/runs/{run.pk}/cancel").status_code == 409


def test_restart_needs_a_top_level_step_of_the_flow(api, user):
    run = Run.objects.create(snapshot=IDENTITY, args={}, created_by=user, status="success", state={})
    response = api.post(f"/api/runs/{run.pk}/restart", {"from": "zz"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/from"


def test_openapi_schema_lists_the_run_endpoints(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in ("/api/runs/", "/api/runs/{run_id}", "/api/runs/{run_id}/cancel", "/api/runs/{run_id}/restart"):
        assert expected in paths
