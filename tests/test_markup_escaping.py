"""User-supplied text stays text: flow summaries, descriptions, module summaries, args, results and
logs carrying <script> / <img onerror> are inert on every page (issue 8, "Security").

Server side: page props go through ``json_script`` (``<`` becomes ``\\u003C``), titles are
autoescaped, and module ids with markup are refused. Browser side (Chromium against the live stack
and a real worker): each payload would bump ``window.__xss`` or open a dialog if it ran; after the
flows list, the editor, the run page and the approval page have rendered it, neither happened and
the payload is visible as plain text.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from editor.flowstore import create_flow
from runs.models import Run
from runs.orchestrator import apply_event
from runs.presenter import run_detail
from tests.conftest import wait_for
from tests.e2e.conftest import log_in

IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
SCRIPT = "</script><script>window.__xss=(window.__xss||0)+1</script>"
SVG = '<svg onload="window.__xss=(window.__xss||0)+1"></svg>'
PAYLOAD = f"Pay {IMG} {SCRIPT} {SVG}"
RAW_MARKERS = (b"<img src=x", b"<script>window.__xss", b"<svg onload")
ALICE_PASSWORD = "alice-password-1"


def hostile_flow() -> dict:
    content = (
        "def main(x):\n"
        f"    print({PAYLOAD!r})\n"
        f"    return {{'html': {PAYLOAD!r}, {PAYLOAD!r}: x}}\n"
    )
    return {
        "summary": PAYLOAD,
        "description": PAYLOAD,
        "value": {"modules": [
            {"id": "a", "summary": PAYLOAD, "value": {
                "type": "rawscript", "language": "python3", "content": content,
                "input_transforms": {"x": {"type": "javascript", "expr": "flow_input.x"}}}},
            {"id": "b", "summary": PAYLOAD, "value": {"type": "identity"},
             "suspend": {"required_events": 1, "timeout": 300}},
        ]},
        "schema": {"type": "object", "properties": {"x": {"type": "string", "description": PAYLOAD}}},
    }


def assert_inert(html: bytes) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, marker
    assert html.count(b"</script>") == html.count(b"<script")  # no tag closed early by a payload


# --- server-rendered HTML ------------------------------------------------------------------------------

@pytest.fixture
def hostile(user):
    flow = create_flow("u/alice/xss", hostile_flow(), user)
    run = Run.objects.create(flow=flow, flow_path=flow.path, snapshot=hostile_flow(), args={"x": PAYLOAD},
                             created_by=user)
    apply_event(run.pk, {"type": "RunStarted", "args": {"x": PAYLOAD}, "now": time.time()})
    apply_event(run.pk, {"type": "StepFinished", "job": "j1", "success": True, "now": time.time(), "rand": 0.5,
                         "result": {"html": PAYLOAD, PAYLOAD: PAYLOAD}})
    run.refresh_from_db()
    return run


@pytest.fixture
def alice(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_flows_list_page_html_is_inert(hostile, alice):
    assert_inert(alice.get("/flows/").content)


@pytest.mark.django_db
def test_editor_page_html_is_inert(hostile, alice):
    assert_inert(alice.get("/flows/u/alice/xss/edit").content)


@pytest.mark.django_db
def test_run_page_html_is_inert(hostile, alice):
    response = alice.get(f"/runs/{hostile.pk}")
    assert response.status_code == 200
    assert_inert(response.content)


@pytest.mark.django_db
def test_approval_page_html_is_inert_and_carries_the_payload_escaped(hostile):
    assert hostile.status == "suspended"
    links = run_detail(hostile, None)["suspended"]
    response = Client().get(links["approval_page_url"])
    assert response.status_code == 200
    assert_inert(response.content)
    assert b"\\u003Cimg src=x" in response.content  # the summary is there, as JSON-escaped data


@pytest.mark.django_db
def test_the_json_api_returns_the_payload_verbatim(hostile, api):
    """Escaping is the renderer's job: the API keeps user data byte for byte."""
    body = api.get(f"/api/runs/{hostile.pk}").json()
    assert body["args"] == {"x": PAYLOAD}
    assert api.get("/api/flows/u/alice/xss").json()["summary"] == PAYLOAD


@pytest.mark.django_db
def test_module_ids_with_markup_are_refused(api):
    flow = hostile_flow()
    flow["value"]["modules"][0]["id"] = IMG
    response = api.post("/api/flows/", {**flow, "path": "u/alice/bad-id"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"].startswith("/value/modules/0/id")


@pytest.mark.django_db
def test_run_title_with_markup_in_the_flow_path_is_impossible(api):
    response = api.post("/api/flows/", {**hostile_flow(), "path": "u/alice/<b>x</b>"}, format="json")
    assert response.status_code == 400


# --- in Chromium, against a real worker ---------------------------------------------------------------

@pytest.fixture
def watched_page(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


@pytest.fixture
def suspended_hostile_run(live, api, user):
    response = api.post("/api/flows/", {**hostile_flow(), "path": "u/alice/xss"}, format="json")
    assert response.status_code == 201, response.json()
    response = api.post("/api/flows/u/alice/xss/runs", {"args": {"x": PAYLOAD}}, format="json")
    assert response.status_code == 201, response.json()
    run_id = response.json()["id"]

    def suspended():
        body = api.get(f"/api/runs/{run_id}").json()
        return body if body["status"] == "suspended" else None

    return wait_for(suspended, timeout=30, message="the run to suspend")


def assert_nothing_ran(page) -> None:
    page.wait_for_timeout(300)  # let late image errors fire
    assert page.evaluate("window.__xss === undefined"), "an injected handler ran"
    assert page.dialogs == []




@pytest.mark.e2e
@pytest.mark.worker
def test_flows_list_shows_the_summary_as_text_in_chromium(watched_page, suspended_hostile_run):
    log_in(watched_page, "alice", ALICE_PASSWORD)
    watched_page.goto("/flows/")
    watched_page.get_by_text("window.__xss", exact=False).first.wait_for()
    assert_nothing_ran(watched_page)


@pytest.mark.e2e
@pytest.mark.worker
def test_editor_shows_summaries_as_text_in_chromium(watched_page, suspended_hostile_run):
    log_in(watched_page, "alice", ALICE_PASSWORD)
    watched_page.goto("/flows/u/alice/xss/edit")
    watched_page.get_by_text("window.__xss", exact=False).first.wait_for()
    watched_page.get_by_text("window.__xss", exact=False).first.click()  # open a node's side panel
    assert_nothing_ran(watched_page)


@pytest.mark.e2e
@pytest.mark.worker
def test_run_page_shows_results_logs_and_args_as_text_in_chromium(watched_page, suspended_hostile_run):
    log_in(watched_page, "alice", ALICE_PASSWORD)
    watched_page.goto(f"/runs/{suspended_hostile_run['id']}")
    watched_page.get_by_text("window.__xss", exact=False).first.wait_for()
    for text in watched_page.locator("text=/onerror/").all()[:5]:
        text.click(force=True)
    assert_nothing_ran(watched_page)


@pytest.mark.e2e
@pytest.mark.worker
def test_approval_page_shows_summaries_and_args_as_text_in_chromium(watched_page, suspended_hostile_run):
    watched_page.goto(urlsplit(suspended_hostile_run["suspended"]["approval_page_url"]).path)
    watched_page.get_by_text("window.__xss", exact=False).first.wait_for()
    assert_nothing_ran(watched_page)
