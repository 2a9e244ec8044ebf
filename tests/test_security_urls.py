"""Every URL pattern, walked anonymously and as a stranger (issue 8, "Security").

The walk builds one concrete URL per pattern of the real resolver (so a new route is covered the
day it is added) and checks it resolves back to that pattern. Anonymous: pages redirect to the
login page, the API answers 401/403, except the public allow-list below. As another user: any URL
naming alice's flow, script or run is a 404 (never 403, never 200), pages included.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from editor.flowstore import create_flow
from editor.models import Script
from runs import signing
from runs.models import Run
from tests.fixtures_flows import fast_passwords, minimal_flow  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

#: URL names anyone may open without logging in (the signed approval views check the signature).
PUBLIC = {"login", "healthz", "approval-page", "approval-resume", "approval-cancel"}
#: Django admin: its own login page guards it (redirect to /admin/login/).
ADMIN_LOGIN = "/admin/login/"

FLOW_PATH = "u/alice/secret-flow"
SCRIPT_PATH = "u/alice/secret-script"
RUN_ID = uuid.UUID("00000000-0000-4000-8000-00000000a11c")


def _patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _group_value(name: str, kind: str) -> str:
    token = signing.make_token(signing.ApprovalLink(str(RUN_ID), "a", 0, "page", None))
    samples = {
        "run_id": str(RUN_ID), "token": token, "number": "1", "object_id": "1", "content_type_id": "1",
        "id": "1", "app_label": "auth",
    }
    if name == "path":
        return SCRIPT_PATH if kind == "script" else FLOW_PATH
    return samples.get(name, "sample")


def _concrete(template: str) -> str:
    """One URL matching a route/regex template (named groups get sample values)."""
    kind = "script" if "scripts/" in template else "flow"
    out, i = [], 0
    while i < len(template):
        if template.startswith("(?P<", i):  # regex group: skip to its matching parenthesis
            name = template[i + 4:template.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(template[j], 0) if template[j - 1] != "\\" else 0
                if depth == 0:
                    break
                j += 1
            out.append(_group_value(name, kind))
            i = j + 1
        elif template[i] == "<":  # route converter <type:name> or <name>
            end = template.index(">", i)
            name = template[i + 1:end].split(":")[-1]
            out.append(_group_value(name, kind))
            i = end + 1
        elif template[i] in "^$":
            i += 1
        elif template[i] == "\\":
            out.append(template[i + 1])
            i += 2
        else:
            out.append(template[i])
            i += 1
    return "/" + "".join(out)


def all_urls() -> list[tuple[str, str, object]]:
    urls = []
    for template, pattern in _patterns(get_resolver().url_patterns):
        url = _concrete(template)
        urls.append((url, pattern.name or "", pattern))
    return urls


URLS = all_urls()


@pytest.fixture
def alice_things(user):
    create_flow(FLOW_PATH, minimal_flow(), user)
    Script.objects.create(path=SCRIPT_PATH, owner=user, language="python3", content="def main():\n    return 1\n")
    Run.objects.create(id=RUN_ID, snapshot=minimal_flow(), args={}, created_by=user)


def test_the_walk_covers_every_pattern_and_each_url_resolves_back_to_it():
    assert len(URLS) > 30
    for url, _name, pattern in URLS:
        match = resolve(url.split("?")[0])
        assert match.func is pattern.callback or match.func == pattern.callback, url


@pytest.mark.parametrize("url,name", [(u, n) for u, n, _ in URLS if u.startswith("/api/") and n not in PUBLIC])
def test_anonymous_api_request_is_refused(url, name, alice_things):
    client = Client()
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(client, method)(url, content_type="application/json")
        if response.status_code == 405:
            continue
        assert response.status_code in (401, 403), (method, url, response.status_code)
        if response["Content-Type"].startswith("application/json"):
            assert response.json()["errors"][0]["message"], (method, url)
        else:  # the schema / Swagger views refuse in their own format (YAML / HTML)
            assert response.content, (method, url)


@pytest.mark.parametrize("url,name", [
    (u, n) for u, n, _ in URLS if not u.startswith(("/api/", "/admin/", "/static/")) and n not in PUBLIC
])
def test_anonymous_page_redirects_to_login(url, name, alice_things):
    response = Client().get(url)
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith("/login/?next="), url


@pytest.mark.parametrize("url,name", [
    (u, n) for u, n, _ in URLS if u.startswith("/admin/") and n not in ("login", "jsi18n")
])
def test_anonymous_admin_page_redirects_to_a_login(url, name, alice_things):
    response = Client().get(url)
    assert response.status_code == 302, (url, response.status_code)
    assert response["Location"].startswith(("/login/", ADMIN_LOGIN)), url


def test_public_urls_are_exactly_the_allow_list(alice_things):
    open_urls = set()
    for url, name, _ in URLS:
        if url.startswith("/admin/"):
            continue
        status = Client().get(url).status_code
        if status not in (301, 302, 401, 403, 404, 405):
            open_urls.add(name)
    assert open_urls <= PUBLIC, open_urls - PUBLIC


def test_login_page_and_healthz_answer_anonymously(db):
    assert Client().get("/login/").status_code == 200
    assert Client().get("/healthz").status_code in (200, 503)  # open; 503 when no worker answers


def test_signed_approval_page_opens_without_login_but_a_forged_one_is_403(alice_things):
    run = Run.objects.get(pk=RUN_ID)
    token = signing.make_token(signing.ApprovalLink(str(run.pk), "a", 0, "page", time.time() + 60))
    assert Client().get(f"/approve/{token}").status_code in (200, 410)  # not suspended: 410, but no login
    assert Client().get(f"/approve/{token}x").status_code == 403


def test_static_files_need_no_login(db):
    response = Client().get("/static/editor/app.js")
    assert response.status_code == 200


# --- as another user: alice's objects do not exist ----------------------------------------------------

FOREIGN = [(u, n) for u, n, _ in URLS
           if (FLOW_PATH in u or SCRIPT_PATH in u or str(RUN_ID) in u) and not u.startswith("/admin/")
           and n not in PUBLIC]


def test_the_stranger_walk_covers_flows_scripts_and_runs():
    names = {n for _, n in FOREIGN}
    assert {"flow-detail", "flow-versions", "flow-runs", "script-detail", "run-detail", "run-cancel",
            "run-restart", "run-page", "flow-edit"} <= names


@pytest.mark.parametrize("url,name", FOREIGN)
def test_stranger_gets_404_for_someone_elses_object(url, name, alice_things, other_user):
    client = Client()
    client.force_login(other_user)
    for method in ("get", "post", "put", "patch", "delete"):
        body = {} if method == "get" else "{}"
        response = getattr(client, method)(url, data=body, content_type="application/json")
        if response.status_code == 405:
            continue
        assert response.status_code == 404, (method, url, response.status_code)


def test_owner_walk_gets_no_404_on_own_objects(alice_things, user):
    """The control for the stranger walk: the same URLs exist for their owner."""
    client = Client()
    client.force_login(user)
    for url, name in FOREIGN:
        if name in ("flow-restore", "flow-version-detail", "flow-diff"):
            continue  # version 1 exists; restore/diff of v1 is fine but not needed here
        assert client.get(url).status_code in (200, 405), url
