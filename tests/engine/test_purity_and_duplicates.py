"""Engine contract: pure, JSON-serialisable state, duplicated / stale events ignored.

Property-style: hypothesis builds random flows (nested loops, branches, retries, sleeps, stops,
continue_on_error, failures) and runs each one three ways — plain, with JSON round-trips between
events, and with every event delivered twice — and all three must agree.
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runs.engine import advance

from .flows import branchall, branchone, flow, forloop, ident, script, static
from .harness import Harness, python_runner, run_flow
from .jseval import evaluate


class _Ids:
    def __init__(self):
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"m{self.n}"


def _options(draw) -> dict:
    opts: dict = {}
    if draw(st.booleans()):
        opts["retry"] = {"constant": {"attempts": draw(st.integers(1, 2)), "seconds": draw(st.sampled_from([0, 2]))}}
    if draw(st.integers(0, 4)) == 0:
        opts["continue_on_error"] = True
    if draw(st.integers(0, 5)) == 0:
        opts["sleep"] = static(draw(st.sampled_from([0, 1.5])))
    if draw(st.integers(0, 6)) == 0:
        opts["stop_after_if"] = {"expr": draw(st.sampled_from(["true", "false"])), "skip_if_stopped": draw(st.booleans())}
    if draw(st.integers(0, 6)) == 0:
        opts["skip_if"] = {"expr": draw(st.sampled_from(["true", "false"]))}
    return opts


@st.composite
def modules(draw, depth=0, ids=None):
    ids = ids or _Ids()
    count = draw(st.integers(0 if depth else 1, 3))
    out = []
    for _ in range(count):
        kind = draw(st.sampled_from(["identity", "script", "script", "loop", "branchone", "branchall"]
                                    if depth < 2 else ["identity", "script"]))
        mid = ids.next()
        opts = _options(draw)
        if kind == "identity":
            out.append(ident(mid, **opts))
        elif kind == "script":
            behaviour = draw(st.sampled_from(["ok", "ok", "fail", "flaky"]))
            content = {"ok": f"'{mid}'", "fail": "fail('always')", "flaky": f"fail('once') if attempt == 1 else '{mid}'"}
            out.append(script(mid, content[behaviour], {"p": "previous_result"}, **opts))
        elif kind == "loop":
            items = draw(st.lists(st.integers(0, 3), max_size=3))
            out.append(forloop(mid, static(items), draw(modules(depth + 1, ids)), parallel=draw(st.booleans()),
                               skip_failures=draw(st.booleans()), **opts))
        elif kind == "branchone":
            out.append(branchone(mid, [(draw(st.sampled_from(["true", "false"])), draw(modules(depth + 1, ids)))],
                                 default=draw(modules(depth + 1, ids)), **opts))
        else:
            out.append(branchall(mid, [draw(modules(depth + 1, ids)) for _ in range(draw(st.integers(0, 2)))],
                                 parallel=draw(st.sampled_from([None, False])), **opts))
    return out


@st.composite
def flows(draw):
    ids = _Ids()
    mods = draw(modules(0, ids))
    failure = script("failure", "{'recover': r}", {"r": "false"}) if draw(st.booleans()) else None
    return flow(*mods, failure=failure)


def _outcome(h: Harness) -> tuple:
    view = h.view
    return view["status"], json.dumps(view["result"], sort_keys=True), view["skipped"], h.scripts_run()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows())
def test_every_event_delivered_twice_gives_the_same_run(doc):
    plain = run_flow(doc, {"x": 1}, roundtrip=False)
    twice = run_flow(doc, {"x": 1}, duplicate=True)
    assert plain.finished is not None, "random flows never suspend, so they must finish"
    assert _outcome(plain) == _outcome(twice)
    assert plain.view["status"] in ("success", "failure")
    assert "InternalErr" not in json.dumps(plain.state)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows())
def test_json_round_trip_between_events_gives_the_same_run(doc):
    plain = run_flow(doc, {"x": 1}, roundtrip=False)
    stored = run_flow(doc, {"x": 1}, roundtrip=True)
    assert _outcome(plain) == _outcome(stored)
    assert json.loads(json.dumps(stored.state)) == stored.state


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows())
def test_replaying_every_past_event_after_the_end_changes_nothing(doc):
    h = run_flow(doc, {"x": 1})
    final = copy.deepcopy(h.state)
    for event in h.events:
        state, actions = advance(doc, h.state, event, evaluate=evaluate)
        assert actions == [] and state == final


def test_stale_step_finished_for_an_old_job_is_ignored_mid_run():
    h = Harness(flow(script("a", "1"), script("b", "2"), script("c", "3")))
    (first,) = h.start({})
    h.finish(first, True, 1)
    state = h.state
    assert h.finish(first, True, "again") == []
    assert h.state == state


def test_step_finished_for_unknown_job_is_ignored():
    h = Harness(flow(script("a", "1")))
    h.start({})
    state = h.state
    assert h.send({"type": "StepFinished", "job": "nope", "success": True, "result": 1}) == []
    assert h.state == state


def test_timer_fired_for_unknown_timer_is_ignored():
    h = Harness(flow(script("a", "1")))
    h.start({})
    state = h.state
    assert h.send({"type": "TimerFired", "timer": "t99"}) == []
    assert h.state == state


def test_advance_does_not_mutate_flow_state_or_event():
    doc = flow(forloop("l", "[1, 2]", [script("s", "1", retry={"constant": {"attempts": 1, "seconds": 1}})],
                       parallel=True))
    h = Harness(doc, roundtrip=False)  # without round-trips the next event sees the exact objects returned
    h.run({})
    h.assert_flow_untouched()


def test_malformed_events_never_raise():
    h = Harness(flow(script("a", "1")))
    h.start({})
    for event in ({"type": "StepFinished"}, {"type": "StepFinished", "job": None}, {"type": "TimerFired", "timer": 3},
                  {"type": "ResumeReceived"}, {"type": "ResumeReceived", "step": ["x"]}, {}, {"type": None}):
        state, actions = advance(h.flow, h.state, event, evaluate=evaluate)
        assert actions == [] and state == h.state


def test_malformed_flow_never_raises():
    for doc in ({}, {"value": None}, {"value": {"modules": "nope"}}, {"value": {"modules": [None, 3, {"id": "a"}]}},
                {"value": {"modules": [{"id": "l", "value": {"type": "forloopflow"}}]}},
                {"value": {"modules": [{"id": "b", "value": {"type": "branchone", "branches": "x"}}]}},
                {"value": {"modules": [{"id": "b", "value": {"type": "branchall", "branches": [None, 1]}}]}},
                {"value": {"modules": [{"id": "b", "value": {"type": "branchone", "branches": [None]}}]}}):
        state, actions = advance(doc, None, {"type": "RunStarted", "args": {}, "now": 1}, evaluate=evaluate)
        assert state["status"] in ("success", "failure")
        assert "InternalErr" not in json.dumps(state)


def test_evaluator_raising_base_exception_subclasses_is_data():
    def evaluator(expr, scope):
        raise ValueError("bad")

    state, actions = advance(flow(script("a", "1", {"x": "1"})), None, {"type": "RunStarted", "args": {}, "now": 1},
                             evaluate=evaluator)
    assert state["status"] == "failure"
    assert state["result"]["error"]["name"] == "ExecutionErr"


def test_state_is_plain_json_at_every_step():
    h = Harness(flow(forloop("l", "[1, 2]", [script("s", "1", sleep=static(1))]), script("b", "2",
                                                                                         suspend={"required_events": 1})))
    h.start({})
    h.drive(python_runner)
    assert json.loads(json.dumps(h.state)) == h.state
