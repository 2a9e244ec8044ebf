"""Whole-run cancel stops the script that is running (issue 4) and the run ends canceled."""

from __future__ import annotations

import os
import time

import pytest

from runs.models import Run, Step
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _proc_state(pid) != "Z"


def _proc_state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().split(")")[1].split()[0]
    except OSError:
        return "X"


def test_cancel_kills_the_running_script_and_the_run_ends_canceled(live, api, tmp_path):
    pid_file = tmp_path / "pid"
    script = ("import os, time\n"
              "def main():\n"
              f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
              "    time.sleep(60)\n"
              "    return 'not canceled'\n")
    flow = {"summary": "long", "value": {"modules": [
        {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": script, "input_transforms": {}}},
        {"id": "b", "value": {"type": "identity"}},
    ]}}
    run_id = api.post("/api/runs/", {"flow": flow, "args": {}}, format="json").json()["id"]
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=30, message="the script to start")
    pid = int(pid_file.read_text())
    started = time.monotonic()
    response = api.post(f"/api/runs/{run_id}/cancel", {"reason": "user asked"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "canceled"
    assert body["result"]["error"]["name"] == "Canceled"
    wait_for(lambda: not _alive(pid), timeout=10, message="the script process to be killed")
    assert time.monotonic() - started < 10
    run = Run.objects.get(pk=run_id)
    assert run.status == "canceled"
    time.sleep(1)  # a late StepFinished from the killed job must not change the final state
    assert Run.objects.get(pk=run_id).result == run.result
    assert not Step.objects.filter(run_id=run_id, status__in=("queued", "running")).exists()
