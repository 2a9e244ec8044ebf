"""The shared example library in tests/flows: examples are valid, invalid ones report exactly their paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from editor.openflow import OPENFLOW_SCHEMA, runnability_errors, validate_flow

FLOWS = Path(__file__).parent / "flows"
INVALID = FLOWS / "invalid"
NOT_FLOWS = {"expected.json", "resources.json"}

EXAMPLES = sorted(p.stem for p in FLOWS.glob("*.json") if p.name not in NOT_FLOWS)
INVALID_CASES = sorted(p.name[: -len(".errors.json")] for p in INVALID.glob("*.errors.json"))


def load(path: Path):
    return json.loads(path.read_text())


RESOURCES = load(FLOWS / "resources.json")
EXPECTED = load(FLOWS / "expected.json")
KNOWN_SCRIPTS = set(RESOURCES["scripts"])
KNOWN_FLOWS = set(RESOURCES["flows"])


def bracket_checker(expr: str) -> str | None:
    """Stand-in for the V8 compiler: rejects unbalanced brackets, which is all the fixtures need."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for ch in expr:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return f"Unexpected token '{ch}'"
    return "Unexpected end of input" if stack else None


def test_library_is_not_empty():
    assert len(EXAMPLES) >= 30
    assert len(INVALID_CASES) >= 10


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_flow_validates_clean(name):
    flow = load(FLOWS / f"{name}.json")
    errors = validate_flow(
        flow, check_js=bracket_checker, known_scripts=KNOWN_SCRIPTS, known_flows=KNOWN_FLOWS
    )
    assert errors == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_flow_matches_the_published_full_schema(name):
    from jsonschema import Draft202012Validator

    flow = load(FLOWS / f"{name}.json")
    assert list(Draft202012Validator(OPENFLOW_SCHEMA).iter_errors(flow)) == []


@pytest.mark.parametrize("name", EXAMPLES + [f"invalid/{n}" for n in INVALID_CASES])
def test_validation_never_mutates_the_flow(name):
    flow = load(FLOWS / f"{name}.json")
    before = copy.deepcopy(flow)
    validate_flow(flow, check_js=bracket_checker, known_scripts=KNOWN_SCRIPTS, known_flows=KNOWN_FLOWS)
    assert flow == before
    assert json.dumps(flow, sort_keys=True) == json.dumps(before, sort_keys=True)


@pytest.mark.parametrize("name", INVALID_CASES)
def test_invalid_flow_reports_exactly_its_expected_paths(name):
    flow = load(INVALID / f"{name}.json")
    sidecar = load(INVALID / f"{name}.errors.json")
    errors = validate_flow(flow, check_js=bracket_checker)
    assert {e.path for e in errors} == set(sidecar["expected_errors"])
    assert all(e.message for e in errors)


def test_invalid_js_fixtures_are_reported_by_the_real_v8_checker():
    expressions = pytest.importorskip("runs.expressions")
    syntax_error = getattr(expressions, "syntax_error", None)
    if syntax_error is None:
        pytest.skip("runs.expressions.syntax_error not available")
    for name in INVALID_CASES:
        sidecar = load(INVALID / f"{name}.errors.json")
        if not sidecar["needs_check_js"]:
            continue
        errors = validate_flow(load(INVALID / f"{name}.json"), check_js=syntax_error)
        assert {e.path for e in errors} == set(sidecar["expected_errors"]), name


def test_example_flows_have_no_js_syntax_errors_under_v8():
    expressions = pytest.importorskip("runs.expressions")
    syntax_error = getattr(expressions, "syntax_error", None)
    if syntax_error is None:
        pytest.skip("runs.expressions.syntax_error not available")
    for name in EXAMPLES:
        errors = validate_flow(
            load(FLOWS / f"{name}.json"),
            check_js=syntax_error,
            known_scripts=KNOWN_SCRIPTS,
            known_flows=KNOWN_FLOWS,
        )
        assert errors == [], name


def test_invalid_sidecars_have_the_documented_shape():
    for name in INVALID_CASES:
        sidecar = load(INVALID / f"{name}.errors.json")
        assert set(sidecar) == {"description", "needs_check_js", "expected_errors"}
        assert sidecar["expected_errors"], name
        assert all(isinstance(p, str) and (p == "" or p.startswith("/")) for p in sidecar["expected_errors"])


def test_expected_results_name_existing_flows_with_well_formed_cases():
    for name, cases in EXPECTED.items():
        assert name in EXAMPLES, name
        assert cases, name
        for case in cases:
            assert {"args", "status", "result"} <= set(case), name
            assert set(case) <= {"args", "status", "result", "skipped", "attempts"}, name
            assert case["status"] in ("success", "failure"), name
            assert isinstance(case["args"], dict), name


def test_flows_needing_approval_or_ai_have_no_expected_results():
    assert "suspend_resume_form" not in EXPECTED
    assert "ai_agent" not in EXPECTED


def test_every_runnable_example_has_expected_results():
    not_runnable = {"suspend_resume_form", "ai_agent"}
    assert set(EXAMPLES) - not_runnable == set(EXPECTED)


def test_only_the_ai_agent_example_is_flagged_as_not_runnable():
    flagged = {n for n in EXAMPLES if runnability_errors(load(FLOWS / f"{n}.json"))}
    assert flagged == {"ai_agent"}


def test_reference_examples_point_at_library_resources():
    assert RESOURCES["flows"]["f/examples/python_rawscript"] == "python_rawscript"
    for target in RESOURCES["flows"].values():
        assert target in EXAMPLES
    for script in RESOURCES["scripts"].values():
        assert script["language"] in ("python3", "deno", "bash")
        assert "def main" in script["content"] or "function main" in script["content"]


def test_references_are_unknown_without_the_resources():
    errors = validate_flow(load(FLOWS / "saved_script_reference.json"), known_scripts=set())
    assert [e.path for e in errors] == ["/value/modules/0/value/path"]


def test_exports_carry_windmill_metadata_that_is_kept():
    exports = [n for n in EXAMPLES if n.startswith("export_")]
    assert len(exports) >= 4
    for name in exports:
        flow = load(FLOWS / f"{name}.json")
        assert {"path", "edited_by", "edited_at", "summary", "value", "schema"} <= set(flow)
        assert validate_flow(flow, known_scripts=KNOWN_SCRIPTS, known_flows=KNOWN_FLOWS) == []
