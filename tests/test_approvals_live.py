"""Suspend / approval through the signed links, with a real worker (spec §9, DESIGN "Public API")."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from django.test import Client

from runs.models import Run
from tests.conftest import wait_for

pytestmark = pytest.mark.worker

FORM = {"type": "object", "properties": {"ok": {"type": "boolean"}, "note": {"type": "string"}}, "required": ["ok"]}


def approval_flow(**suspend) -> dict:
    return {
        "summary": "needs approval",
        "value": {"modules": [
            {"id": "a", "value": {"type": "identity"},
             "suspend": {"required_events": 1, "timeout": 120, **suspend}},
            {"id": "b", "value": {"type": "rawscript", "language": "python3",
                                  "content": "def main(r, rs, ap, prev):\n    return {'resume': r, 'resumes': rs, 'approvers': ap, 'prev': prev}",
                                  "input_transforms": {
                                      "r": {"type": "javascript", "expr": "resume"},
                                      "rs": {"type": "javascript", "expr": "resumes"},
                                      "ap": {"type": "javascript", "expr": "approvers"},
                                      "prev": {"type": "javascript", "expr": "previous_result"}}}},
        ]},
    }


def start(api, flow: dict, args=None) -> str:
    response = api.post("/api/runs/", {"flow": flow, "args": args or {"n": 1}}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def suspended(api, run_id: str) -> dict:
    def check():
        body = api.get(f"/api/runs/{run_id}").json()
        return body if body["status"] == "suspended" and body["suspended"] else None

    return wait_for(check, timeout=30, message="the run to suspend")


def final(run_id: str) -> Run:
    return wait_for(lambda: (r := Run.objects.get(pk=run_id)).is_final and r, timeout=30, message="the run to end")


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_resume_link_with_json_body_continues_and_next_step_sees_payload(live, api):
    run_id = start(api, approval_flow())
    links = suspended(api, run_id)["suspended"]
    response = Client().post(local(links["resume_url"]) + "?approver=carol", json.dumps({"ok": True}),
                             content_type="application/json")
    assert response.status_code == 200, response.content
    run = final(run_id)
    assert run.status == "success"
    assert run.result == {"resume": {"ok": True}, "resumes": [{"ok": True}], "approvers": ["carol"],
                          "prev": {"n": 1}}


def test_get_resume_link_accepts_standard_and_urlsafe_base64_payloads(live, api):
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        run_id = start(api, approval_flow())
        links = suspended(api, run_id)["suspended"]
        payload = encode(json.dumps({"ok": True, "note": "??>>"}).encode()).decode()
        response = Client().get(local(links["resume_url"]), {"payload": payload})
        assert response.status_code == 200, response.content
        assert final(run_id).result["resume"] == {"ok": True, "note": "??>>"}


def test_a_resume_without_any_payload_gives_the_next_step_null(live, api):
    """Spec 9.5: no payload -> null, both for a bare GET and for a POST with an empty body."""
    for send in (lambda url: Client().get(url), lambda url: Client().post(url, "", content_type="application/json")):
        run_id = start(api, approval_flow())
        links = suspended(api, run_id)["suspended"]
        assert send(local(links["resume_url"])).status_code == 200
        result = final(run_id).result
        assert (result["resume"], result["resumes"]) == (None, [None])


def test_resume_without_approver_records_anonymous(live, api):
    run_id = start(api, approval_flow())
    links = suspended(api, run_id)["suspended"]
    assert Client().post(local(links["resume_url"]), "{}", content_type="application/json").status_code == 200
    assert final(run_id).result["approvers"] == ["anonymous"]


def test_cancel_link_fails_the_run_with_suspended_disapproved(live, api):
    run_id = start(api, approval_flow())
    links = suspended(api, run_id)["suspended"]
    assert Client().post(local(links["cancel_url"]) + "?approver=dave").status_code == 200
    run = final(run_id)
    assert run.status == "failure"
    assert run.result == {"error": {"name": "SuspendedDisapproved", "message": "Disapproved by dave"}}


def test_replayed_resume_link_is_gone(live, api):
    run_id = start(api, approval_flow(required_events=2))
    links = suspended(api, run_id)["suspended"]
    url = local(links["resume_url"])
    assert Client().post(url, '{"ok": true}', content_type="application/json").status_code == 200
    again = Client().post(url, '{"ok": true}', content_type="application/json")
    assert again.status_code == 410
    assert again.json()["errors"][0]["message"]


def test_two_required_events_need_two_links_and_the_run_shows_fresh_ones(live, api):
    run_id = start(api, approval_flow(required_events=2))
    first = suspended(api, run_id)["suspended"]
    assert first["required_events"] == 2 and first["received_events"] == 0
    assert Client().post(local(first["resume_url"]) + "?approver=a1", '{"ok": true}',
                         content_type="application/json").status_code == 200
    second = suspended(api, run_id)["suspended"]
    assert second["received_events"] == 1
    assert second["resume_url"] != first["resume_url"]
    assert Client().post(local(second["resume_url"]) + "?approver=a2", '{"ok": false}',
                         content_type="application/json").status_code == 200
    run = final(run_id)
    assert run.result["resumes"] == [{"ok": True}, {"ok": False}]
    assert run.result["resume"] == {"ok": False}
    assert run.result["approvers"] == ["a1", "a2"]


def test_forged_or_wrong_action_links_are_forbidden(live, api):
    run_id = start(api, approval_flow())
    links = suspended(api, run_id)["suspended"]
    resume_path = urlsplit(links["resume_url"]).path
    token = resume_path.rsplit("/", 1)[1]
    forged = resume_path[:-4] + ("AAAA" if not resume_path.endswith("AAAA") else "BBBB")
    assert Client().post(forged, "{}", content_type="application/json").status_code == 403
    assert Client().post(f"/api/approvals/cancel/{token}").status_code == 403
    assert Run.objects.get(pk=run_id).status == "suspended"


def test_payload_failing_the_resume_form_is_rejected_with_its_path(live, api):
    run_id = start(api, approval_flow(resume_form={"schema": FORM}))
    links = suspended(api, run_id)["suspended"]
    response = Client().post(local(links["resume_url"]), json.dumps({"ok": "yes"}), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/payload/ok"
    assert Run.objects.get(pk=run_id).status == "suspended"
    assert Client().post(local(links["resume_url"]), json.dumps({"ok": True}),
                         content_type="application/json").status_code == 200


def test_user_auth_required_refuses_anonymous_and_accepts_a_logged_in_user(live, api, other_user):
    run_id = start(api, approval_flow(user_auth_required=True))
    links = suspended(api, run_id)["suspended"]
    assert Client().post(local(links["resume_url"]), "{}", content_type="application/json").status_code == 403
    browser = Client()
    browser.force_login(other_user)
    assert browser.post(local(links["resume_url"]), "{}", content_type="application/json").status_code == 200
    assert final(run_id).result["approvers"] == ["bob"]


def test_self_approval_disabled_refuses_the_runs_creator(live, api, user, other_user):
    run_id = start(api, approval_flow(self_approval_disabled=True, user_auth_required=True))
    links = suspended(api, run_id)["suspended"]
    creator = Client()
    creator.force_login(user)
    assert creator.post(local(links["resume_url"]), "{}", content_type="application/json").status_code == 403
    someone_else = Client()
    someone_else.force_login(other_user)
    assert someone_else.post(local(links["resume_url"]), "{}", content_type="application/json").status_code == 200


def test_approval_page_renders_without_login_and_says_when_used(live, api):
    run_id = start(api, approval_flow(resume_form={"schema": FORM}))
    links = suspended(api, run_id)["suspended"]
    page = Client().get(local(links["approval_page_url"]))
    assert page.status_code == 200
    assert b'data-page="approval"' in page.content
    props = json.loads(page.content.split(b'id="app-props" type="application/json">')[1].split(b"</script>")[0])
    assert props["state"] == "pending" and props["resume_form"] == FORM
    assert Client().post(local(props["resume_url"]), '{"ok": true}', content_type="application/json").status_code == 200
    final(run_id)
    later = Client().get(local(links["approval_page_url"]))
    assert later.status_code == 410


def test_whole_run_cancel_while_suspended_gives_canceled(live, api):
    run_id = start(api, approval_flow())
    suspended(api, run_id)
    response = api.post(f"/api/runs/{run_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert response.json()["result"]["error"]["name"] == "Canceled"


def test_suspended_view_lists_who_approved_so_far(live, api):
    run_id = start(api, approval_flow(required_events=2))
    first = suspended(api, run_id)["suspended"]
    assert first["approvers"] == []
    Client().post(local(first["resume_url"]) + "?approver=erin", "{}", content_type="application/json")
    second = wait_for(lambda: (s := suspended(api, run_id)["suspended"])["received_events"] == 1 and s,
                      message="one approval recorded")
    assert second["approvers"] == ["erin"]
