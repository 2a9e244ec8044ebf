"""Flows API: CRUD by path, validation on save, validate action, bad input, OpenAPI schema."""

from __future__ import annotations

import copy
import json
import time

import pytest
import yaml

from editor.models import Flow, FlowVersion
from tests.fixtures_flows import (  # noqa: F401 - fast_passwords is an autouse fixture
    example_names,
    fast_passwords,
    invalid_names,
    js_checking_available,
    load_example,
    minimal_flow,
)

pytestmark = pytest.mark.django_db

URL = "/api/flows/"


def create(api, path="f/demo/minimal", flow=None):
    return api.post(URL, {**(flow or minimal_flow()), "path": path}, format="json")


def error_paths(response) -> set[str]:
    return {e["path"] for e in response.json()["errors"]}


# --- create / get / update / delete ------------------------------------------------------------


def test_create_returns_201_with_the_flow_and_path(api):
    response = create(api)
    assert response.status_code == 201
    assert response.json() == {**minimal_flow(), "path": "f/demo/minimal"}
    assert response["Location"] == "/api/flows/f/demo/minimal"


def test_create_stores_openflow_without_path_and_summary_column(api, user):
    create(api)
    flow = Flow.objects.get(path="f/demo/minimal")
    assert flow.openflow == minimal_flow()
    assert flow.summary == "Minimal"
    assert flow.owner == user


def test_create_makes_version_1(api):
    create(api)
    versions = FlowVersion.objects.filter(flow__path="f/demo/minimal")
    assert [v.number for v in versions] == [1]


def test_get_returns_exactly_what_was_saved_plus_path(api):
    flow = minimal_flow(extra_windmill_field={"kept": [1, 2]}, ws_error_handler_muted=False)
    create(api, flow=flow)
    response = api.get(URL + "f/demo/minimal")
    assert response.status_code == 200
    assert response.json() == {**flow, "path": "f/demo/minimal"}
    assert response["X-Flow-Version"] == "1"


@pytest.mark.parametrize("name", example_names())
def test_every_example_flow_round_trips_through_put_and_get(api, name):
    example = load_example(name)
    path = example.get("path") or f"f/examples/{name}"
    assert create(api, path=path, flow={k: v for k, v in example.items() if k != "path"}).status_code == 201
    response = api.put(URL + path, example, format="json")
    assert response.status_code == 200, response.json()
    got = api.get(URL + path).json()
    expected = {**example, "path": path}
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_put_replaces_the_flow_and_adds_a_version(api):
    create(api)
    changed = minimal_flow(summary="Changed")
    response = api.put(URL + "f/demo/minimal", changed, format="json")
    assert response.status_code == 200
    assert response.json()["summary"] == "Changed"
    assert response["X-Flow-Version"] == "2"
    assert Flow.objects.get(path="f/demo/minimal").summary == "Changed"


def test_put_drops_keys_not_sent(api):
    create(api, flow=minimal_flow(description="old"))
    body = minimal_flow()
    del body["description"]
    api.put(URL + "f/demo/minimal", body, format="json")
    assert "description" not in api.get(URL + "f/demo/minimal").json()


def test_patch_merges_top_level_keys(api):
    create(api)
    response = api.patch(URL + "f/demo/minimal", {"summary": "Patched"}, format="json")
    assert response.status_code == 200
    assert response.json() == {**minimal_flow(summary="Patched"), "path": "f/demo/minimal"}


def test_patch_is_validated_like_a_put(api):
    create(api)
    response = api.patch(URL + "f/demo/minimal", {"value": {"modules": "nope"}}, format="json")
    assert response.status_code == 400
    assert "/value/modules" in error_paths(response)


def test_put_with_a_different_path_in_the_body_is_refused(api):
    create(api)
    response = api.put(URL + "f/demo/minimal", {**minimal_flow(), "path": "f/demo/other"}, format="json")
    assert response.status_code == 400
    assert error_paths(response) == {"/path"}


def test_put_with_stale_if_match_gets_412_and_changes_nothing(api):
    create(api)
    api.put(URL + "f/demo/minimal", minimal_flow(summary="v2"), format="json")
    response = api.put(URL + "f/demo/minimal", minimal_flow(summary="v3"), format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert Flow.objects.get(path="f/demo/minimal").summary == "v2"


def test_put_with_current_if_match_succeeds(api):
    create(api)
    etag = api.get(URL + "f/demo/minimal")["ETag"]
    response = api.put(URL + "f/demo/minimal", minimal_flow(summary="v2"), format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200


def test_delete_removes_flow_and_versions(api):
    create(api)
    assert api.delete(URL + "f/demo/minimal").status_code == 204
    assert api.get(URL + "f/demo/minimal").status_code == 404
    assert not FlowVersion.objects.exists()


def test_get_unknown_path_is_404_with_errors(api):
    response = api.get(URL + "f/demo/missing")
    assert response.status_code == 404
    assert response.json()["errors"]


def test_create_at_existing_path_is_409(api):
    create(api)
    response = create(api)
    assert response.status_code == 409
    assert error_paths(response) == {"/path"}


def test_unauthenticated_requests_are_refused(client):
    assert client.get(URL).status_code in (401, 403)


# --- list ----------------------------------------------------------------------------------------


def test_list_is_paginated_with_metadata(api):
    create(api, "f/a/one", minimal_flow(summary="One", description="first"))
    response = api.get(URL)
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    item = body["results"][0]
    assert item["path"] == "f/a/one"
    assert item["summary"] == "One"
    assert item["description"] == "first"
    assert item["owner"] == "alice"
    assert item["version"] == 1
    assert "updated_at" in item


def test_list_filters_by_path_prefix(api):
    create(api, "f/a/one")
    create(api, "f/b/two")
    paths = [f["path"] for f in api.get(URL, {"path_prefix": "f/b/"}).json()["results"]]
    assert paths == ["f/b/two"]


def test_list_searches_summary_and_path(api):
    create(api, "f/a/one", minimal_flow(summary="Nightly ETL"))
    create(api, "f/b/two", minimal_flow(summary="Other"))
    create(api, "f/etl/three", minimal_flow(summary="Third"))
    paths = [f["path"] for f in api.get(URL, {"search": "etl"}).json()["results"]]
    assert paths == ["f/a/one", "f/etl/three"]


def test_list_pages_hold_50(api, user):
    for i in range(55):
        Flow.objects.create(path=f"f/many/f{i:02}", openflow=minimal_flow(), owner=user)
    first = api.get(URL).json()
    assert first["count"] == 55 and len(first["results"]) == 50 and first["next"]


def test_list_page_size_can_be_chosen(api, user):
    for i in range(5):
        Flow.objects.create(path=f"f/many/f{i}", openflow=minimal_flow(), owner=user)
    assert len(api.get(URL, {"page_size": 2}).json()["results"]) == 2


# --- path rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["", "flow", "x/folder/name", "f/folder", "f/fol der/name", "f//name", "hub/123/x", "f/a/versions", "f/a/runs/x"],
)
def test_invalid_paths_are_400_at_path(api, path):
    response = create(api, path=path)
    assert response.status_code == 400
    assert "/path" in error_paths(response)
    assert not Flow.objects.exists()


def test_missing_path_is_400_at_path(api):
    response = api.post(URL, minimal_flow(), format="json")
    assert response.status_code == 400
    assert error_paths(response) == {"/path"}


def test_saving_in_another_users_folder_is_refused(api):
    response = create(api, path="u/bob/mine")
    assert response.status_code == 400
    assert error_paths(response) == {"/path"}


def test_saving_in_own_user_folder_is_allowed(api):
    assert create(api, path="u/alice/mine").status_code == 201


def test_path_and_flow_errors_are_reported_together(api):
    flow = minimal_flow()
    flow["value"]["modules"][1]["id"] = "a"
    response = create(api, path="nope", flow=flow)
    assert {"/path", "/value/modules/0/id", "/value/modules/1/id"} <= error_paths(response)


# --- validation on save ----------------------------------------------------------------------------


def test_unknown_module_type_is_400_with_pointer(api):
    flow = minimal_flow()
    flow["value"]["modules"][0]["value"] = {"type": "teleport"}
    response = create(api, flow=flow)
    assert response.status_code == 400
    assert error_paths(response) == {"/value/modules/0/value/type"}


def test_wrong_types_are_400_with_pointers(api):
    flow = minimal_flow(summary=5)
    flow["value"]["modules"][0]["value"]["input_transforms"] = []
    response = create(api, flow=flow)
    assert response.status_code == 400
    assert {"/summary", "/value/modules/0/value/input_transforms"} <= error_paths(response)


def test_duplicate_ids_are_400_at_both_ids(api):
    flow = minimal_flow()
    flow["value"]["modules"][1]["id"] = "a"
    response = create(api, flow=flow)
    assert response.status_code == 400
    assert {"/value/modules/0/id", "/value/modules/1/id"} <= error_paths(response)


def test_dangling_result_reference_is_400(api):
    flow = minimal_flow()
    flow["value"]["modules"][1]["value"]["input_transforms"]["y"]["expr"] = "results.nope"
    response = create(api, flow=flow)
    assert response.status_code == 400
    assert error_paths(response) == {"/value/modules/1/value/input_transforms/y/expr"}


@pytest.mark.skipif(not js_checking_available(), reason="mini-racer syntax checking unavailable")
def test_javascript_syntax_error_is_400(api):
    flow = minimal_flow()
    flow["value"]["modules"][0]["value"]["input_transforms"]["x"]["expr"] = "flow_input.x +"
    response = create(api, flow=flow)
    assert response.status_code == 400
    assert error_paths(response) == {"/value/modules/0/value/input_transforms/x/expr"}
    assert "syntax" in response.json()["errors"][0]["message"].lower()


@pytest.mark.parametrize("name", invalid_names())
def test_every_invalid_example_is_rejected_with_its_expected_paths(api, name):
    from tests.fixtures_flows import FLOWS_DIR

    sidecar = json.loads((FLOWS_DIR / "invalid" / f"{name}.errors.json").read_text())
    if sidecar.get("needs_check_js") and not js_checking_available():
        pytest.skip("mini-racer syntax checking unavailable")
    flow = json.loads((FLOWS_DIR / "invalid" / f"{name}.json").read_text())
    if isinstance(flow, dict):
        response = create(api, path=f"f/invalid/{name}", flow=flow)
        assert error_paths(response) == set(sidecar["expected_errors"])
    else:
        response = api.post(URL, flow, format="json")
        assert response.json()["errors"]
    assert response.status_code == 400
    assert not Flow.objects.exists()


def test_rejected_put_changes_nothing(api):
    create(api)
    before = api.get(URL + "f/demo/minimal").json()
    broken = minimal_flow(summary="Broken")
    broken["value"]["modules"][1]["id"] = "a"
    response = api.put(URL + "f/demo/minimal", broken, format="json")
    assert response.status_code == 400
    assert api.get(URL + "f/demo/minimal").json() == before
    assert Flow.objects.get(path="f/demo/minimal").summary == "Minimal"
    assert FlowVersion.objects.count() == 1


def test_rejected_patch_changes_nothing(api):
    create(api)
    response = api.patch(URL + "f/demo/minimal", {"summary": 12}, format="json")
    assert response.status_code == 400
    assert FlowVersion.objects.count() == 1
    assert Flow.objects.get(path="f/demo/minimal").openflow == minimal_flow()


# --- malformed bodies --------------------------------------------------------------------------------


def test_malformed_json_is_400_with_a_message(api):
    response = api.post(URL, data='{"summary": "x", "value": {', content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["errors"][0]["message"]


def test_malformed_json_on_put_is_400_and_changes_nothing(api):
    create(api)
    response = api.put(URL + "f/demo/minimal", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert FlowVersion.objects.count() == 1


def test_nan_is_not_json(api):
    body = '{"path": "f/demo/x", "summary": "s", "value": {"modules": []}, "schema": NaN}'
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400


def test_invalid_utf8_body_is_400(api):
    response = api.post(URL, data=b'{"summary": "\xff"}', content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("body", ["[]", '"a string"', "42", "null"])
def test_non_object_body_is_400(api, body):
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_form_encoded_body_is_415(api):
    response = api.post(URL, data="summary=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


# --- size and depth ------------------------------------------------------------------------------------


def big_flow(target_bytes: int) -> dict:
    """A valid flow of about ``target_bytes`` bytes: a chain of python steps reading the previous one."""
    filler = "# " + "x" * 400 + "\n"
    module_size = len(filler) + 180  # JSON size of one step below, give or take its id's digits
    count = max(1, target_bytes // module_size)
    modules = []
    for i in range(count):
        expr = f"results.s{i - 1}" if i else "flow_input.x"
        modules.append(
            {
                "id": f"s{i}",
                "value": {
                    "type": "rawscript",
                    "language": "python3",
                    "content": "def main(x):\n    return x\n" + filler,
                    "input_transforms": {"x": {"type": "javascript", "expr": expr}},
                },
            }
        )
    return {"summary": "big", "value": {"modules": modules}}


def test_a_10mb_flow_is_saved_in_reasonable_time(api, capsys):
    flow = big_flow(9_500_000)
    body = json.dumps({**flow, "path": "f/big/flow"})
    assert 9_000_000 < len(body) < 10_000_000
    started = time.perf_counter()
    response = api.post(URL, data=body, content_type="application/json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.content[:500]
    with capsys.disabled():
        print(f"\n10 MB flow ({len(body)} bytes, {len(flow['value']['modules'])} steps) saved in {elapsed:.2f} s")
    assert elapsed < 30
    assert api.get(URL + "f/big/flow").json()["value"] == flow["value"]


def test_a_10mb_flow_validates_in_reasonable_time(api, capsys):
    flow = big_flow(9_500_000)
    started = time.perf_counter()
    response = api.post(URL + "validate", {"flow": flow}, format="json")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.json()["errors"] == []
    with capsys.disabled():
        print(f"\n10 MB flow validated in {elapsed:.2f} s")
    assert elapsed < 30


def test_a_body_over_the_limit_is_413(api, settings):
    settings.MAX_PAYLOAD_BYTES = 10_000
    flow = minimal_flow(description="x" * 20_000)
    response = create(api, flow=flow)
    assert response.status_code == 413
    assert response.json()["errors"]
    assert not Flow.objects.exists()


def nested_loops_text(depth: int, path: str) -> str:
    """JSON text of ``depth`` nested for-loops (built as text: json.dumps would hit the recursion limit)."""
    inner = '[{"id": "leaf", "value": {"type": "identity"}}]'
    for i in range(depth):
        inner = (
            f'[{{"id": "loop{i}", "value": {{"type": "forloopflow", "skip_failures": false, '
            f'"iterator": {{"type": "javascript", "expr": "[1]"}}, "modules": {inner}}}}}]'
        )
    return f'{{"summary": "deep", "path": "{path}", "value": {{"modules": {inner}}}}}'


def test_100_nested_containers_are_saved_and_read_back(api):
    response = api.post(URL, data=nested_loops_text(100, "f/deep/ok"), content_type="application/json")
    assert response.status_code == 201
    value = api.get(URL + "f/deep/ok").json()["value"]
    for _ in range(101):  # 100 loops, then the leaf
        value = value["modules"][0]["value"]
    assert value == {"type": "identity"}


def test_error_path_inside_100_nested_containers_is_exact(api):
    text = nested_loops_text(100, "f/deep/bad").replace('"type": "identity"', '"type": "bogus"')
    response = api.post(URL, data=text, content_type="application/json")
    assert response.status_code == 400
    assert error_paths(response) == {"/value" + "/modules/0/value" * 101 + "/type"}


@pytest.mark.parametrize("depth", [200, 2000, 20000])
def test_absurdly_deep_flows_are_400_not_500(api, depth):
    response = api.post(URL, data=nested_loops_text(depth, "f/deep/no"), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["message"]


# --- validate action ----------------------------------------------------------------------------------


def test_validate_valid_flow_returns_empty_errors(api):
    response = api.post(URL + "validate", {"flow": minimal_flow()}, format="json")
    assert response.status_code == 200
    assert response.json()["errors"] == []


def test_validate_accepts_the_openflow_object_as_body(api):
    response = api.post(URL + "validate", minimal_flow(), format="json")
    assert response.status_code == 200
    assert response.json()["errors"] == []


def test_validate_reports_errors_without_saving(api):
    flow = minimal_flow()
    flow["value"]["modules"][0]["value"]["type"] = "teleport"
    response = api.post(URL + "validate", {"flow": flow}, format="json")
    assert response.status_code == 200
    assert {e["path"] for e in response.json()["errors"]} == {"/value/modules/0/value/type"}
    assert not Flow.objects.exists()


def test_validate_warns_about_scripts_missing_from_this_instance(api):
    flow = copy.deepcopy(load_example("saved_script_reference"))
    response = api.post(URL + "validate", {"flow": flow}, format="json")
    assert response.json()["errors"] == []
    assert [w["path"] for w in response.json()["warnings"]] == ["/value/modules/0/value/path"]


def test_validate_malformed_json_is_400(api):
    response = api.post(URL + "validate", data="{", content_type="application/json")
    assert response.status_code == 400


# --- routing / OpenAPI ------------------------------------------------------------------------------------


def test_paths_ending_in_runs_are_not_flow_details(api):
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/api/flows/f/demo/minimal/runs")
    except Resolver404:
        return
    assert match.url_name != "flow-detail"


def test_openapi_schema_lists_every_flow_and_script_endpoint(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    for expected in [
        "/api/flows/",
        "/api/flows/{path}",
        "/api/flows/validate",
        "/api/flows/{path}/versions",
        "/api/flows/{path}/versions/{number}",
        "/api/flows/{path}/versions/{number}/restore",
        "/api/flows/{path}/diff",
        "/api/flows/{path}/share",
        "/api/scripts/",
        "/api/scripts/{path}",
    ]:
        assert expected in paths, expected
    assert set(paths["/api/flows/{path}"]) >= {"get", "put", "patch", "delete"}


def test_openapi_schema_validates():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


# --- Django admin -----------------------------------------------------------------------------------------


def test_admin_flow_changelist_and_version_pages_load(admin_client, user):
    from editor.flowstore import create_flow

    flow = create_flow("f/demo/admin", minimal_flow(), user)
    assert admin_client.get("/admin/editor/flow/?q=admin").status_code == 200
    assert admin_client.get(f"/admin/editor/flow/{flow.pk}/change/").status_code == 200
    version = flow.versions.get()
    assert admin_client.get(f"/admin/editor/flowversion/{version.pk}/change/").status_code == 200
    assert admin_client.get("/admin/editor/script/").status_code == 200


def test_admin_save_validates_and_adds_a_version(admin_client, user):
    from editor.flowstore import create_flow

    flow = create_flow("f/demo/admin", minimal_flow(), user)
    form = {
        "path": "f/demo/admin",
        "owner": user.pk,
        "openflow": json.dumps(minimal_flow(summary="From admin")),
        "versions-TOTAL_FORMS": "1",
        "versions-INITIAL_FORMS": "1",
        "versions-0-id": flow.versions.get().pk,
        "versions-0-flow": flow.pk,
    }
    response = admin_client.post(f"/admin/editor/flow/{flow.pk}/change/", form)
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.summary == "From admin"
    assert flow.versions.count() == 2

    broken = minimal_flow()
    broken["value"]["modules"][1]["id"] = "a"
    response = admin_client.post(f"/admin/editor/flow/{flow.pk}/change/", {**form, "openflow": json.dumps(broken)})
    assert response.status_code == 200  # the form comes back with the errors
    assert b"duplicate module id" in response.content
    assert flow.versions.count() == 2


def test_admin_cannot_add_or_change_versions(admin_client):
    assert admin_client.get("/admin/editor/flowversion/add/").status_code == 403
