"""Who may do what: owner / shared user / shared group / stranger / staff × list / get / update /
delete / run, for flows, scripts and runs (issue 8, "Users see and run only their own ...").

Invisible objects are 404 (never 403), so their paths do not leak; "list" means the object shows up
in its list endpoint. Sharing gives write access (update, delete, run) but not re-sharing (see
tests/test_permissions_flows.py). A run is visible to its creator, to whoever may see its flow,
and to staff; runs have no delete endpoint for anyone.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Group

from editor.flowstore import create_flow
from editor.models import Flow, Script
from runs.models import Run
from runs.orchestrator import apply_event
from tests.fixtures_flows import client_for, fast_passwords, minimal_flow  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ROLES = ("owner", "shared_user", "shared_group", "stranger", "staff")
SEES = {"owner", "shared_user", "shared_group", "staff"}
FLOW = "u/alice/matrix-flow"
SCRIPT = "u/alice/matrix-script"


@pytest.fixture
def world(django_user_model, user):
    """alice's flow, script and a started run of the flow; one client per role."""
    users = {
        "owner": user,
        "shared_user": django_user_model.objects.create_user("sam", "sam@example.com", "pw-sam-123456"),
        "shared_group": django_user_model.objects.create_user("gus", "gus@example.com", "pw-gus-123456"),
        "stranger": django_user_model.objects.create_user("eve", "eve@example.com", "pw-eve-123456"),
        "staff": django_user_model.objects.create_user("sid", "sid@example.com", "pw-sid-123456", is_staff=True),
    }
    group = Group.objects.create(name="team")
    users["shared_group"].groups.add(group)
    flow = create_flow(FLOW, minimal_flow(summary="matrix"), user)
    script = Script.objects.create(path=SCRIPT, owner=user, language="python3", content="def main():\n    return 7\n")
    for obj in (flow, script):
        obj.shared_with.add(users["shared_user"])
        obj.shared_with_groups.add(group)
    run = Run.objects.create(flow=flow, flow_path=FLOW, snapshot=minimal_flow(), args={}, created_by=user)
    apply_event(run.pk, {"type": "RunStarted", "args": {}, "now": time.time()})  # dispatch waits for a commit
    return {"clients": {role: client_for(u) for role, u in users.items()}, "run": run}


def expected(role: str, ok: int) -> int:
    return ok if role in SEES else 404


# --- flows ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_flow_list(world, role):
    paths = [f["path"] for f in world["clients"][role].get("/api/flows/").json()["results"]]
    assert (FLOW in paths) == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_flow_get(world, role):
    assert world["clients"][role].get(f"/api/flows/{FLOW}").status_code == expected(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_flow_update(world, role):
    response = world["clients"][role].put(f"/api/flows/{FLOW}", minimal_flow(summary=f"by {role}"), format="json")
    assert response.status_code == expected(role, 200)
    assert (Flow.objects.get(path=FLOW).summary == f"by {role}") == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_flow_delete(world, role):
    assert world["clients"][role].delete(f"/api/flows/{FLOW}").status_code == expected(role, 204)
    assert Flow.objects.filter(path=FLOW).exists() == (role not in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_flow_run(world, role):
    before = Run.objects.count()
    response = world["clients"][role].post(f"/api/flows/{FLOW}/runs", {"args": {"x": 1}}, format="json")
    assert response.status_code == expected(role, 201)
    assert Run.objects.count() == before + (role in SEES)


# --- scripts ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_script_list(world, role):
    paths = [s["path"] for s in world["clients"][role].get("/api/scripts/").json()["results"]]
    assert (SCRIPT in paths) == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_script_get(world, role):
    response = world["clients"][role].get(f"/api/scripts/{SCRIPT}")
    assert response.status_code == expected(role, 200)
    if role not in SEES:
        assert "content" not in response.json()


@pytest.mark.parametrize("role", ROLES)
def test_script_update(world, role):
    response = world["clients"][role].patch(f"/api/scripts/{SCRIPT}", {"summary": role}, format="json")
    assert response.status_code == expected(role, 200)
    assert (Script.objects.get(path=SCRIPT).summary == role) == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_script_delete(world, role):
    assert world["clients"][role].delete(f"/api/scripts/{SCRIPT}").status_code == expected(role, 204)
    assert Script.objects.filter(path=SCRIPT).exists() == (role not in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_script_run_by_reference_from_a_flow(world, role):
    """Running a flow whose `script` step names the script: only those who may see it can."""
    flow = {"summary": "uses the script", "value": {"modules": [
        {"id": "s", "value": {"type": "script", "path": SCRIPT, "input_transforms": {}}}]}}
    response = world["clients"][role].post("/api/runs/", {"flow": flow, "args": {}}, format="json")
    if role in SEES:
        assert response.status_code == 201, response.json()
        assert Run.objects.get(pk=response.json()["id"]).snapshot["_resolved"]["scripts"][SCRIPT]["content"]
    else:
        assert response.status_code == 400
        assert SCRIPT in str(response.json()["errors"])
        assert "return 7" not in response.content.decode()


# --- runs -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_run_list(world, role):
    ids = [r["id"] for r in world["clients"][role].get("/api/runs/").json()["results"]]
    assert (str(world["run"].pk) in ids) == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_run_get(world, role):
    assert world["clients"][role].get(f"/api/runs/{world['run'].pk}").status_code == expected(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_run_update_is_cancel(world, role):
    response = world["clients"][role].post(f"/api/runs/{world['run'].pk}/cancel")
    assert response.status_code == expected(role, 200)
    assert (Run.objects.get(pk=world["run"].pk).status == "canceled") == (role in SEES)


@pytest.mark.parametrize("role", ROLES)
def test_run_delete_does_not_exist_for_anyone(world, role):
    assert world["clients"][role].delete(f"/api/runs/{world['run'].pk}").status_code in (404, 405)
    assert Run.objects.filter(pk=world["run"].pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_run_run_is_restart(world, role):
    response = world["clients"][role].post(f"/api/runs/{world['run'].pk}/restart", {"from": "a"}, format="json")
    assert response.status_code == expected(role, 201)


@pytest.mark.parametrize("role", ROLES)
def test_preview_run_is_visible_only_to_its_creator_and_staff(world, role, user):
    preview = Run.objects.create(snapshot=minimal_flow(), args={}, created_by=user)
    status = world["clients"][role].get(f"/api/runs/{preview.pk}").status_code
    assert status == (200 if role in ("owner", "staff") else 404)


def test_unsharing_the_flow_hides_its_runs_again(world, user):
    flow = Flow.objects.get(path=FLOW)
    flow.shared_with.clear()
    assert world["clients"]["shared_user"].get(f"/api/runs/{world['run'].pk}").status_code == 404
