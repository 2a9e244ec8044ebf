"""CSRF on session-authenticated writes and the WebSocket Origin check (issue 8, "Security").

Session (browser) writes need the CSRF token; token-authenticated clients don't (no cookie, so no
CSRF risk). Signed approval links take no CSRF token on purpose: the signature in the URL is the
credential (runs.api.SessionUserWithoutCsrf). The WebSocket goes through the real ASGI application,
where AllowedHostsOriginValidator refuses a foreign or missing Origin before any consumer code runs.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from editor.flowstore import create_flow
from editor.models import Flow, Script
from runs.models import Run
from tests.fixtures_flows import fast_passwords, minimal_flow  # noqa: F401 - fixture

FLOW = "u/alice/csrf"


@pytest.fixture
def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def alice_flow(user):
    return create_flow(FLOW, minimal_flow(), user)


def csrf_token(client: Client) -> str:
    client.get("/flows/")  # any page sets the csrftoken cookie
    return client.cookies["csrftoken"].value


WRITES = [
    ("post", "/api/flows/", {**minimal_flow(), "path": "u/alice/new"}),
    ("put", f"/api/flows/{FLOW}", minimal_flow(summary="changed")),
    ("patch", f"/api/flows/{FLOW}", {"summary": "changed"}),
    ("delete", f"/api/flows/{FLOW}", None),
    ("post", f"/api/flows/{FLOW}/share", {"users": ["bob"]}),
    ("post", f"/api/flows/{FLOW}/runs", {"args": {}}),
    ("post", "/api/runs/", {"flow": minimal_flow(), "args": {}}),
    ("post", "/api/scripts/", {"path": "u/alice/s", "language": "bash", "content": "echo 1"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method,url,body", WRITES, ids=[f"{m} {u}" for m, u, _ in WRITES])
def test_session_write_without_csrf_token_is_403_and_changes_nothing(csrf_client, alice_flow, other_user,
                                                                    method, url, body):
    before = (Flow.objects.count(), Run.objects.count(), Script.objects.count(), alice_flow.versions.count())
    response = getattr(csrf_client, method)(url, body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"][0]["message"]
    after = (Flow.objects.count(), Run.objects.count(), Script.objects.count(), alice_flow.versions.count())
    assert after == before
    assert Flow.objects.get(path=FLOW).summary == "Minimal"


@pytest.mark.django_db
def test_run_cancel_without_csrf_token_is_403(csrf_client, user):
    run = Run.objects.create(snapshot=minimal_flow(), args={}, created_by=user)
    assert csrf_client.post(f"/api/runs/{run.pk}/cancel").status_code == 403
    assert Run.objects.get(pk=run.pk).status == "queued"


@pytest.mark.django_db
def test_session_write_with_the_csrf_token_is_accepted(csrf_client, alice_flow):
    token = csrf_token(csrf_client)
    response = csrf_client.patch(f"/api/flows/{FLOW}", {"summary": "ok"}, content_type="application/json",
                                 HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


@pytest.mark.django_db
def test_csrf_token_from_another_session_is_refused(csrf_client, alice_flow, other_user):
    stranger = Client(enforce_csrf_checks=True)
    stranger.force_login(other_user)
    foreign = csrf_token(stranger)
    response = csrf_client.patch(f"/api/flows/{FLOW}", {"summary": "x"}, content_type="application/json",
                                 HTTP_X_CSRFTOKEN=foreign)
    assert response.status_code == 403


@pytest.mark.django_db
def test_token_authenticated_write_needs_no_csrf_token(user, alice_flow):
    key = Token.objects.create(user=user).key
    client = Client(enforce_csrf_checks=True)
    response = client.patch(f"/api/flows/{FLOW}", {"summary": "tok"}, content_type="application/json",
                            HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


@pytest.mark.django_db
def test_login_form_without_csrf_token_is_403(user):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_logout_without_csrf_token_keeps_the_session(csrf_client):
    assert csrf_client.post("/logout/").status_code == 403
    assert csrf_client.get("/flows/").status_code == 200


# --- WebSocket origin ---------------------------------------------------------------------------------------

def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(run_id, headers):
    from openflow_site.asgi import application

    communicator = WebsocketCommunicator(application, f"/ws/runs/{run_id}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@pytest.fixture
def watched(user):
    run = Run.objects.create(snapshot=minimal_flow(), args={}, created_by=user)
    return run, _session_cookie(user)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_with_same_origin_and_session_connects(watched):
    run, cookie = watched
    comm, connected, _ = await _connect(run.pk, [(b"origin", b"http://localhost"), (b"cookie", cookie)])
    assert connected
    await comm.send_json_to({"type": "ping"})
    assert await comm.receive_json_from(timeout=5) == {"type": "pong"}
    await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_with_a_foreign_origin_is_refused_even_with_a_valid_session(watched):
    run, cookie = watched
    comm, connected, _ = await _connect(run.pk, [(b"origin", b"http://evil.example"), (b"cookie", cookie)])
    assert not connected
    await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_origin_that_only_looks_alike_is_refused(watched):
    run, cookie = watched
    for origin in (b"http://localhost.evil.example", b"http://evil.example/localhost", b"null"):
        comm, connected, _ = await _connect(run.pk, [(b"origin", origin), (b"cookie", cookie)])
        assert not connected, origin
        await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_without_an_origin_is_refused(watched):
    run, cookie = watched
    comm, connected, _ = await _connect(run.pk, [(b"cookie", cookie)])
    assert not connected
    await comm.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_without_a_session_is_closed_4401(watched):
    run, _ = watched
    comm, connected, _ = await _connect(run.pk, [(b"origin", b"http://localhost")])
    assert connected  # accepted, then closed with the application code the page understands
    assert (await comm.receive_output(timeout=5))["code"] == 4401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_websocket_for_someone_elses_run_is_closed_4403(watched, other_user):
    run, _ = watched
    cookie = await sync_to_async(_session_cookie)(other_user)
    comm, connected, _ = await _connect(run.pk, [(b"origin", b"http://localhost"), (b"cookie", cookie)])
    assert connected
    assert (await comm.receive_output(timeout=5))["code"] == 4403
