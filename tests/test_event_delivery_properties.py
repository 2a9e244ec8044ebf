"""Duplicated and reordered engine events through the real task layer (issue 8, "Faults").

Celery delivers at least once, in no guaranteed order. This drives ``runs.orchestrator.apply_event``
on the real database with no worker: ``dispatch`` is replaced by a collector, every action it
receives becomes the event a worker would send back (RunScript -> StepFinished, StartTimer ->
TimerFired; an approval -> ResumeReceived), and hypothesis picks the delivery order and which
events are delivered again, later. Property: the final status, result and step results are the
ones of the plain in-order schedule, and each job's StepFinished is applied exactly once.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs import engine, orchestrator
from runs.models import Run, Step, Timer

pytestmark = pytest.mark.django_db


def script(module_id: str, expr: str, *, sleep: int | None = None, suspend: dict | None = None) -> dict:
    module = {"id": module_id, "value": {"type": "rawscript", "language": "python3", "content": "def main(x): ...",
                                         "input_transforms": {"x": {"type": "javascript", "expr": expr}}}}
    if sleep is not None:
        module["sleep"] = {"type": "static", "value": sleep}
    if suspend is not None:
        module["suspend"] = suspend
    return module


FLOW = {"summary": "delivery", "value": {"modules": [
    script("a", "flow_input.n"),
    {"id": "par", "value": {"type": "branchall", "parallel": True, "branches": [
        {"modules": [script("b1", "results.a")]},
        {"modules": [script("b2", "results.a")]},
    ]}},
    script("c", "results.par", sleep=1),
    script("d", "results.c", suspend={"required_events": 2, "timeout": 600}),
    {"id": "loop", "value": {"type": "forloopflow", "parallel": True,
                             "iterator": {"type": "javascript", "expr": "[1, 2, 3]"},
                             "modules": [script("e", "flow_input.iter.value")]}},
    script("f", "[results.d, results.loop]"),
]}}


def fake_script(action: dict) -> dict:
    """What the 'worker' returns: deterministic in the step and its arguments."""
    return {"step": action["module_id"], "x": action["args"].get("x")}


def evaluate(expr: str, scope: dict):
    """Tiny evaluator for the expressions above (no V8 needed for this property)."""
    table = {
        "flow_input.n": lambda: scope["flow_input"]["n"],
        "results.a": lambda: scope["results"]["a"],
        "results.par": lambda: scope["results"]["par"],
        "results.c": lambda: scope["results"]["c"],
        "[1, 2, 3]": lambda: [1, 2, 3],
        "flow_input.iter.value": lambda: scope["flow_input"]["iter"]["value"],
        "[results.d, results.loop]": lambda: [scope["results"]["d"], scope["results"]["loop"]],
    }
    return table[expr]()


class Network:
    """Events in flight; the schedule decides which is delivered next and what is delivered twice."""

    def __init__(self, monkeypatch):
        self.pending: list[dict] = []
        self.held: list[dict] = []  # suspend timeouts: due 10 minutes later, delivered last
        self.clock = itertools.count(1_000_000)
        self.applied_finishes: dict[str, int] = {}
        monkeypatch.setattr(orchestrator, "dispatch", self.collect)
        monkeypatch.setattr(orchestrator, "evaluate", evaluate)

    def collect(self, run_id, actions: list[dict]) -> None:
        for action in actions:
            if action["type"] == "RunScript":
                self.pending.append({"type": "StepFinished", "job": action["job"], "success": True,
                                     "result": fake_script(action), "rand": 0.5})
            elif action["type"] == "StartTimer":
                event = {"type": "TimerFired", "timer": action["timer"]}
                (self.held if action["reason"] == "suspend_timeout" else self.pending).append(event)

    def deliver(self, run_id, event: dict, capture) -> None:
        with capture(execute=True):
            outcome = orchestrator.apply_event(run_id, {**event, "now": float(next(self.clock))})
        if event["type"] == "StepFinished" and outcome.applied:
            self.applied_finishes[event["job"]] = self.applied_finishes.get(event["job"], 0) + 1


def approvals(run_id) -> list[dict]:
    """The approvals a person would send now, if the run waits for them."""
    run = Run.objects.get(pk=run_id)
    suspended = engine.run_view(run.snapshot, run.state).get("suspended") if run.state else None
    if not suspended:
        return []
    used = set(suspended.get("used_resume_ids") or [])
    rid = next(i for i in itertools.count() if i not in used)
    return [{"type": "ResumeReceived", "step": suspended["step"], "resume_id": rid, "approver": f"u{rid}",
             "payload": {"ok": rid}, "approved": True}]


def run_schedule(monkeypatch, capture, user, choices) -> tuple[Run, Network, list[dict]]:
    """Drive one run to the end; ``choices`` yields (index, duplicate?) decisions."""
    network = Network(monkeypatch)
    run = Run.objects.create(snapshot=FLOW, args={"n": 3}, created_by=user)
    network.deliver(run.pk, {"type": "RunStarted", "args": {"n": 3}}, capture)
    delivered: list[dict] = []
    for _ in range(500):
        if not network.pending:
            network.pending.extend(approvals(run.pk))
        if not network.pending:
            break
        index, duplicate = choices(len(network.pending))
        event = network.pending.pop(index)
        if duplicate:
            network.pending.append(dict(event))  # delivered again later
            if event["type"] == "ResumeReceived":
                network.pending.append(dict(event))  # a double click on the link
        network.deliver(run.pk, event, capture)
        delivered.append(event)
    for event in network.held + delivered[-5:]:  # late suspend timeouts and stale re-deliveries
        network.deliver(run.pk, event, capture)
    run.refresh_from_db()
    return run, network, delivered


def outcome(run: Run) -> dict:
    view = engine.run_view(run.snapshot, run.state)
    return {
        "status": run.status, "result": run.result,
        "steps": sorted((s["key"], s["status"], repr(s.get("result")), s.get("attempts")) for s in view["steps"]),
    }


@pytest.fixture
def reference(monkeypatch, django_capture_on_commit_callbacks, user):
    run, network, _ = run_schedule(monkeypatch, django_capture_on_commit_callbacks, user, lambda n: (0, False))
    assert run.status == "success", run.result
    assert run.result["x"][1] == [{"step": "e", "x": v} for v in (1, 2, 3)]
    return outcome(run)


def test_in_order_schedule_finishes_with_every_step_once(reference):
    keys = [k for k, *_ in reference["steps"]]
    assert {"a", "b1", "b2", "c", "d", "f"} <= {k.rsplit("/", 1)[-1] for k in keys}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_duplicated_and_reordered_deliveries_give_the_same_run(monkeypatch, django_capture_on_commit_callbacks,
                                                               user, reference, data):
    def choose(n: int) -> tuple[int, bool]:
        index = data.draw(st.integers(0, n - 1), label="deliver")
        return index, data.draw(st.booleans(), label="duplicate")

    run, network, delivered = run_schedule(monkeypatch, django_capture_on_commit_callbacks, user, choose)
    assert outcome(run) == reference
    jobs = {e["job"] for e in delivered if e["type"] == "StepFinished"}
    assert network.applied_finishes == {job: 1 for job in jobs}  # each result committed once
    assert not Step.objects.filter(run=run).exclude(status="done").exists()
    assert not Timer.objects.filter(run=run, fired=False).exists()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_stale_step_finished_after_the_end_changes_nothing(monkeypatch, django_capture_on_commit_callbacks,
                                                           user, data):
    run, network, delivered = run_schedule(monkeypatch, django_capture_on_commit_callbacks, user,
                                           lambda n: (0, False))
    before = (run.version, outcome(run))
    finishes = [e for e in delivered if e["type"] == "StepFinished"]
    for event in data.draw(st.lists(st.sampled_from(finishes), min_size=1, max_size=5)):
        network.deliver(run.pk, {**event, "result": {"forged": True}}, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.version, outcome(run)) == before
