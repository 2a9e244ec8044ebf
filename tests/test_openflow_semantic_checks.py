"""Semantic checks of validate_flow, the helpers, and the size/depth limits."""

from __future__ import annotations

import copy
import json
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from editor.openflow import (
    FlowError,
    iter_modules,
    referenced_result_ids,
    validate_args,
    validate_flow,
)


def js(expr):
    return {"type": "javascript", "expr": expr}


def py(id_, inputs=None, **extra):
    module = {
        "id": id_,
        "value": {
            "type": "rawscript",
            "language": "python3",
            "content": "def main(x=None):\n    return x\n",
            "input_transforms": inputs or {},
        },
    }
    module.update(extra)
    return module


def reads(id_, expr, **extra):
    """A python step whose input `x` is the JavaScript expression `expr`."""
    return py(id_, {"x": js(expr)}, **extra)


def loop(id_, *body, iterator="[1, 2]", **extra):
    module = {
        "id": id_,
        "value": {
            "type": "forloopflow",
            "iterator": js(iterator),
            "skip_failures": False,
            "parallel": False,
            "modules": list(body),
        },
    }
    module.update(extra)
    return module


def flow_of(*modules, **value_extra):
    return {"summary": "t", "value": {"modules": list(modules), **value_extra}}


def paths(errors):
    return {e.path for e in errors}


X = "/value/input_transforms/x/expr"

# ------------------------------------------------------------------------------------- ids


def test_duplicate_id_inside_loop_body_reports_both_paths():
    errors = validate_flow(flow_of(py("a"), loop("l", py("a"))))
    assert paths(errors) == {"/value/modules/0/id", "/value/modules/1/value/modules/0/id"}
    assert all("duplicate module id 'a'" in e.message for e in errors)
    assert "/value/modules/1/value/modules/0" in errors[0].message


def test_duplicate_id_between_branches_and_failure_module_is_reported():
    branch = {
        "id": "br",
        "value": {"type": "branchall", "branches": [{"modules": [py("x")]}, {"modules": [py("x")]}]},
    }
    errors = validate_flow(flow_of(branch, failure_module=py("br")))
    assert paths(errors) == {
        "/value/modules/0/value/branches/0/modules/0/id",
        "/value/modules/0/value/branches/1/modules/0/id",
        "/value/modules/0/id",
        "/value/failure_module/id",
    }


def test_duplicate_id_with_preprocessor_module_is_reported():
    errors = validate_flow(flow_of(py("p"), preprocessor_module=py("p")))
    assert paths(errors) == {"/value/modules/0/id", "/value/preprocessor_module/id"}


@pytest.mark.parametrize("bad_id", ["", "a b", "a/b", "é", "a.b"])
def test_module_ids_must_be_non_empty_and_url_safe(bad_id):
    errors = validate_flow(flow_of(py(bad_id)))
    assert paths(errors) == {"/value/modules/0/id"}


@pytest.mark.parametrize("good_id", ["a", "step_1", "Fetch-Data", "0"])
def test_module_ids_of_letters_digits_dash_underscore_are_fine(good_id):
    assert validate_flow(flow_of(py(good_id))) == []


# ------------------------------------------------------------------------------ references


def test_reference_to_missing_step_is_reported_on_the_expression():
    errors = validate_flow(flow_of(py("a"), reads("b", "results.nope + 1")))
    assert [e.to_dict() for e in errors] == [
        {
            "path": "/value/modules/1" + X,
            "message": "results.nope: there is no step with id 'nope' in this flow",
        }
    ]


def test_reference_to_an_earlier_step_is_fine():
    assert validate_flow(flow_of(py("a"), reads("b", "results.a"))) == []


def test_reference_to_a_later_step_is_use_before_definition():
    errors = validate_flow(flow_of(reads("a", "results.b"), py("b")))
    assert paths(errors) == {"/value/modules/0" + X}
    assert "runs after" in errors[0].message


@pytest.mark.parametrize("expr", ["results.a", "results?.a", 'results["a"]', "results?.a?.b ?? 1"])
def test_all_windmill_reference_forms_are_checked(expr):
    errors = validate_flow(flow_of(reads("b", expr), py("a")))
    assert paths(errors) == {"/value/modules/0" + X}


def test_a_step_cannot_read_its_own_result_in_its_inputs():
    errors = validate_flow(flow_of(reads("a", "results.a")))
    assert paths(errors) == {"/value/modules/0" + X}
    assert "its own result" in errors[0].message


def test_stop_after_if_may_read_its_own_step():
    assert (
        validate_flow(flow_of(py("a", stop_after_if={"expr": "results.a > 2", "skip_if_stopped": False})))
        == []
    )


def test_skip_if_may_not_read_its_own_step():
    errors = validate_flow(flow_of(py("a", skip_if={"expr": "results.a"})))
    assert paths(errors) == {"/value/modules/0/skip_if/expr"}


def test_steps_inside_an_earlier_container_are_visible():
    assert validate_flow(flow_of(loop("l", py("inner")), reads("after", "results.inner"))) == []


def test_enclosing_container_id_is_visible_inside_its_body():
    assert validate_flow(flow_of(loop("outer", loop("inner", reads("leaf", "results.outer"))))) == []


def test_step_inside_a_while_loop_may_read_its_own_loop():
    whileloop = {
        "id": "w",
        "value": {
            "type": "whileloopflow",
            "skip_failures": False,
            "modules": [reads("s", "results.w", stop_after_if={"expr": "true"})],
        },
    }
    assert validate_flow(flow_of(whileloop)) == []


def test_outer_steps_are_visible_inside_a_loop_body():
    assert validate_flow(flow_of(py("a"), loop("l", reads("b", "results.a")))) == []


def test_earlier_steps_of_the_same_body_are_visible_later_ones_are_not():
    ok = validate_flow(flow_of(loop("l", py("first"), reads("second", "results.first"))))
    bad = validate_flow(flow_of(loop("l", reads("first", "results.second"), py("second"))))
    assert ok == []
    assert paths(bad) == {"/value/modules/0/value/modules/0" + X}


def test_loop_iterator_cannot_read_its_own_body():
    errors = validate_flow(flow_of(loop("l", py("inner"), iterator="results.inner")))
    assert paths(errors) == {"/value/modules/0/value/iterator/expr"}


def test_stop_after_if_on_a_container_may_read_its_body():
    assert validate_flow(flow_of(loop("l", py("inner"), stop_after_if={"expr": "results.inner > 1"}))) == []


def test_sibling_branchone_branch_is_not_visible():
    br = {
        "id": "br",
        "value": {
            "type": "branchone",
            "branches": [{"expr": "true", "modules": [py("left")]}],
            "default": [reads("right", "results.left")],
        },
    }
    errors = validate_flow(flow_of(br))
    assert paths(errors) == {"/value/modules/0/value/default/0" + X}
    assert "another branch" in errors[0].message


def test_earlier_branch_of_a_sequential_branchall_is_visible():
    br = {
        "id": "br",
        "value": {
            "type": "branchall",
            "parallel": False,
            "branches": [{"modules": [py("first")]}, {"modules": [reads("second", "results.first")]}],
        },
    }
    assert validate_flow(flow_of(br)) == []


def test_other_branch_of_a_parallel_branchall_is_not_visible():
    br = {
        "id": "br",
        "value": {
            "type": "branchall",
            "parallel": True,
            "branches": [{"modules": [py("first")]}, {"modules": [reads("second", "results.first")]}],
        },
    }
    assert paths(validate_flow(flow_of(br))) == {"/value/modules/0/value/branches/1/modules/0" + X}


def test_branch_predicate_may_read_earlier_steps_but_not_its_branches():
    br = {
        "id": "br",
        "value": {
            "type": "branchone",
            "default": [],
            "branches": [
                {"expr": "results.a > 1", "modules": []},
                {"expr": "results.inside", "modules": [py("inside")]},
            ],
        },
    }
    errors = validate_flow(flow_of(py("a"), br))
    assert paths(errors) == {"/value/modules/1/value/branches/1/expr"}


def test_failure_module_may_read_any_step():
    errors = validate_flow(
        flow_of(py("a"), loop("l", py("deep")), failure_module=reads("failure", "results.deep"))
    )
    assert errors == []


def test_normal_steps_cannot_read_the_failure_module():
    errors = validate_flow(flow_of(reads("a", "results.failure"), failure_module=py("failure")))
    assert paths(errors) == {"/value/modules/0" + X}
    assert "error handler" in errors[0].message


def test_preprocessor_cannot_read_main_steps_but_main_steps_can_read_it():
    errors = validate_flow(
        flow_of(
            reads("a", "results.preprocessor"),
            py("b"),
            preprocessor_module=reads("preprocessor", "results.b"),
        )
    )
    assert paths(errors) == {"/value/preprocessor_module" + X}


@pytest.mark.parametrize(
    ("module_extra", "value_extra", "path"),
    [
        ({"sleep": js("results.a")}, {}, "/value/modules/1/sleep/expr"),
        ({"retry": {"retry_if": {"expr": "results.a"}}}, {}, "/value/modules/1/retry/retry_if/expr"),
        (
            {"suspend": {"user_groups_required": js("results.a")}},
            {},
            "/value/modules/1/suspend/user_groups_required/expr",
        ),
        ({}, {"skip_expr": "results.a"}, "/value/skip_expr"),
    ],
)
def test_results_is_reported_where_windmill_does_not_provide_it(module_extra, value_extra, path):
    errors = validate_flow(flow_of(py("a"), py("b", **module_extra), **value_extra))
    assert paths(errors) == {path}
    assert "not available" in errors[0].message


def test_timeout_and_parallelism_expressions_may_read_earlier_steps():
    lp = loop("l", py("in"), parallel=True)
    lp["value"]["parallel"] = True
    lp["value"]["parallelism"] = js("results.a")
    lp["timeout"] = js("results.a * 2")
    assert validate_flow(flow_of(py("a"), lp)) == []
    lp["value"]["parallelism"] = js("results.zz")
    assert paths(validate_flow(flow_of(py("a"), lp))) == {"/value/modules/1/value/parallelism/expr"}


def test_early_return_must_name_an_existing_step():
    assert paths(validate_flow(flow_of(py("a"), early_return="b"))) == {"/value/early_return"}
    assert validate_flow(flow_of(py("a"), early_return="a")) == []


@pytest.mark.parametrize(
    ("expr", "ids"),
    [
        ("results.a", {"a"}),
        ("results?.a.b", {"a"}),
        ('results["my-step"].x', {"my-step"}),
        ("results.a + results.b", {"a", "b"}),
        ("results['a']", set()),
        ("results[key]", set()),
        ("flow_input.results.a", set()),
        ("myresults.a", set()),
        ("previous_result", set()),
        ("`${results.c}`", {"c"}),
    ],
)
def test_referenced_result_ids_follows_the_windmill_rewrite_forms(expr, ids):
    assert referenced_result_ids(expr) == ids


def test_referenced_result_ids_of_a_non_string_is_empty():
    assert referenced_result_ids(None) == set()


# ------------------------------------------------------------------------------ javascript


def test_check_js_is_called_for_every_expression_kind():
    seen: list[str] = []

    def spy(expr: str) -> None:
        seen.append(expr)
        return None

    lp = loop(
        "l",
        reads("b", "e_input"),
        iterator="e_iterator",
        stop_after_if={"expr": "e_stop"},
        stop_after_all_iters_if={"expr": "e_all"},
        skip_if={"expr": "e_skip"},
        sleep=js("e_sleep"),
        timeout=js("e_timeout"),
        retry={"retry_if": {"expr": "e_retry"}},
        suspend={"user_groups_required": js("e_groups")},
    )
    lp["value"]["parallelism"] = js("e_parallelism")
    br = {
        "id": "br",
        "value": {"type": "branchone", "branches": [{"expr": "e_branch", "modules": []}], "default": []},
    }
    flow = flow_of(lp, br, skip_expr="e_skip_expr", failure_module=reads("failure", "e_failure"))
    assert validate_flow(flow, check_js=spy) == []
    assert sorted(seen) == sorted(
        [
            "e_input",
            "e_iterator",
            "e_stop",
            "e_all",
            "e_skip",
            "e_sleep",
            "e_timeout",
            "e_retry",
            "e_groups",
            "e_parallelism",
            "e_branch",
            "e_skip_expr",
            "e_failure",
        ]
    )


def test_js_syntax_error_is_reported_with_the_checker_message():
    errors = validate_flow(
        flow_of(reads("a", "flow_input.x +")), check_js=lambda e: "Unexpected end of input"
    )
    assert [e.to_dict() for e in errors] == [
        {
            "path": "/value/modules/0" + X,
            "message": "JavaScript syntax error in input 'x': Unexpected end of input",
        }
    ]


def test_static_values_are_not_sent_to_the_js_checker():
    module = py("a", {"x": {"type": "static", "value": "not ) js"}})
    assert validate_flow(flow_of(module), check_js=lambda e: "boom") == []


def test_a_crashing_js_checker_is_reported_not_raised():
    def broken(expr: str):
        raise RuntimeError("V8 is gone")

    errors = validate_flow(flow_of(reads("a", "1")), check_js=broken)
    assert paths(errors) == {"/value/modules/0" + X}
    assert "V8 is gone" in errors[0].message


def test_real_v8_checker_flags_a_syntax_error_and_accepts_valid_code():
    expressions = pytest.importorskip("runs.expressions")
    syntax_error = getattr(expressions, "syntax_error", None)
    if syntax_error is None:
        pytest.skip("runs.expressions.syntax_error not available")
    bad = validate_flow(flow_of(reads("a", "flow_input.items.map(x => x * 2")), check_js=syntax_error)
    good = validate_flow(flow_of(reads("a", "const n = flow_input.n; return n * 2")), check_js=syntax_error)
    assert paths(bad) == {"/value/modules/0" + X}
    assert good == []


# ---------------------------------------------------------------------- retry, language, paths


def test_exponential_retry_with_zero_seconds_is_rejected():
    errors = validate_flow(
        flow_of(py("a", retry={"exponential": {"attempts": 2, "multiplier": 1, "seconds": 0}}))
    )
    assert paths(errors) == {"/value/modules/0/retry/exponential/seconds"}


def test_exponential_retry_with_missing_seconds_counts_as_zero():
    errors = validate_flow(flow_of(py("a", retry={"exponential": {"attempts": 2}})))
    assert paths(errors) == {"/value/modules/0/retry/exponential/seconds"}


def test_exponential_retry_without_attempts_may_have_zero_seconds():
    assert validate_flow(flow_of(py("a", retry={"exponential": {"attempts": 0, "seconds": 0}}))) == []


@pytest.mark.parametrize("lang", ["bun", "go", "postgresql", "nativets"])
def test_windmill_languages_we_cannot_run_are_not_supported_here(lang):
    module = py("a")
    module["value"]["language"] = lang
    errors = validate_flow(flow_of(module))
    assert [e.path for e in errors] == ["/value/modules/0/value/language"]
    assert f"'{lang}' is not supported here" in errors[0].message


def test_unknown_language_is_reported_as_unknown():
    module = py("a")
    module["value"]["language"] = "cobol"
    errors = validate_flow(flow_of(module))
    assert "unknown language" in errors[0].message


@pytest.mark.parametrize("lang", ["python3", "deno", "bash"])
def test_supported_languages_pass(lang):
    module = py("a")
    module["value"]["language"] = lang
    assert validate_flow(flow_of(module)) == []


def test_hub_script_gets_the_offline_message():
    errors = validate_flow(flow_of({"id": "a", "value": {"type": "script", "path": "hub/123/slack/send"}}))
    assert [e.to_dict() for e in errors] == [
        {
            "path": "/value/modules/0/value/path",
            "message": "hub scripts are not available offline; import the script into this instance",
        }
    ]


@pytest.mark.parametrize("path", ["", "/tmp/x", "scripts/x", "U/x"])
def test_script_and_flow_paths_must_be_workspace_paths(path):
    for kind in ("script", "flow"):
        errors = validate_flow(flow_of({"id": "a", "value": {"type": kind, "path": path}}))
        assert paths(errors) == {"/value/modules/0/value/path"}


def test_known_scripts_and_flows_are_checked_only_when_given():
    flow = flow_of(
        {"id": "a", "value": {"type": "script", "path": "f/x/s"}},
        {"id": "b", "value": {"type": "flow", "path": "u/me/f"}},
    )
    assert validate_flow(flow) == []
    assert validate_flow(flow, known_scripts={"f/x/s"}, known_flows={"u/me/f"}) == []
    errors = validate_flow(flow, known_scripts=set(), known_flows={"f/x/s"})
    assert paths(errors) == {"/value/modules/0/value/path", "/value/modules/1/value/path"}


# ------------------------------------------------------------------------ embedded schemas


def test_flow_schema_must_be_a_valid_json_schema():
    flow = flow_of()
    flow["schema"] = {"type": "object", "properties": {"a": {"type": "strin"}}, "required": "a"}
    assert paths(validate_flow(flow)) == {"/schema/properties/a/type", "/schema/required"}


def test_windmill_style_flow_schema_is_accepted():
    flow = flow_of()
    flow["schema"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "order": ["a"],
        "required": [],
        "properties": {"a": {"type": "string", "default": None, "format": "", "description": ""}},
    }
    assert validate_flow(flow) == []


def test_resume_form_schema_must_be_a_valid_json_schema():
    errors = validate_flow(flow_of(py("a", suspend={"resume_form": {"schema": {"type": 3}}})))
    assert paths(errors) == {"/value/modules/0/suspend/resume_form/schema/type"}


# --------------------------------------------------------------------------- static values


def test_static_iterator_must_be_an_array():
    lp = loop("l")
    lp["value"]["iterator"] = {"type": "static", "value": "abc"}
    assert paths(validate_flow(flow_of(lp))) == {"/value/modules/0/value/iterator/value"}


def test_static_sleep_must_be_a_non_negative_number():
    assert validate_flow(flow_of(py("a", sleep={"type": "static", "value": 0.5}))) == []
    errors = validate_flow(flow_of(py("a", sleep={"type": "static", "value": -1})))
    assert paths(errors) == {"/value/modules/0/sleep/value"}


# --------------------------------------------------------------------------------- helpers


def test_iter_modules_yields_every_module_in_execution_order_with_ancestors():
    br = {
        "id": "br",
        "value": {
            "type": "branchone",
            "branches": [{"expr": "true", "modules": [py("b1")]}],
            "default": [py("d1")],
        },
    }
    flow = flow_of(
        py("a"),
        loop("l", loop("inner", py("leaf"))),
        br,
        failure_module=py("failure"),
        preprocessor_module=py("preprocessor"),
    )
    got = [(p, m["id"], anc) for p, m, anc in iter_modules(flow["value"])]
    assert got == [
        ("/value/preprocessor_module", "preprocessor", ()),
        ("/value/modules/0", "a", ()),
        ("/value/modules/1", "l", ()),
        ("/value/modules/1/value/modules/0", "inner", ("l",)),
        ("/value/modules/1/value/modules/0/value/modules/0", "leaf", ("l", "inner")),
        ("/value/modules/2", "br", ()),
        ("/value/modules/2/value/branches/0/modules/0", "b1", ("br",)),
        ("/value/modules/2/value/default/0", "d1", ("br",)),
        ("/value/failure_module", "failure", ()),
    ]


def test_iter_modules_prefix_and_malformed_input():
    assert [p for p, _, _ in iter_modules({"modules": [py("a")]}, prefix="")] == ["/modules/0"]
    assert list(iter_modules(None)) == []
    assert list(iter_modules({"modules": [1, "x", None]})) == []
    assert list(iter_modules({"modules": "nope"})) == []


def test_validate_args_reports_paths_under_args():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
        "required": ["name"],
    }
    errors = validate_args(schema, {"n": -1})
    assert {e.to_dict()["path"] for e in errors} == {"/args/name", "/args/n"}
    assert any(e.message == "missing required argument 'name'" for e in errors)
    assert validate_args(schema, {"name": "x", "n": 2}) == []


def test_validate_args_reports_nested_paths():
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}
    assert [e.path for e in validate_args(schema, {"items": [1, "two"]})] == ["/args/items/1"]


def test_validate_args_without_schema_accepts_any_object_but_only_objects():
    assert validate_args(None, {"anything": [1]}) == []
    assert validate_args(None, {}) == []
    for bad in ([], "x", None, 3):
        assert [e.path for e in validate_args(None, bad)] == ["/args"]


def test_validate_args_reports_an_invalid_schema_instead_of_raising():
    errors = validate_args({"type": "nope"}, {})
    assert errors and all(e.path.startswith("/schema") for e in errors)


# ---------------------------------------------------------------------------- robustness


def nested_loops(depth: int, leaf: dict) -> dict:
    module = leaf
    for level in range(depth, 0, -1):
        module = loop(f"l{level}", module)
    return flow_of(module)


def test_one_hundred_levels_of_nesting_validate_cleanly():
    flow = nested_loops(100, reads("leaf", "results.l1 + results.l100"))
    assert validate_flow(flow) == []
    assert len(list(iter_modules(flow["value"]))) == 101


def test_error_at_depth_one_hundred_has_an_exact_path():
    flow = nested_loops(100, reads("leaf", "results.missing"))
    errors = validate_flow(flow)
    expected = "/value/modules/0" + "/value/modules/0" * 100 + X
    assert [e.path for e in errors] == [expected]


def test_very_deep_nesting_does_not_hit_the_recursion_limit():
    depth = sys.getrecursionlimit() + 200
    flow = nested_loops(depth, {"id": "leaf", "value": {"type": "nope"}})
    errors = validate_flow(flow)
    assert [e.path for e in errors] == ["/value/modules/0" + "/value/modules/0" * depth + "/value/type"]


def test_ten_megabyte_flow_validates_in_reasonable_time():
    content = "def main(x=None):\n    return x\n" + "# padding\n" * 400
    modules = []
    for i in range(2400):
        module = reads(f"s{i}", f"results.s{i - 1}" if i else "flow_input")
        module["value"]["content"] = content
        modules.append(module)
    flow = flow_of(*modules)
    assert len(json.dumps(flow)) > 10_000_000
    start = time.perf_counter()
    errors = validate_flow(flow, check_js=lambda e: None)
    elapsed = time.perf_counter() - start
    assert errors == []
    assert elapsed < 20, elapsed


def test_huge_number_of_problems_is_capped():
    flow = flow_of(*[{"id": "a", "value": {"type": "bad"}} for _ in range(5000)])
    errors = validate_flow(flow)
    assert len(errors) <= 1001
    assert errors[-1] == FlowError("", "too many problems; only the first 1000 are listed")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "value",
                    "type",
                    "modules",
                    "summary",
                    "branches",
                    "default",
                    "iterator",
                    "expr",
                    "input_transforms",
                    "retry",
                    "suspend",
                    "schema",
                    "failure_module",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, json_values)
def test_validate_flow_never_raises_or_mutates_on_arbitrary_json(value, schema):
    flow = {"summary": "fuzz", "value": value, "schema": schema}
    before = copy.deepcopy(flow)
    errors = validate_flow(flow, check_js=lambda e: None)
    assert flow == before
    assert all(isinstance(e, FlowError) and isinstance(e.path, str) for e in errors)
    assert not any(e.message.startswith("internal validation error") for e in errors)
