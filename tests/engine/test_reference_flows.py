"""End to end: every case of tests/flows/expected.json through run_locally with the real expression
evaluator (V8) and the real script sandbox. Checks the engine against the shared reference results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _cases():
    expected = json.loads((FLOWS / "expected.json").read_text())
    for name, cases in expected.items():
        for i, case in enumerate(cases):
            yield pytest.param(name, case, id=f"{name}-{i}")


def _resolved() -> dict:
    resources = json.loads((FLOWS / "resources.json").read_text())
    flows = {path: json.loads((FLOWS / f"{name}.json").read_text()) for path, name in resources.get("flows", {}).items()}
    return {"scripts": resources.get("scripts", {}), "flows": flows}


def _runner(action: dict):
    from runs import sandbox

    out = sandbox.run_script(action["language"], action["content"], action["args"], timeout=action["timeout"] or 30,
                             env={}, memory_mb=512, output_limit=1 << 20)
    return out.success, out.result


@pytest.mark.parametrize("name, case", list(_cases()))
def test_reference_flow_matches_expected_result(name, case):
    from runs.expressions import evaluate
    from runs.local import run_locally

    doc = json.loads((FLOWS / f"{name}.json").read_text())
    doc["_resolved"] = _resolved()
    view = run_locally(doc, case["args"], evaluate=evaluate, run_script=_runner, sleep=lambda seconds: None)
    assert view["status"] == case["status"]
    assert json.dumps(view["result"], sort_keys=True) == json.dumps(case["result"], sort_keys=True)
    if "skipped" in case:
        assert view["skipped"] == case["skipped"]
    for module_id, runs in case.get("attempts", {}).items():
        assert [s["attempts"] for s in view["steps"] if s["module_id"] == module_id] == [runs]
