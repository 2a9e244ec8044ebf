"""The database goes away: the API answers 503 JSON, pages a 503 page, never a 500 (issue 8, "Faults").

Simulated by making every query fail with OperationalError the way a stopped PostgreSQL does
("connection refused"), after the test's own setup is done. The real outage (a stopped server,
runs resuming afterwards) is in the chaos command (python -m chaos, docs/reliability.md).
"""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends import utils as db_utils
from django.test import Client
from rest_framework.authtoken.models import Token

from editor.flowstore import create_flow
from runs.models import Run
from tests.fixtures_flows import fast_passwords, minimal_flow  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

DOWN = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'


@pytest.fixture
def clients(user):
    create_flow("u/alice/db", minimal_flow(), user)
    run = Run.objects.create(snapshot=minimal_flow(), args={}, created_by=user)
    token = Token.objects.create(user=user).key
    session = Client(raise_request_exception=False)
    session.force_login(user)
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token}")
    return {"session": session, "api": api, "run": run}


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError(DOWN)

    def install():
        for cls in (db_utils.CursorWrapper, db_utils.CursorDebugWrapper):
            monkeypatch.setattr(cls, "execute", refuse)
            monkeypatch.setattr(cls, "executemany", refuse)

    return install


def assert_api_503(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["message"] == "The database is unavailable; try again in a moment."
    assert response["Retry-After"]


@pytest.mark.parametrize("url", ["/api/flows/", "/api/flows/u/alice/db", "/api/runs/", "/api/scripts/"])
def test_api_get_with_a_token_is_503_json(clients, database_down, url):
    database_down()
    assert_api_503(clients["api"].get(url))


def test_api_write_with_a_token_is_503_json(clients, database_down):
    database_down()
    assert_api_503(clients["api"].post("/api/runs/", {"flow": minimal_flow(), "args": {}},
                                       content_type="application/json"))


def test_api_get_with_a_session_is_503_json(clients, database_down):
    database_down()
    assert_api_503(clients["session"].get("/api/flows/"))


def test_run_detail_is_503_json(clients, database_down):
    database_down()
    assert_api_503(clients["api"].get(f"/api/runs/{clients['run'].pk}"))


@pytest.mark.parametrize("url", ["/flows/", "/runs/", "/flows/u/alice/db/edit"])
def test_page_with_a_session_is_a_503_page(clients, database_down, url):
    database_down()
    response = clients["session"].get(url)
    assert response.status_code == 503, response.content[:300]
    assert b"The database is unavailable" in response.content
    assert b"Traceback" not in response.content


def test_run_page_is_a_503_page(clients, database_down):
    database_down()
    response = clients["session"].get(f"/runs/{clients['run'].pk}")
    assert response.status_code == 503


def test_login_page_post_is_a_503_page(clients, database_down):
    database_down()
    response = Client(raise_request_exception=False).post("/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 503


def test_approval_link_is_503_json(clients, database_down):
    from runs import signing

    token = signing.make_token(signing.ApprovalLink(str(clients["run"].pk), "a", 0, "resume", None))
    database_down()
    assert_api_503(Client(raise_request_exception=False).post(f"/api/approvals/resume/{token}"))


def test_healthz_reports_the_database_down_with_503(clients, database_down):
    database_down()
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_locked_sqlite_says_busy_not_unavailable(clients, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(db_utils.CursorWrapper, "execute", locked)
    monkeypatch.setattr(db_utils.CursorDebugWrapper, "execute", locked)
    response = clients["session"].get("/flows/")
    assert response.status_code == 503
    assert b"busy" in response.content
