"""Structural validation of OpenFlow documents (editor/openflow.py + editor/openflow_schema.py)."""

from __future__ import annotations

import dataclasses

import pytest
from jsonschema import Draft202012Validator

from editor.openflow import (
    MODULE_TYPES,
    OPENFLOW_SCHEMA,
    FlowError,
    openflow_schema,
    runnability_errors,
    validate_flow,
)


def js(expr):
    return {"type": "javascript", "expr": expr}


def py(id_, **extra):
    module = {
        "id": id_,
        "value": {
            "type": "rawscript",
            "language": "python3",
            "content": "def main():\n    return 1\n",
            "input_transforms": {},
        },
    }
    module.update(extra)
    return module


def flow_of(*modules, **value_extra):
    return {"summary": "t", "value": {"modules": list(modules), **value_extra}}


def paths(errors):
    return {e.path for e in errors}


def test_flow_error_is_frozen_and_serialises_to_the_api_shape():
    err = FlowError("/value/modules/0/id", "bad")
    assert err.to_dict() == {"path": "/value/modules/0/id", "message": "bad"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        err.path = "/x"  # type: ignore[misc]


def test_published_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(OPENFLOW_SCHEMA)
    assert OPENFLOW_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_openflow_schema_returns_an_independent_copy():
    copy_ = openflow_schema()
    copy_["$defs"]["FlowModule"]["required"].append("x")
    assert "x" not in OPENFLOW_SCHEMA["$defs"]["FlowModule"]["required"]


def test_published_schema_selects_the_module_kind_by_type():
    bad = flow_of({"id": "a", "value": {"type": "forloopflow", "modules": []}})
    errors = list(Draft202012Validator(OPENFLOW_SCHEMA).iter_errors(bad))
    assert any("iterator" in e.message for e in errors)


def test_minimal_flow_is_valid():
    assert validate_flow({"summary": "", "value": {"modules": []}}) == []


#: A minimal valid `value` of every module kind.
KIND_VALUES = {
    "identity": {"type": "identity"},
    "rawscript": {
        "type": "rawscript",
        "language": "deno",
        "content": "export function main() {}",
        "input_transforms": {},
    },
    "script": {"type": "script", "path": "f/x/y", "input_transforms": {}},
    "flow": {"type": "flow", "path": "u/me/f", "input_transforms": {}},
    "forloopflow": {"type": "forloopflow", "iterator": js("[1]"), "modules": [], "skip_failures": False},
    "whileloopflow": {"type": "whileloopflow", "modules": [], "skip_failures": False},
    "branchone": {"type": "branchone", "branches": [{"expr": "true", "modules": []}], "default": []},
    "branchall": {
        "type": "branchall",
        "branches": [{"modules": [], "skip_failure": True}],
        "parallel": False,
    },
    "aiagent": {"type": "aiagent", "tools": [], "input_transforms": {}},
}


@pytest.mark.parametrize("kind", [k for k in MODULE_TYPES])
def test_every_module_kind_is_accepted(kind):
    assert validate_flow(flow_of({"id": "a", "value": KIND_VALUES[kind]})) == []


@pytest.mark.parametrize("kind", [k for k in MODULE_TYPES if k not in ("rawscript", "script")])
def test_failure_module_must_be_a_script(kind):
    errors = validate_flow(flow_of(failure_module={"id": "failure", "value": KIND_VALUES[kind]}))
    assert [e.path for e in errors] == ["/value/failure_module/value/type"]
    assert errors[0].message == (
        f'the error handler (failure_module) must be a rawscript or script step, not "{kind}"'
    )
    published = list(
        Draft202012Validator(OPENFLOW_SCHEMA).iter_errors(
            flow_of(failure_module={"id": "failure", "value": KIND_VALUES[kind]})
        )
    )
    assert [list(e.absolute_path) for e in published] == [["value", "failure_module", "value", "type"]]


@pytest.mark.parametrize("kind", ["rawscript", "script"])
def test_failure_module_may_be_a_rawscript_or_script(kind):
    flow = flow_of(failure_module={"id": "failure", "value": KIND_VALUES[kind]})
    assert validate_flow(flow) == []
    assert list(Draft202012Validator(OPENFLOW_SCHEMA).iter_errors(flow)) == []


def test_failure_module_kind_rule_does_not_apply_to_steps_or_the_preprocessor():
    flow = flow_of(
        {"id": "a", "value": {"type": "identity"}},
        preprocessor_module={"id": "preprocessor", "value": {"type": "identity"}},
        failure_module={"id": "failure", "value": KIND_VALUES["rawscript"]},
    )
    assert validate_flow(flow) == []


def test_unknown_module_type_names_the_type_and_the_alternatives():
    errors = validate_flow(flow_of({"id": "a", "value": {"type": "forloop", "modules": []}}))
    assert [e.path for e in errors] == ["/value/modules/0/value/type"]
    assert 'unknown module type "forloop"' in errors[0].message
    assert "forloopflow" in errors[0].message and "branchall" in errors[0].message


def test_missing_module_type_is_reported_on_the_type_field():
    errors = validate_flow(flow_of({"id": "a", "value": {"content": "x"}}))
    assert [e.path for e in errors] == ["/value/modules/0/value/type"]
    assert "missing module type" in errors[0].message


def test_missing_required_field_points_at_the_missing_field():
    errors = validate_flow(flow_of({"id": "l", "value": {"type": "forloopflow", "modules": []}}))
    assert [e.to_dict() for e in errors] == [
        {"path": "/value/modules/0/value/iterator", "message": "missing required field 'iterator'"}
    ]


def test_wrong_type_message_names_expected_and_actual_types():
    errors = validate_flow(flow_of(py("a", continue_on_error="yes")))
    assert [e.to_dict() for e in errors] == [
        {"path": "/value/modules/0/continue_on_error", "message": "expected a boolean, got string"}
    ]


def test_unknown_extra_fields_are_accepted_at_every_level():
    module = py("a", future_field={"x": 1}, retry={"constant": {"attempts": 1, "seconds": 0, "jitter": 2}})
    module["value"]["new_option"] = True
    module["value"]["input_transforms"]["p"] = {"type": "static", "value": 1, "note": "kept"}
    flow = flow_of(module, new_flow_setting=[1, 2])
    flow["path"] = "f/x/y"
    flow["ws_error_handler_muted"] = False
    assert validate_flow(flow) == []


def test_fields_windmill_defaults_are_optional():
    modules = [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": "def main(): pass"}},
        {"id": "b", "value": {"type": "forloopflow", "iterator": js("[1]"), "modules": []}},
        {
            "id": "c",
            "value": {"type": "whileloopflow", "modules": [py("c1", stop_after_if={"expr": "true"})]},
        },
        {"id": "d", "value": {"type": "branchall", "branches": [{"modules": []}]}},
        {"id": "e", "value": {"type": "script", "path": "f/a/b"}},
    ]
    assert validate_flow(flow_of(*modules)) == []


def test_bare_numbers_are_accepted_for_timeout_and_parallelism():
    loop = {
        "id": "l",
        "timeout": 30,
        "value": {
            "type": "forloopflow",
            "iterator": js("[1]"),
            "modules": [],
            "parallel": True,
            "parallelism": 4,
            "skip_failures": False,
        },
    }
    assert validate_flow(flow_of(loop)) == []


def test_transforms_are_accepted_for_timeout_and_parallelism():
    loop = {
        "id": "l",
        "timeout": {"type": "static", "value": 30},
        "value": {
            "type": "forloopflow",
            "iterator": js("[1]"),
            "modules": [],
            "parallel": True,
            "parallelism": js("flow_input.p"),
            "skip_failures": False,
        },
    }
    assert validate_flow(flow_of(loop)) == []


def test_bare_number_sleep_is_rejected_because_windmill_wants_a_transform():
    errors = validate_flow(flow_of(py("a", sleep=5)))
    assert [e.path for e in errors] == ["/value/modules/0/sleep"]


def test_timeout_of_the_wrong_type_gives_one_error():
    errors = validate_flow(flow_of(py("a", timeout="10")))
    assert [e.to_dict() for e in errors] == [
        {"path": "/value/modules/0/timeout", "message": "expected an integer or an object, got string"}
    ]


def test_input_transform_kinds_static_javascript_and_ai_are_accepted():
    module = py("a")
    module["value"]["input_transforms"] = {
        "s": {"type": "static", "value": [1]},
        "j": js("1 + 1"),
        "a": {"type": "ai"},
    }
    assert validate_flow(flow_of(module)) == []


def test_unknown_input_transform_type_is_reported():
    module = py("a")
    module["value"]["input_transforms"] = {"x": {"type": "python", "expr": "1"}}
    assert paths(validate_flow(flow_of(module))) == {"/value/modules/0/value/input_transforms/x/type"}


def test_every_module_field_of_the_spec_is_accepted():
    module = py(
        "a",
        summary="all fields",
        stop_after_if={
            "expr": "false",
            "skip_if_stopped": False,
            "error_message": "m",
            "error_include_result": True,
        },
        stop_after_all_iters_if={"expr": "false", "skip_if_stopped": True},
        skip_if={"expr": "false"},
        sleep={"type": "static", "value": 1.5},
        suspend={
            "required_events": 1,
            "timeout": 60,
            "resume_form": {"schema": {"type": "object"}},
            "user_auth_required": True,
            "user_groups_required": {"type": "static", "value": ["g"]},
            "self_approval_disabled": True,
            "hide_cancel": True,
            "continue_on_disapprove_timeout": True,
        },
        retry={
            "constant": {"attempts": 1, "seconds": 2},
            "exponential": {"attempts": 2, "multiplier": 2, "seconds": 3, "random_factor": 10},
            "retry_if": {"expr": "true"},
        },
        continue_on_error=True,
        timeout=5,
        cache_ttl=60,
        mock={"enabled": False, "return_value": {"x": 1}},
        priority=3,
        delete_after_use=True,
    )
    flow = flow_of(
        module,
        failure_module=py("failure"),
        preprocessor_module=py("preprocessor"),
        same_worker=False,
        skip_expr="false",
        flow_env={"k": "v"},
        early_return="a",
        concurrent_limit=2,
        concurrency_key="k",
        concurrency_time_window_s=10,
        debounce_delay_s=1,
        cache_ttl=10,
        priority=1,
    )
    flow["description"] = "d"
    flow["schema"] = {"type": "object", "properties": {}}
    assert validate_flow(flow) == []


def test_retry_numbers_must_be_non_negative_integers():
    errors = validate_flow(flow_of(py("a", retry={"constant": {"attempts": -1, "seconds": 1.5}})))
    assert paths(errors) == {
        "/value/modules/0/retry/constant/attempts",
        "/value/modules/0/retry/constant/seconds",
    }


def test_null_flow_schema_is_treated_as_absent():
    flow = flow_of()
    flow["schema"] = None
    assert validate_flow(flow) == []


@pytest.mark.parametrize("bad", [None, 1, "flow", [], True, 2.5])
def test_non_object_document_is_one_error_at_the_root(bad):
    errors = validate_flow(bad)
    assert [e.path for e in errors] == [""]


@pytest.mark.parametrize(
    ("flow", "path"),
    [
        ({"summary": "t", "value": []}, "/value"),
        ({"summary": "t", "value": {"modules": {}}}, "/value/modules"),
        (flow_of(7), "/value/modules/0"),
        (flow_of({"id": "a", "value": "identity"}), "/value/modules/0/value"),
        (flow_of(py("a", retry=[])), "/value/modules/0/retry"),
        (flow_of(py("a", retry={"exponential": 3})), "/value/modules/0/retry/exponential"),
        (flow_of(py("a", suspend=1)), "/value/modules/0/suspend"),
        (flow_of(py("a", suspend={"resume_form": []})), "/value/modules/0/suspend/resume_form"),
        (flow_of(py("a", stop_after_if="x > 1")), "/value/modules/0/stop_after_if"),
        (flow_of(py("a", skip_if=None)), "/value/modules/0/skip_if"),
        (flow_of(py("a", mock=True)), "/value/modules/0/mock"),
        (
            flow_of(
                {
                    "id": "a",
                    "value": {"type": "rawscript", "language": "deno", "content": "", "input_transforms": []},
                }
            ),
            "/value/modules/0/value/input_transforms",
        ),
        (
            flow_of(
                {
                    "id": "a",
                    "value": {
                        "type": "rawscript",
                        "language": "deno",
                        "content": "",
                        "input_transforms": {"x": "1"},
                    },
                }
            ),
            "/value/modules/0/value/input_transforms/x",
        ),
        (
            flow_of({"id": "b", "value": {"type": "branchone", "branches": [3], "default": []}}),
            "/value/modules/0/value/branches/0",
        ),
        (
            flow_of({"id": "b", "value": {"type": "branchall", "branches": {}}}),
            "/value/modules/0/value/branches",
        ),
        (
            flow_of({"id": "b", "value": {"type": "branchone", "branches": [], "default": [None]}}),
            "/value/modules/0/value/default/0",
        ),
        (
            flow_of({"id": "l", "value": {"type": "forloopflow", "iterator": "[1]", "modules": []}}),
            "/value/modules/0/value/iterator",
        ),
        (
            flow_of({"id": "l", "value": {"type": "whileloopflow", "modules": ["x"]}}),
            "/value/modules/0/value/modules/0",
        ),
        (flow_of(failure_module=[]), "/value/failure_module"),
        (flow_of(flow_env="a=b"), "/value/flow_env"),
    ],
)
def test_non_object_at_any_level_is_reported_at_that_level(flow, path):
    errors = validate_flow(flow)
    assert path in paths(errors)
    assert all(e.path.startswith(path) for e in errors), errors


def test_pointer_tokens_are_escaped():
    module = py("a")
    module["value"]["input_transforms"] = {"a/b~c": {"type": "bogus"}}
    assert paths(validate_flow(flow_of(module))) == {"/value/modules/0/value/input_transforms/a~1b~0c/type"}


def test_error_messages_never_embed_huge_values():
    big = "x" * 1_000_000
    errors = validate_flow({"summary": "t", "value": {"modules": [{"id": big, "value": {"type": big}}]}})
    assert errors
    assert all(len(e.message) < 400 for e in errors)


def test_ai_agent_validates_but_is_flagged_as_not_runnable():
    flow = flow_of({"id": "agent", "value": {"type": "aiagent", "tools": [], "input_transforms": {}}})
    assert validate_flow(flow) == []
    assert [e.path for e in runnability_errors(flow)] == ["/value/modules/0/value/type"]


def test_runnability_errors_never_raise_on_garbage():
    for bad in (None, [], {"value": 3}, {"value": {"modules": [1, None]}}):
        assert runnability_errors(bad) == []
