"""Hostile scripts through the engine and through a real worker (issue 8, "Hostile input").

tests/test_sandbox.py proves each limit on ``sandbox.run_script`` alone. Here the same attacks go
through a flow: in-process with ``run_locally`` (the step fails with the limit's error, the run
fails cleanly, the next run is fine), and on the live stack (the worker survives, the secrets in
its environment stay out of the script's environment).
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from django.conf import settings as django_settings

from runs import sandbox
from runs.local import run_locally
from runs.models import Run
from runs.orchestrator import evaluate
from tests.conftest import wait_for


def py_flow(content: str, *, timeout: int | None = None, then: bool = True) -> dict:
    module = {"id": "a", "value": {"type": "rawscript", "language": "python3", "content": content,
                                   "input_transforms": {}}}
    if timeout is not None:
        module["timeout"] = timeout
    modules = [module]
    if then:
        modules.append({"id": "b", "value": {"type": "rawscript", "language": "python3",
                                             "content": "def main():\n    return 'after'\n", "input_transforms": {}}})
    return {"summary": "hostile script", "value": {"modules": modules}}


def real_script(action: dict):
    outcome = sandbox.run_script(action["language"], action["content"], action.get("args") or {},
                                 timeout=float(action.get("timeout") or 20), env={}, memory_mb=256,
                                 output_limit=1_000_000, max_processes=32)
    return outcome.success, outcome.result


def run(flow: dict) -> dict:
    return run_locally(flow, {}, evaluate=evaluate, run_script=real_script, sleep=lambda s: None)


def failed_with(view: dict) -> dict:
    assert view["status"] == "failure", view
    assert [s["status"] for s in view["steps"] if s["key"] == "a"] == ["failure"]
    assert not any(s["key"] == "b" and s["status"] == "success" for s in view["steps"])
    return view["result"]["error"]


def assert_next_run_succeeds() -> None:
    assert run(py_flow("def main():\n    return 1\n", then=False))["result"] == 1


# --- in-process, through the engine -----------------------------------------------------------------------

def test_fork_bomb_fails_the_step_and_is_cleaned_up():
    src = "import os, time\ndef main():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            time.sleep(0.01)\n"
    t0 = time.monotonic()
    error = failed_with(run(py_flow(src, timeout=15)))
    assert error["name"] in ("ProcessLimitExceeded", "Canceled", "Timeout")
    assert time.monotonic() - t0 < 20
    assert_next_run_succeeds()


def test_memory_hog_fails_the_step_with_the_memory_limit():
    error = failed_with(run(py_flow("def main():\n    return len(bytearray(2 * 1024 ** 3))\n")))
    assert error == {**error, "name": "MemoryLimitExceeded", "message": "Script exceeded memory limit of 256 MB"}
    assert_next_run_succeeds()


def test_a_gigabyte_of_output_is_cut_at_the_output_limit():
    src = "import sys\ndef main():\n    line = 'x' * 1023 + '\\n'\n    for _ in range(1024 * 1024):\n        sys.stdout.write(line)\n"
    t0 = time.monotonic()
    error = failed_with(run(py_flow(src)))
    assert error["name"] == "OutputLimitExceeded"
    assert time.monotonic() - t0 < 15
    assert_next_run_succeeds()


def test_infinite_sleep_is_killed_at_the_step_timeout():
    t0 = time.monotonic()
    error = failed_with(run(py_flow("import time\ndef main():\n    time.sleep(10 ** 6)\n", timeout=1)))
    assert (error["name"], error["canceler"], error["reason"]) == ("Canceled", "timeout", "duration > 1")
    assert time.monotonic() - t0 < 5
    assert_next_run_succeeds()


# --- live worker ---------------------------------------------------------------------------------------------

SNOOP = """
import os
def main():
    found = {}
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        found[name] = os.environ.get(name)
    return {"env": found, "keys": sorted(os.environ)}
"""

PROC_SNOOP = """
import os
def main(needles):
    leaks = []
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            data = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
        except OSError:
            continue
        leaks += [n for n in needles if n in data]
    return sorted(set(leaks))
"""


@pytest.fixture(scope="module")
def worker_with_secrets(live_stack):
    """Restart the live worker once with SECRET_KEY, DATABASE_URL and REDIS_URL in its environment."""
    live = live_stack
    live.kill("worker", signal.SIGTERM)
    saved = dict(live.env)
    live.env["SECRET_KEY"] = django_settings.SECRET_KEY
    try:
        live.start_worker("worker")
        yield live
    finally:
        live.env.clear()
        live.env.update(saved)
        live.kill("worker", signal.SIGTERM)
        live.start_worker("worker")


def start(api, flow: dict, args=None) -> str:
    response = api.post("/api/runs/", {"flow": flow, "args": args or {}}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def final(run_id: str, timeout: float = 60) -> Run:
    return wait_for(lambda: (r := Run.objects.get(pk=run_id)).is_final and r, timeout=timeout, message="the run to end")


@pytest.mark.worker
def test_script_on_a_worker_does_not_see_the_servers_secrets(worker_with_secrets, live, api):
    assert worker_with_secrets.env["SECRET_KEY"] and worker_with_secrets.env["DATABASE_URL"]
    run = final(start(api, py_flow(SNOOP, then=False)))
    assert run.status == "success", run.result
    assert run.result["env"] == {"SECRET_KEY": None, "DATABASE_URL": None, "REDIS_URL": None}
    assert not [k for k in run.result["keys"] if k.startswith(("DJANGO", "CELERY", "OPENFLOW", "DB_"))]


@pytest.mark.worker
def test_script_cannot_read_the_secrets_through_proc_or_the_var_dir(worker_with_secrets, live, api):
    needles = [django_settings.SECRET_KEY, worker_with_secrets.env["DATABASE_URL"]]
    flow = py_flow(PROC_SNOOP, then=False)
    flow["value"]["modules"][0]["value"]["input_transforms"] = {
        "needles": {"type": "static", "value": needles}}
    run = final(start(api, flow))
    assert run.status == "success", run.result
    assert run.result == []
    # var/ holds secret_key (when SECRET_KEY is not set), the SQLite database and Redis's data.
    canary = var_canary()
    for path in (canary, django_settings.VAR_DIR / "secret_key"):
        reader = py_flow(f"def main():\n    return open({str(path)!r}).read()\n", then=False)
        failed = final(start(api, reader))
        assert failed.status == "failure"
        assert failed.result["error"]["name"] == "PermissionError", failed.result


def var_canary():
    """A file in the server's var dir that the host can read and a script must not."""
    canary = django_settings.VAR_DIR / "canary.txt"
    canary.write_text("a-secret-a-script-must-not-read")
    return canary


@pytest.mark.worker
@pytest.mark.parametrize("language", ["bash", "deno"])
def test_bash_and_deno_scripts_cannot_read_the_var_dir_or_change_the_project(worker_with_secrets, live, api,
                                                                             language):
    secret_file = var_canary()
    project_file = django_settings.BASE_DIR / "runs" / "tasks.py"
    if language == "bash":
        content = (f"cat {secret_file} && echo READ\n"
                   f"echo '# pwned' >> {project_file} && echo WROTE\necho done\n")
    else:
        content = ("export async function main() {\n  const out: string[] = [];\n"
                   f"  try {{ await Deno.readTextFile({str(secret_file)!r}); out.push('READ'); }} catch (e) {{ out.push(String(e.name)); }}\n"
                   "  return out;\n}\n")
    flow = {"summary": "snoop", "value": {"modules": [{"id": "a", "value": {
        "type": "rawscript", "language": language, "content": content, "input_transforms": {}}}]}}
    before = project_file.read_bytes()
    try:
        run = final(start(api, flow), timeout=90)
        assert project_file.read_bytes() == before
    finally:
        project_file.write_bytes(before)  # should the assertion fail, leave the checkout as it was
    assert run.status == "success", run.result
    assert "READ" not in json.dumps(run.result) and "WROTE" not in json.dumps(run.result)
    if language == "deno":
        assert run.result in (["PermissionDenied"], ["NotCapable"]), run.result


@pytest.mark.worker
def test_worker_survives_a_memory_hog_and_a_fork_bomb_and_runs_the_next_flow(live, api):
    hog = final(start(api, py_flow("def main():\n    return len(bytearray(4 * 1024 ** 3))\n")))
    assert hog.status == "failure"
    assert hog.result["error"]["name"] == "MemoryLimitExceeded"
    bomb = final(start(api, py_flow("import os\ndef main():\n    while True:\n        try:\n            os.fork()\n"
                                    "        except OSError:\n            pass\n", timeout=10)), timeout=90)
    assert bomb.status == "failure"
    assert bomb.result["error"]["name"] in ("ProcessLimitExceeded", "Canceled", "Timeout")
    assert live.procs["worker"].poll() is None
    assert final(start(api, py_flow("def main():\n    return 5\n", then=False))).result == 5


KILL_PARENT = "import os, signal\ndef main():\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 'still here'\n"

KILL_WORKER = """
import os, signal
def main():
    pid = os.getppid()
    while pid > 1:  # up to the Celery pool process that runs this step
        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        if b"celery" in cmd:
            os.kill(pid, signal.SIGKILL)
            return "killed"
        pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    return "no worker found"
"""


@pytest.mark.worker
def test_script_killing_its_parent_does_not_hurt_the_run_or_the_worker(live, api):
    """The script's parent is the sandbox's fork server, not the worker: the step still reports."""
    run = final(start(api, py_flow(KILL_PARENT)))
    assert run.status == "success", run.result
    assert live.procs["worker"].poll() is None
    assert final(start(api, py_flow("def main():\n    return 6\n", then=False))).result == 6


@pytest.mark.worker
def test_script_killing_the_worker_process_is_reported_and_the_worker_recovers(live, api):
    run_id = start(api, py_flow(KILL_WORKER))
    try:
        run = final(run_id, timeout=30)  # 3 deliveries at the live stack's 4 s staleness fit in 30 s
        assert run.status == "failure", run.result
        assert run.result["error"]["message"]
    finally:
        api.post(f"/api/runs/{run_id}/cancel")  # stop the poison loop for the tests that follow
        assert live.procs["worker"].poll() is None
        assert final(start(api, py_flow("def main():\n    return 6\n", then=False))).result == 6
