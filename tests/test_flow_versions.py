"""Flow versions: one per save, list / get / restore, and the diff by module id."""

from __future__ import annotations

import copy

import pytest

from editor.flowstore import diff_openflows
from editor.models import FlowVersion
from tests.fixtures_flows import bob_api, fast_passwords, minimal_flow  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

FLOW = "/api/flows/f/demo/versions_test"


@pytest.fixture
def saved(api):
    assert api.post("/api/flows/", {**minimal_flow(), "path": "f/demo/versions_test"}, format="json").status_code == 201
    assert api.put(FLOW, minimal_flow(summary="Second"), format="json").status_code == 200
    return api


def test_every_save_adds_a_version(saved):
    saved.patch(FLOW, {"description": "third"}, format="json")
    assert list(FlowVersion.objects.values_list("number", flat=True)) == [3, 2, 1]


def test_version_list_is_newest_first_with_metadata(saved):
    body = saved.get(FLOW + "/versions").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert (first["number"], first["summary"], first["created_by"]) == (2, "Second", "alice")
    assert "created_at" in first


def test_version_detail_is_the_openflow_of_that_version(saved):
    response = saved.get(FLOW + "/versions/1")
    assert response.status_code == 200
    assert response.json() == {**minimal_flow(), "path": "f/demo/versions_test"}


def test_unknown_version_is_404(saved):
    assert saved.get(FLOW + "/versions/9").status_code == 404


def test_restore_creates_a_new_version_equal_to_the_old_one(saved):
    response = saved.post(FLOW + "/versions/1/restore")
    assert response.status_code == 201
    assert response.json()["number"] == 3
    assert response.json()["message"] == "restored version 1"
    assert saved.get(FLOW).json() == {**minimal_flow(), "path": "f/demo/versions_test"}
    assert FlowVersion.objects.get(number=3).openflow == FlowVersion.objects.get(number=1).openflow


def test_restore_of_unknown_version_is_404_and_changes_nothing(saved):
    assert saved.post(FLOW + "/versions/7/restore").status_code == 404
    assert FlowVersion.objects.count() == 2


def test_rejected_save_adds_no_version(saved):
    assert saved.patch(FLOW, {"value": {"modules": [{"id": "x"}]}}, format="json").status_code == 400
    assert FlowVersion.objects.count() == 2


def test_versions_of_an_invisible_flow_are_404(saved, bob_api):  # noqa: F811 - fixture
    assert bob_api.get(FLOW + "/versions").status_code == 404
    assert bob_api.get(FLOW + "/versions/1").status_code == 404
    assert bob_api.post(FLOW + "/versions/1/restore").status_code == 404


def test_diff_reports_changed_top_level_fields(saved):
    body = saved.get(FLOW + "/diff", {"from": 1, "to": 2}).json()
    assert (body["from"], body["to"]) == (1, 2)
    assert body["fields"] == [{"path": "/summary", "from": "Minimal", "to": "Second"}]
    assert body["added"] == body["removed"] == body["changed"] == []


def test_diff_defaults_to_the_last_two_versions(saved):
    body = saved.get(FLOW + "/diff").json()
    assert (body["from"], body["to"]) == (1, 2)


def test_diff_with_a_non_number_is_400(saved):
    response = saved.get(FLOW + "/diff", {"from": "abc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "/from"


def test_diff_with_an_unknown_version_is_404(saved):
    assert saved.get(FLOW + "/diff", {"from": 1, "to": 42}).status_code == 404


def test_diff_through_the_api_reports_added_removed_and_changed_modules(saved):
    flow = minimal_flow()
    flow["value"]["modules"][0]["value"]["content"] = "def main(x: int = 1):\n    return x + 2\n"
    flow["value"]["modules"][1] = {"id": "c", "value": {"type": "identity"}}
    saved.put(FLOW, flow, format="json")
    body = saved.get(FLOW + "/diff", {"from": 1, "to": 3}).json()
    assert body["added"] == [{"id": "c", "path": "/value/modules/1", "type": "identity"}]
    assert body["removed"] == [{"id": "b", "path": "/value/modules/1", "type": "rawscript"}]
    assert body["changed"] == [
        {
            "id": "a",
            "from_path": "/value/modules/0",
            "to_path": "/value/modules/0",
            "moved": False,
            "type": "rawscript",
            "fields": ["value/content"],
        }
    ]


def loop_flow():
    return {
        "summary": "loop",
        "value": {
            "modules": [
                {
                    "id": "loop",
                    "value": {
                        "type": "forloopflow",
                        "iterator": {"type": "javascript", "expr": "[1, 2]"},
                        "skip_failures": False,
                        "modules": [
                            {"id": "inner", "value": {"type": "identity"}},
                            {"id": "other", "value": {"type": "identity"}},
                        ],
                    },
                }
            ]
        },
    }


def test_diff_change_inside_a_container_is_reported_on_the_inner_module_only():
    old, new = loop_flow(), loop_flow()
    new["value"]["modules"][0]["value"]["modules"][0]["summary"] = "renamed"
    diff = diff_openflows(old, new).to_dict()
    assert [(c["id"], c["fields"]) for c in diff["changed"]] == [("inner", ["summary"])]


def test_diff_reordering_children_marks_them_moved_and_the_container_changed():
    old, new = loop_flow(), loop_flow()
    body = new["value"]["modules"][0]["value"]["modules"]
    body.reverse()
    diff = diff_openflows(old, new).to_dict()
    changed = {c["id"]: c for c in diff["changed"]}
    assert changed["loop"]["fields"] == ["value/modules"]
    assert changed["inner"]["moved"] is True
    assert changed["inner"]["to_path"] == "/value/modules/0/value/modules/1"


def test_diff_of_identical_flows_is_empty():
    flow = loop_flow()
    assert diff_openflows(flow, copy.deepcopy(flow)).to_dict() == {
        "added": [], "removed": [], "changed": [], "fields": []
    }


def test_diff_reports_flow_value_fields_but_not_module_lists():
    old, new = loop_flow(), loop_flow()
    new["value"]["same_worker"] = True
    diff = diff_openflows(old, new).to_dict()
    assert diff["fields"] == [{"path": "/value/same_worker", "from": None, "to": True}]


def test_diff_sees_the_failure_module():
    old, new = loop_flow(), loop_flow()
    new["value"]["failure_module"] = {"id": "failure", "value": {"type": "identity"}}
    diff = diff_openflows(old, new).to_dict()
    assert diff["added"] == [{"id": "failure", "path": "/value/failure_module", "type": "identity"}]
    assert diff["fields"] == []
