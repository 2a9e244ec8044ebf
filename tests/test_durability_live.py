"""A run survives kill -9 of the worker running its step (DESIGN "Engine contract", issue 4/8)."""

from __future__ import annotations

import os
import signal

import pytest

from runs.models import Run, Step
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def slow_flow(marker_dir: str) -> dict:
    slow = (
        "import os, time\n"
        "def main(x):\n"
        f"    open(os.path.join({marker_dir!r}, 'b-%d' % os.getpid()), 'w').write('started')\n"
        "    time.sleep(2)\n"
        "    return x * 10\n"
    )
    return {"summary": "slow middle step", "value": {"modules": [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": "def main(n):\n    return n + 1",
                              "input_transforms": {"n": {"type": "javascript", "expr": "flow_input.n"}}}},
        {"id": "b", "value": {"type": "rawscript", "language": "python3", "content": slow,
                              "input_transforms": {"x": {"type": "javascript", "expr": "results.a"}}}},
        {"id": "c", "value": {"type": "rawscript", "language": "python3", "content": "def main(y):\n    return {'y': y}",
                              "input_transforms": {"y": {"type": "javascript", "expr": "previous_result"}}}},
    ]}}


def _running_b(run_id):
    return Step.objects.filter(run_id=run_id, key="b", status="running").first()


def test_run_completes_after_kill_9_of_the_whole_worker_mid_step(live, api, tmp_path):
    response = api.post("/api/runs/", {"flow": slow_flow(str(tmp_path)), "args": {"n": 4}}, format="json")
    run_id = response.json()["id"]
    wait_for(lambda: _running_b(run_id) and list(tmp_path.iterdir()), timeout=30, message="step b to start")
    live.kill("worker")  # the worker and its pool children, like a machine losing the process
    try:
        live.start_worker("worker2")
        run = wait_for(lambda: (r := Run.objects.get(pk=run_id)).is_final and r, timeout=60, message="the run to end")
    finally:
        live.kill("worker2", signal.SIGTERM)
        live.start_worker("worker")
    assert run.status == "success"
    assert run.result == {"y": 50}
    detail = api.get(f"/api/runs/{run_id}").json()
    b = next(s for s in detail["steps"] if s["key"] == "b")
    assert b["status"] == "success" and b["result"] == 50
    assert b["attempts"] == 1  # re-delivered, not retried: one committed result
    assert len(list(tmp_path.iterdir())) == 2  # it really ran twice: once killed, once to the end


def test_run_completes_after_kill_9_of_the_pool_child_running_the_step(live, api, tmp_path):
    response = api.post("/api/runs/", {"flow": slow_flow(str(tmp_path)), "args": {"n": 1}}, format="json")
    run_id = response.json()["id"]
    wait_for(lambda: _running_b(run_id) and list(tmp_path.iterdir()), timeout=30, message="step b to start")
    step = _running_b(run_id)
    child_pid = int(step.worker.rsplit(":", 1)[1])
    os.kill(child_pid, signal.SIGKILL)
    run = wait_for(lambda: (r := Run.objects.get(pk=run_id)).is_final and r, timeout=60, message="the run to end")
    assert run.status == "success"
    assert run.result == {"y": 20}
