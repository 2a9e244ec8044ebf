"""Every runnable example flow, through the API, a real Celery worker and real script processes.

Expected results come from tests/flows/expected.json (derived from the semantics spec).
"""

from __future__ import annotations

import json
import math

import pytest

from editor.models import Flow, Script
from runs.models import Run
from tests.conftest import FLOWS_DIR, load_flow, wait_for

pytestmark = pytest.mark.worker

EXPECTED = json.loads((FLOWS_DIR / "expected.json").read_text())
CASES = [(name, i, case) for name, cases in EXPECTED.items() for i, case in enumerate(cases)]


def same_json(a, b) -> bool:
    """JSON equality where 121 == 121.0 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def install_resources(user) -> None:
    resources = json.loads((FLOWS_DIR / "resources.json").read_text())
    for path, script in resources.get("scripts", {}).items():
        Script.objects.create(path=path, owner=user, language=script["language"], content=script["content"],
                              summary=script.get("summary", ""))
    for path, name in resources.get("flows", {}).items():
        openflow = {k: v for k, v in load_flow(name).items() if k != "path"}
        Flow.objects.create(path=path, owner=user, summary=openflow.get("summary", ""), openflow=openflow)


def finished(run_id):
    run = Run.objects.get(pk=run_id)
    return run if run.is_final else None


@pytest.mark.parametrize(("name", "index", "case"), CASES, ids=[f"{n}-{i}" for n, i, _ in CASES])
def test_example_flow_gives_the_expected_result_through_a_real_worker(live, api, user, name, index, case):
    install_resources(user)
    flow = load_flow(name)
    response = api.post("/api/runs/", {"flow": flow, "args": case["args"]}, format="json")
    assert response.status_code == 201, response.json()
    run = wait_for(lambda: finished(response.json()["id"]), timeout=60, message=f"{name} to finish")
    detail = api.get(f"/api/runs/{run.pk}").json()
    assert run.status == case["status"], json.dumps(detail, indent=1)[:3000]
    assert same_json(run.result, case["result"]), (run.result, case["result"])
    if "skipped" in case:
        assert run.skipped is case["skipped"]
    for module_id, attempts in case.get("attempts", {}).items():
        step = next(s for s in detail["steps"] if s["key"] == module_id)
        assert step["attempts"] == attempts


def _python_step(module_id: str, body: str) -> dict:
    return {"id": module_id, "value": {"type": "rawscript", "language": "python3", "input_transforms": {},
                                        "content": "def main():\n" + body}}


def test_a_result_with_a_nul_character_fails_the_step_with_its_path_and_logs_show_it_replaced(live, api):
    """PostgreSQL can't store U+0000: the run must end (failed, saying where), never get stuck."""
    flow = {"summary": "nul", "value": {"modules": [
        _python_step("a", "    print('before\\x00after')\n    return {'rows': ['ok', 'bad\\x00']}\n")]}}
    run_id = api.post("/api/runs/", {"flow": flow, "args": {}}, format="json").json()["id"]
    run = wait_for(lambda: finished(run_id), timeout=60, message="the run to finish")
    assert run.status == "failure"
    assert run.result["error"]["name"] == "ExecutionErr"
    assert "/rows/1" in run.result["error"]["message"]
    step = next(s for s in api.get(f"/api/runs/{run_id}").json()["steps"] if s["key"] == "a")
    assert "before\ufffdafter" in step["logs"]


def test_the_error_handler_learns_which_step_failed_from_the_error_object(live, api):
    """Spec 5.1: a script's error object carries ``step_id``; handlers report it (e.g. in an alert)."""
    handler = {"id": "failure", "value": {
        "type": "rawscript", "language": "python3", "content": "def main(failed: str, name: str):\n    return [failed, name]\n",
        "input_transforms": {"failed": {"type": "javascript", "expr": "error.step_id"},
                             "name": {"type": "javascript", "expr": "error.name"}}}}
    flow = {"summary": "which step", "value": {"modules": [
        _python_step("fetch", "    return 1\n"),
        _python_step("charge_card", "    raise ValueError('card declined')\n")], "failure_module": handler}}
    run_id = api.post("/api/runs/", {"flow": flow, "args": {}}, format="json").json()["id"]
    run = wait_for(lambda: finished(run_id), timeout=60, message="the run to finish")
    assert (run.status, run.result) == ("failure", ["charge_card", "ValueError"])
