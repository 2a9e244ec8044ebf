"""runs/local.py: the in-process driver."""

from __future__ import annotations

from runs.local import run_locally

from .flows import flow, forloop, ident, script, static
from .harness import python_runner
from .jseval import evaluate


class FakeClock:
    def __init__(self):
        self.t = 100.0
        self.slept = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.t += seconds


def test_run_locally_runs_scripts_and_returns_final_view():
    doc = flow(script("a", "n + 1", {"n": "flow_input.n"}), forloop("l", "[1, 2]", [script("s", "1")], parallel=True))
    view = run_locally(doc, {"n": 1}, evaluate=evaluate, run_script=python_runner)
    assert view["status"] == "success"
    assert view["result"] == [1, 1]


def test_run_locally_honours_sleep_and_retry_timers_with_the_given_sleep():
    clock = FakeClock()
    doc = flow(script("a", "1", sleep=static(5)),
               script("b", "fail('x') if attempt == 1 else 'ok'", retry={"constant": {"attempts": 1, "seconds": 2}}))
    view = run_locally(doc, {}, evaluate=evaluate, run_script=python_runner, now=clock.now, sleep=clock.sleep)
    assert view["result"] == "ok"
    assert clock.slept == [5, 2]
    assert view["finished_at"] == 107.0


def test_run_locally_with_noop_sleep_is_instant_but_keeps_timestamps_ordered():
    doc = flow(script("a", "1", sleep=static(3600)), ident("b"))
    view = run_locally(doc, {}, evaluate=evaluate, run_script=python_runner, sleep=lambda s: None)
    assert view["status"] == "success"
    assert view["finished_at"] - view["started_at"] >= 3600


def test_run_locally_returns_suspended_view_without_on_suspend():
    doc = flow(script("a", "1", suspend={"required_events": 1}), ident("b"))
    view = run_locally(doc, {}, evaluate=evaluate, run_script=python_runner, sleep=lambda s: None)
    assert view["status"] == "suspended"
    assert view["suspended"]["step"] == "a"


def test_run_locally_on_suspend_can_resume():
    doc = flow(script("a", "1", suspend={"required_events": 1}), script("b", "r", {"r": "resume"}))

    def on_suspend(view):
        return [{"type": "ResumeReceived", "step": view["suspended"]["step"], "resume_id": 0, "approver": "me",
                 "payload": {"ok": 1}, "approved": True}]

    view = run_locally(doc, {}, evaluate=evaluate, run_script=python_runner, on_suspend=on_suspend)
    assert view["result"] == {"ok": 1}


def test_run_locally_on_suspend_empty_list_lets_timeout_fire():
    doc = flow(script("a", "1", suspend={"required_events": 1, "timeout": 10}), ident("b"))
    view = run_locally(doc, {}, evaluate=evaluate, run_script=python_runner, sleep=lambda s: None,
                       on_suspend=lambda view: [])
    assert view["status"] == "failure"
    assert view["result"]["error"]["name"] == "SuspendedTimedOut"


def test_run_locally_runner_exception_fails_the_step():
    def broken(action):
        raise RuntimeError("runner crashed")

    view = run_locally(flow(script("a", "1")), {}, evaluate=evaluate, run_script=broken)
    assert view["status"] == "failure"
    assert view["result"]["error"] == {"name": "RuntimeError", "message": "runner crashed", "step_id": "a"}


def test_run_locally_calls_on_update_after_every_event():
    seen = []
    run_locally(flow(script("a", "1"), script("b", "2")), {}, evaluate=evaluate, run_script=python_runner,
                on_update=lambda view: seen.append(view["status"]))
    assert seen == ["running", "running", "success"]
