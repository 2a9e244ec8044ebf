"""resolve_flow: saved scripts and sub-flows gathered under "_resolved", with pointer errors."""

from __future__ import annotations

import pytest

from editor.flowstore import create_flow
from editor.models import Flow, Script
from editor.resolve import resolve_flow
from tests.fixtures_flows import example_resources, fast_passwords, load_example  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def script_step(mid: str, path: str) -> dict:
    return {"id": mid, "value": {"type": "script", "path": path, "input_transforms": {}}}


def flow_step(mid: str, path: str) -> dict:
    return {"id": mid, "value": {"type": "flow", "path": path, "input_transforms": {}}}


def openflow(*modules, **extra) -> dict:
    return {"summary": "t", "value": {"modules": list(modules)}, **extra}


def save(path: str, owner, *modules) -> Flow:
    return create_flow(path, openflow(*modules), owner)


def test_saved_script_is_included(user, example_resources):  # noqa: F811 - fixture
    resolved, errors = resolve_flow(load_example("saved_script_reference"), user)
    assert errors == []
    assert resolved["_resolved"]["scripts"] == {
        "f/examples/add_numbers": {"language": "python3", "content": "def main(x: int, y: int):\n    return x + y\n"}
    }
    assert resolved["_resolved"]["flows"] == {}


def test_sub_flow_is_included_with_its_path(user, example_resources):  # noqa: F811 - fixture
    resolved, errors = resolve_flow(load_example("subflow_reference"), user)
    assert errors == []
    sub = resolved["_resolved"]["flows"]["f/examples/python_rawscript"]
    assert sub == {**load_example("python_rawscript"), "path": "f/examples/python_rawscript"}


def test_input_is_not_modified_and_result_is_a_copy(user, example_resources):  # noqa: F811 - fixture
    original = load_example("subflow_reference")
    before = load_example("subflow_reference")
    resolved, _ = resolve_flow(original, user)
    assert original == before
    resolved["value"]["modules"][0]["id"] = "changed"
    assert original == before


def test_flow_without_references_gets_empty_resolved(user):
    resolved, errors = resolve_flow(load_example("identity_chain"), user)
    assert errors == []
    assert resolved == {**load_example("identity_chain"), "_resolved": {"scripts": {}, "flows": {}}}


def test_sub_flows_scripts_and_sub_flows_are_collected_recursively(user):
    Script.objects.create(path="f/lib/leaf", language="bash", content="echo 1", owner=user)
    save("f/lib/inner", user, script_step("s", "f/lib/leaf"))
    save("f/lib/middle", user, flow_step("i", "f/lib/inner"))
    resolved, errors = resolve_flow(openflow(flow_step("m", "f/lib/middle")), user)
    assert errors == []
    assert set(resolved["_resolved"]["flows"]) == {"f/lib/middle", "f/lib/inner"}
    assert set(resolved["_resolved"]["scripts"]) == {"f/lib/leaf"}


def test_missing_script_is_an_error_at_its_path(user):
    _, errors = resolve_flow(openflow(script_step("a", "f/lib/nope")), user)
    assert [(e.path, e.message) for e in errors] == [
        ("/value/modules/0/value/path", "no script at 'f/lib/nope' in this instance")
    ]


def test_missing_sub_flow_is_an_error_at_its_path(user):
    _, errors = resolve_flow(openflow(flow_step("a", "f/lib/nope")), user)
    assert [e.path for e in errors] == ["/value/modules/0/value/path"]
    assert "no flow at 'f/lib/nope'" in errors[0].message


def test_invisible_script_is_reported_like_a_missing_one(user, other_user):
    Script.objects.create(path="u/bob/private", language="bash", content="echo", owner=other_user)
    resolved, errors = resolve_flow(openflow(script_step("a", "u/bob/private")), user)
    assert resolved["_resolved"]["scripts"] == {}
    assert errors[0].message == "no script at 'u/bob/private' in this instance"


def test_shared_sub_flow_is_visible(user, other_user):
    flow = save("u/bob/shared", other_user, {"id": "x", "value": {"type": "identity"}})
    flow.shared_with.add(user)
    resolved, errors = resolve_flow(openflow(flow_step("a", "u/bob/shared")), user)
    assert errors == []
    assert "u/bob/shared" in resolved["_resolved"]["flows"]


def test_hub_paths_are_errors(user):
    _, errors = resolve_flow(openflow(script_step("a", "hub/123/slack/send")), user)
    assert errors[0].path == "/value/modules/0/value/path"
    assert errors[0].message == "hub scripts are not available offline; import the script into this instance"


def test_scripts_inside_containers_are_found(user):
    Script.objects.create(path="f/lib/leaf", language="bash", content="echo 1", owner=user)
    loop = {
        "id": "loop",
        "value": {
            "type": "forloopflow",
            "iterator": {"type": "javascript", "expr": "[1]"},
            "skip_failures": False,
            "modules": [script_step("s", "f/lib/leaf")],
        },
    }
    resolved, errors = resolve_flow(openflow(loop), user)
    assert errors == [] and "f/lib/leaf" in resolved["_resolved"]["scripts"]


def test_error_inside_a_sub_flow_points_into_resolved(user):
    save("f/lib/child", user, script_step("s", "f/lib/missing"))
    resolved, errors = resolve_flow(openflow(flow_step("c", "f/lib/child")), user)
    assert [e.path for e in errors] == ["/_resolved/flows/f~1lib~1child/value/modules/0/value/path"]
    assert "in sub-flow 'f/lib/child'" in errors[0].message
    assert resolved["_resolved"]["flows"]["f/lib/child"]["value"]["modules"][0]["value"]["path"] == "f/lib/missing"


def test_self_reference_is_a_cycle(user):
    flow = save("f/lib/self", user, flow_step("me", "f/lib/self"))
    _, errors = resolve_flow(flow.as_openflow(), user)
    assert [e.path for e in errors] == ["/value/modules/0/value/path"]
    assert errors[0].message == "sub-flow cycle: f/lib/self → f/lib/self"


def test_two_flow_cycle_is_reported(user):
    save("f/lib/a", user, flow_step("b", "f/lib/b"))
    save("f/lib/b", user, flow_step("a", "f/lib/a"))
    _, errors = resolve_flow(Flow.objects.get(path="f/lib/a").as_openflow(), user)
    assert len(errors) == 1
    assert "sub-flow cycle: f/lib/a → f/lib/b → f/lib/a" in errors[0].message


def test_cycle_is_found_for_an_unsaved_flow_too(user):
    save("f/lib/a", user, flow_step("b", "f/lib/b"))
    save("f/lib/b", user, flow_step("a", "f/lib/a"))
    _, errors = resolve_flow(openflow(flow_step("x", "f/lib/a")), user)
    assert any("cycle" in e.message for e in errors)


def test_the_same_sub_flow_twice_is_resolved_once_without_cycle(user):
    save("f/lib/shared", user, {"id": "x", "value": {"type": "identity"}})
    resolved, errors = resolve_flow(openflow(flow_step("a", "f/lib/shared"), flow_step("b", "f/lib/shared")), user)
    assert errors == []
    assert list(resolved["_resolved"]["flows"]) == ["f/lib/shared"]


def test_diamond_is_not_a_cycle(user):
    save("f/lib/d", user, {"id": "x", "value": {"type": "identity"}})
    save("f/lib/b", user, flow_step("d", "f/lib/d"))
    save("f/lib/c", user, flow_step("d", "f/lib/d"))
    _, errors = resolve_flow(openflow(flow_step("b", "f/lib/b"), flow_step("c", "f/lib/c")), user)
    assert errors == []


def test_a_stale_resolved_key_is_replaced(user):
    resolved, _ = resolve_flow(openflow(_resolved={"scripts": {"x": {}}, "flows": {}}), user)
    assert resolved["_resolved"] == {"scripts": {}, "flows": {}}
