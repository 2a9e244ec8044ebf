"""Drive the engine event by event the way the Celery layer does: the state goes through
json.dumps/loads between events, inputs are checked for mutation, and (optionally) every event is
delivered twice to check that the duplicate is ignored."""

from __future__ import annotations

import copy
import json
from typing import Any

from runs.engine import advance, run_view

from .jseval import evaluate as default_evaluate


class ScriptError(Exception):
    pass


def fail(message: str = "boom") -> Any:
    raise ScriptError(message)


def python_runner(action: dict) -> tuple[bool, Any]:
    """Run a test rawscript: `content` is a Python expression over the args (+ attempt, fail)."""
    names = dict(action["args"] or {})
    names.update(args=action["args"], attempt=action["attempt"], fail=fail, job=action["job"])
    try:
        return True, eval(action["content"] or "None", {"__builtins__": __builtins__}, names)  # noqa: S307
    except Exception as exc:  # noqa: BLE001
        return False, {"error": {"name": type(exc).__name__, "message": str(exc), "step_id": action["module_id"]}}


class Harness:
    def __init__(self, flow: dict, evaluate=default_evaluate, *, duplicate: bool = False,
                 roundtrip: bool = True):
        self.flow = flow
        self.flow_snapshot = copy.deepcopy(flow)
        self.evaluate = evaluate
        self.duplicate = duplicate
        self.roundtrip = roundtrip
        self.state: dict | None = None
        self.now = 1000.0
        self.history: list[dict] = []  # every action, in order
        self.pending: list[dict] = []  # RunScript actions not answered yet
        self.timers: dict[str, dict] = {}  # StartTimer actions not fired yet
        self.finished: dict | None = None
        self.events: list[dict] = []

    # -- raw event delivery -----------------------------------------------------------------
    def send(self, event: dict) -> list[dict]:
        event = {"now": self.now, **event}
        before = copy.deepcopy(self.state)
        event_before = copy.deepcopy(event)
        new, actions = advance(self.flow, self.state, event, evaluate=self.evaluate)
        assert self.state == before, "advance mutated its input state"
        assert event == event_before, "advance mutated the event"
        json.dumps(actions)
        if self.roundtrip and new is not None:
            new = json.loads(json.dumps(new))
        if self.duplicate and new is not None:
            again, extra = advance(self.flow, new, event, evaluate=self.evaluate)
            assert extra == [], f"duplicate {event['type']} produced actions {extra}"
            assert again == new, f"duplicate {event['type']} changed the state"
        self.events.append(event)
        self.state = new
        self._record(actions)
        return actions

    def _record(self, actions: list[dict]) -> None:
        for action in actions:
            self.history.append(action)
            kind = action["type"]
            if kind == "RunScript":
                self.pending.append(action)
            elif kind == "StartTimer":
                self.timers[action["timer"]] = action
            elif kind == "CancelJobs":
                self.pending = [a for a in self.pending if a["job"] not in action["jobs"]]
            elif kind == "RunFinished":
                self.finished = action

    # -- convenience events -----------------------------------------------------------------
    def start(self, args: Any = None, **extra: Any) -> list[dict]:
        return self.send({"type": "RunStarted", "args": {} if args is None else args, **extra})

    def finish(self, job_or_action: Any, success: bool = True, result: Any = None, rand: float = 0.5,
               unrecoverable: bool = False) -> list[dict]:
        job = job_or_action["job"] if isinstance(job_or_action, dict) else job_or_action
        self.pending = [a for a in self.pending if a["job"] != job]
        event = {"type": "StepFinished", "job": job, "success": success, "result": result, "rand": rand}
        if unrecoverable:
            event["unrecoverable"] = True
        return self.send(event)

    def fire(self, timer: Any) -> list[dict]:
        tid = timer["timer"] if isinstance(timer, dict) else timer
        action = self.timers.pop(tid, None)
        if action is not None:
            self.now += action["delay"]
        return self.send({"type": "TimerFired", "timer": tid})

    def resume(self, step: str, resume_id: int = 0, payload: Any = None, approver: str | None = None,
               approved: bool = True) -> list[dict]:
        return self.send({"type": "ResumeReceived", "step": step, "resume_id": resume_id, "approver": approver,
                          "payload": payload, "approved": approved})

    def cancel(self, reason: str = "manual", canceler: str = "alice") -> list[dict]:
        return self.send({"type": "CancelReceived", "reason": reason, "canceler": canceler})

    # -- driving ----------------------------------------------------------------------------
    def job(self, step_key: str) -> dict:
        for action in self.pending:
            if action["step_key"] == step_key:
                return action
        raise AssertionError(f"no pending job for {step_key}; pending={[a['step_key'] for a in self.pending]}")

    def drive(self, runner=python_runner, *, rand: float = 0.5, fire_suspend_timeouts: bool = False,
              max_events: int = 100000) -> dict:
        """Answer jobs (FIFO) and fire timers (earliest first) until the run finishes or only
        a suspension is left. Returns the run view."""
        for _ in range(max_events):
            if self.finished is not None or self.state is None or self.state.get("status") != "running":
                break
            if self.pending:
                action = self.pending[0]
                ok, result = runner(action)
                self.finish(action, ok, result, rand=rand)
                continue
            live = [t for t in self.timers.values()
                    if fire_suspend_timeouts or t["reason"] != "suspend_timeout"]
            if live:
                self.fire(min(live, key=lambda t: t["delay"]))
                continue
            break
        return self.view

    def run(self, args: Any = None, runner=python_runner, **extra: Any) -> dict:
        self.start(args, **extra)
        return self.drive(runner)

    @property
    def view(self) -> dict:
        return run_view(self.flow, self.state)

    def step(self, key: str) -> dict:
        for st in self.view["steps"]:
            if st["key"] == key:
                return st
        raise AssertionError(f"no step {key}")

    def scripts_run(self) -> list[str]:
        return [a["step_key"] for a in self.history if a["type"] == "RunScript"]

    def assert_flow_untouched(self) -> None:
        assert self.flow == self.flow_snapshot, "advance mutated the flow"


def run_flow(flow: dict, args: Any = None, runner=python_runner, **kwargs: Any) -> Harness:
    harness = Harness(flow, **kwargs)
    harness.run(args, runner)
    harness.assert_flow_untouched()
    return harness
