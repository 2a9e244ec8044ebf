"""Signed approval links under attack (issue 8, "Approval links").

tests/test_approvals_live.py covers, with a worker: an appended-garbage signature (403), a resume
token on the cancel URL (403), a replayed resume link (410), user_auth_required and
self_approval_disabled with a logged-in approver. This file adds the rest without a worker: the
run is suspended by calling the orchestrator directly (dispatch waits for a commit that a
non-transactional test never makes, so nothing is sent to Celery).
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core import signing as django_signing
from django.test import Client

from runs import signing
from runs.models import Run
from runs.orchestrator import apply_event
from runs.presenter import run_detail
from tests.fixtures_flows import fast_passwords  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def approval_flow(**suspend) -> dict:
    return {"summary": "needs approval", "value": {"modules": [
        {"id": "a", "value": {"type": "identity"}, "suspend": {"required_events": 1, "timeout": 120, **suspend}},
        {"id": "b", "value": {"type": "identity"}},
    ]}}


def suspended_run(user, **suspend) -> tuple[Run, dict]:
    run = Run.objects.create(snapshot=approval_flow(**suspend), args={"n": 1}, created_by=user)
    apply_event(run.pk, {"type": "RunStarted", "args": {"n": 1}, "now": time.time()})
    run.refresh_from_db()
    assert run.status == "suspended"
    return run, run_detail(run, None)["suspended"]


def path_of(url: str) -> str:
    return urlsplit(url).path


def token_of(url: str) -> str:
    return path_of(url).rsplit("/", 1)[1]


def post(url: str, client: Client | None = None, body: str = "{}"):
    return (client or Client()).post(url, body, content_type="application/json")


def assert_refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.content
    assert words in response.json()["errors"][0]["message"]


# --- signatures -----------------------------------------------------------------------------------------

def test_resume_link_with_a_forged_signature_is_403(user):
    run, links = suspended_run(user)
    token = token_of(links["resume_url"])
    body, sig = token.rsplit(":", 1)
    forged = body + ":" + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert_refused(post(f"/api/approvals/resume/{forged}"), 403, "signature")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_token_signed_with_another_key_is_403(user, settings):
    run, _ = suspended_run(user)
    body = {"r": str(run.pk), "s": "a", "i": 0, "a": "resume", "e": None}
    other = django_signing.dumps(body, key="not-the-server-key", salt=signing.SALT, compress=True)
    assert_refused(post(f"/api/approvals/resume/{other}"), 403, "signature")


def test_token_with_the_right_key_but_another_salt_is_403(user):
    run, _ = suspended_run(user)
    body = {"r": str(run.pk), "s": "a", "i": 0, "a": "resume", "e": None}
    other = django_signing.dumps(body, salt="some.other.feature")
    assert_refused(post(f"/api/approvals/resume/{other}"), 403, "signature")


def test_tampered_payload_in_the_token_is_403(user):
    """Change the run id inside a valid token, keep its signature."""
    victim, _ = suspended_run(user)
    other, links = suspended_run(user)
    token = token_of(links["resume_url"])
    payload, stamp, sig = token.split(":")
    body = {"r": str(victim.pk), "s": "a", "i": 0, "a": "resume", "e": None}
    tampered = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")
    assert_refused(post(f"/api/approvals/resume/{tampered}:{stamp}:{sig}"), 403, "signature")
    assert Run.objects.get(pk=victim.pk).status == "suspended"


def test_tampered_expiry_in_the_token_is_403(user):
    run, _ = suspended_run(user)
    expired = signing.make_token(signing.ApprovalLink(str(run.pk), "a", 0, "resume", time.time() - 5))
    payload, stamp, sig = expired.split(":")
    body = {"r": str(run.pk), "s": "a", "i": 0, "a": "resume", "e": time.time() + 3600}
    longer = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert_refused(post(f"/api/approvals/resume/{longer}:{stamp}:{sig}"), 403, "signature")


def test_garbage_tokens_are_403_not_500(user):
    for junk in ("x", ":::", "." * 50, "a" * 2000, "%00", "eyJ9"):
        response = Client().post(f"/api/approvals/resume/{junk}", "{}", content_type="application/json")
        assert response.status_code == 403, (junk, response.status_code)
        assert Client().get(f"/approve/{junk}").status_code == 403


# --- wrong action ------------------------------------------------------------------------------------------

def test_cancel_link_used_as_resume_is_403(user):
    run, links = suspended_run(user)
    assert_refused(post(f"/api/approvals/resume/{token_of(links['cancel_url'])}"), 403, "not a resume link")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_page_token_used_as_resume_or_cancel_is_403(user):
    run, links = suspended_run(user)
    page = token_of(links["approval_page_url"])
    assert_refused(post(f"/api/approvals/resume/{page}"), 403, "not a resume link")
    assert_refused(post(f"/api/approvals/cancel/{page}"), 403, "not a cancel link")


def test_resume_token_on_the_approval_page_is_403(user):
    _, links = suspended_run(user)
    assert Client().get(f"/approve/{token_of(links['resume_url'])}").status_code == 403


# --- another run, another step -----------------------------------------------------------------------------

def test_a_valid_link_only_acts_on_the_run_it_names(user):
    first, first_links = suspended_run(user)
    second, _ = suspended_run(user)
    assert post(path_of(first_links["resume_url"])).status_code == 200
    assert Run.objects.get(pk=second.pk).status == "suspended"


def test_link_for_a_step_that_is_not_waiting_is_410(user):
    run, _ = suspended_run(user)
    token = signing.make_token(signing.ApprovalLink(str(run.pk), "b", 0, "resume", None))
    assert_refused(post(f"/api/approvals/resume/{token}"), 410, "no longer waiting")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_link_for_a_run_that_does_not_exist_is_410(user):
    token = signing.make_token(signing.ApprovalLink("00000000-0000-4000-8000-000000000000", "a", 0, "resume", None))
    assert_refused(post(f"/api/approvals/resume/{token}"), 410, "no longer exists")


def test_links_for_a_finished_run_are_410(user):
    run, links = suspended_run(user)
    apply_event(run.pk, {"type": "CancelReceived", "reason": "x", "canceler": "alice", "now": time.time()})
    assert_refused(post(path_of(links["resume_url"])), 410, "already finished")
    assert_refused(post(path_of(links["cancel_url"])), 410, "already finished")
    assert Client().get(path_of(links["approval_page_url"])).status_code == 410


# --- expiry and replay --------------------------------------------------------------------------------------

def test_expired_resume_link_is_410(user):
    run, _ = suspended_run(user)
    token = signing.make_token(signing.ApprovalLink(str(run.pk), "a", 0, "resume", time.time() - 1))
    assert_refused(post(f"/api/approvals/resume/{token}"), 410, "expired")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_expired_cancel_link_is_410(user):
    run, _ = suspended_run(user)
    token = signing.make_token(signing.ApprovalLink(str(run.pk), "a", 0, "cancel", time.time() - 1))
    assert_refused(post(f"/api/approvals/cancel/{token}"), 410, "expired")


def test_expired_approval_page_is_410(user):
    run, _ = suspended_run(user)
    token = signing.make_token(signing.ApprovalLink(str(run.pk), "a", 0, "page", time.time() - 1))
    assert Client().get(f"/approve/{token}").status_code == 410


def test_replayed_cancel_link_is_410(user):
    run, links = suspended_run(user)
    assert post(path_of(links["cancel_url"])).status_code == 200
    assert post(path_of(links["cancel_url"])).status_code == 410


def test_replayed_resume_link_over_get_is_410(user):
    run, links = suspended_run(user, required_events=2)
    url = path_of(links["resume_url"])
    assert Client().get(url).status_code == 200
    assert_refused(Client().get(url), 410, "already used")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_cancel_after_the_resume_link_was_used_is_410(user):
    run, links = suspended_run(user)
    assert post(path_of(links["resume_url"])).status_code == 200
    assert post(path_of(links["cancel_url"])).status_code == 410


# --- approval conditions ----------------------------------------------------------------------------------

def test_user_auth_required_refuses_an_anonymous_get_too(user):
    run, links = suspended_run(user, user_auth_required=True)
    assert_refused(Client().get(path_of(links["resume_url"])), 403, "Log in")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_user_auth_required_page_is_403_for_anonymous(user):
    _, links = suspended_run(user, user_auth_required=True)
    assert Client().get(path_of(links["approval_page_url"])).status_code == 403


def test_self_approval_disabled_refuses_the_creator_over_get(user):
    run, links = suspended_run(user, self_approval_disabled=True)
    creator = Client()
    creator.force_login(user)
    assert_refused(creator.get(path_of(links["resume_url"])), 403, "You started this run")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_self_approval_disabled_needs_a_login_so_the_creator_cannot_approve_anonymously(user):
    run, links = suspended_run(user, self_approval_disabled=True)
    assert_refused(post(path_of(links["resume_url"])), 403, "Log in")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_self_approval_disabled_lets_another_user_approve(user, other_user):
    run, links = suspended_run(user, self_approval_disabled=True)
    approver = Client()
    approver.force_login(other_user)
    assert post(path_of(links["resume_url"]), approver).status_code == 200
    assert Run.objects.get(pk=run.pk).status != "suspended"


def test_approver_query_parameter_cannot_impersonate_under_self_approval(user, other_user):
    """?approver=bob does not make alice someone else."""
    run, links = suspended_run(user, self_approval_disabled=True)
    creator = Client()
    creator.force_login(user)
    assert post(path_of(links["resume_url"]) + "?approver=bob", creator).status_code == 403


def test_user_groups_required_refuses_a_non_member(user, other_user):
    run, links = suspended_run(user, user_groups_required={"type": "static", "value": ["approvers"]})
    outsider = Client()
    outsider.force_login(other_user)
    assert_refused(post(path_of(links["resume_url"]), outsider), 403, "approvers")
    assert_refused(post(path_of(links["resume_url"])), 403, "Log in")
    assert Run.objects.get(pk=run.pk).status == "suspended"


def test_user_groups_required_accepts_a_member(user, other_user):
    run, links = suspended_run(user, user_groups_required={"type": "static", "value": ["approvers"]})
    other_user.groups.add(Group.objects.create(name="approvers"))
    member = Client()
    member.force_login(other_user)
    assert post(path_of(links["resume_url"]), member).status_code == 200
