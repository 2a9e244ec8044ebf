"""Spec §0.18-0.19, §9: suspend / approval."""

from __future__ import annotations

import pytest

from .flows import branchone, flow, forloop, ident, js, script, static
from .harness import Harness, python_runner, run_flow

NEXT = script("b", "[r, rs, ap]", {"r": "resume", "rs": "resumes", "ap": "approvers"})
AFTER = script("c", "[r, rs, ap]", {"r": "resume", "rs": "resumes", "ap": "approvers"})


def _suspended(events=1, **conf):
    return script("a", "'A'", suspend={"required_events": events, **conf})


def _started(doc, args=None):
    h = Harness(doc)
    h.start(args or {})
    h.drive()
    return h


def test_step_runs_then_flow_suspends_before_next_step():
    h = _started(flow(_suspended(), NEXT))
    assert h.scripts_run() == ["a"]
    assert h.view["status"] == "suspended"
    assert h.step("a")["status"] == "suspended"
    assert h.step("a")["result"] == "A"
    assert h.step("b")["status"] == "waiting"


def test_suspend_starts_timeout_timer_default_1800():
    h = _started(flow(_suspended(), NEXT))
    timers = [a for a in h.history if a["type"] == "StartTimer"]
    assert timers == [{"type": "StartTimer", "timer": timers[0]["timer"], "delay": 1800.0, "reason": "suspend_timeout"}]


def test_suspend_custom_timeout():
    h = _started(flow(_suspended(timeout=60), NEXT))
    assert [a["delay"] for a in h.history if a["type"] == "StartTimer"] == [60.0]
    assert h.view["suspended"]["timeout_at"] == h.step("a")["finished_at"] + 60


def test_resume_continues_and_next_step_sees_resume_resumes_approvers():
    h = _started(flow(_suspended(), NEXT, AFTER))
    h.resume("a", 0, {"ok": True}, approver="alice")
    h.drive()
    assert h.view["status"] == "success"
    assert h.step("b")["result"] == [{"ok": True}, [{"ok": True}], ["alice"]]


def test_resume_is_visible_to_the_next_step_only():
    h = _started(flow(_suspended(), NEXT, AFTER))
    h.resume("a", 0, {"ok": True}, approver="alice")
    h.drive()
    assert h.view["result"] == [None, [], []]


def test_anonymous_approver_name():
    h = _started(flow(_suspended(), NEXT))
    h.resume("a", 0, None)
    h.drive()
    assert h.view["result"] == [None, [None], ["anonymous"]]


def test_required_events_counts_resumes_oldest_first():
    h = _started(flow(_suspended(events=2), NEXT))
    h.resume("a", 1, "first", approver="x")
    assert h.view["status"] == "suspended"
    assert h.view["suspended"]["received_events"] == 1
    h.resume("a", 2, "second", approver="y")
    h.drive()
    assert h.view["result"] == ["second", ["first", "second"], ["x", "y"]]


def test_reused_resume_id_is_ignored():
    h = _started(flow(_suspended(events=2), NEXT))
    h.resume("a", 1, "first")
    state = h.state
    assert h.resume("a", 1, "again") == []
    assert h.state == state


def test_resume_for_a_step_not_suspended_is_ignored():
    h = _started(flow(_suspended(), NEXT))
    state = h.state
    assert h.resume("b", 0, "x") == []
    assert h.resume("nope", 0, "x") == []
    assert h.state == state


def test_results_of_suspended_step_is_its_own_result_not_the_payload():
    h = _started(flow(_suspended(), script("b", "x", {"x": "results.a"})))
    h.resume("a", 0, {"payload": 1})
    h.drive()
    assert h.view["result"] == "A"


def test_approvers_recorded_on_suspended_step():
    h = _started(flow(_suspended(), NEXT))
    h.resume("a", 7, "p", approver="bob")
    assert h.step("a")["approvers"] == [{"resume_id": 7, "approver": "bob"}]
    assert h.step("a")["status"] == "success"


def test_disapproval_fails_the_flow_with_suspended_disapproved():
    h = _started(flow(_suspended(), NEXT))
    h.resume("a", 0, None, approver="carol", approved=False)
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "SuspendedDisapproved", "message": "Disapproved by carol"}}
    assert "b" not in h.scripts_run()


def test_disapproval_without_approver_says_unknown():
    h = _started(flow(_suspended(), NEXT))
    h.resume("a", 0, None, approved=False)
    assert h.view["result"]["error"]["message"] == "Disapproved by unknown"


def test_timeout_fails_with_suspended_timed_out():
    h = _started(flow(_suspended(), NEXT))
    (timer,) = [a for a in h.history if a["type"] == "StartTimer"]
    h.fire(timer)
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "SuspendedTimedOut", "message": "Timed out waiting to be resumed"}}


def test_timeout_after_resume_is_ignored():
    h = _started(flow(_suspended(), NEXT))
    (timer,) = [a for a in h.history if a["type"] == "StartTimer"]
    h.resume("a", 0, "ok")
    h.drive()
    state = h.state
    assert h.send({"type": "TimerFired", "timer": timer["timer"]}) == []
    assert h.state == state


def test_continue_on_disapprove_timeout_continues_with_error_as_resume():
    h = _started(flow(_suspended(events=2, continue_on_disapprove_timeout=True), NEXT))
    h.resume("a", 0, "p1", approver="x")
    h.resume("a", 1, None, approver="y", approved=False)
    h.drive()
    err = {"error": {"name": "SuspendedDisapproved", "message": "Disapproved by y"}}
    assert h.view["status"] == "success"
    assert h.view["result"] == [err, ["p1", err], ["x"]]


def test_continue_on_timeout_continues_with_timeout_error():
    h = _started(flow(_suspended(continue_on_disapprove_timeout=True), NEXT))
    h.drive(fire_suspend_timeouts=True)
    assert h.view["status"] == "success"
    assert h.view["result"][0]["error"]["name"] == "SuspendedTimedOut"


def test_error_handler_runs_for_disapproval():
    doc = flow(_suspended(), NEXT, failure=script("failure", "p", {"p": "previous_result"}))
    h = _started(doc)
    h.resume("a", 0, None, approver="z", approved=False)
    h.drive()
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "SuspendedDisapproved", "message": "Disapproved by z"}}
    assert h.scripts_run() == ["a", "failure"]


def test_error_handler_runs_for_suspend_timeout():
    doc = flow(_suspended(), NEXT, failure=script("failure", "'handled'"))
    h = _started(doc)
    h.drive(fire_suspend_timeouts=True)
    assert h.view["result"] == "handled"


def test_disapproval_is_not_retried_nor_continued():
    doc = flow(script("a", "'A'", suspend={"required_events": 1}, retry={"constant": {"attempts": 3, "seconds": 0}},
                      continue_on_error=True), NEXT)
    h = _started(doc)
    h.resume("a", 0, None, approved=False)
    h.drive()
    assert h.scripts_run() == ["a"]
    assert h.view["status"] == "failure"


def test_suspend_on_last_step_keeps_the_step_result():
    h = _started(flow(_suspended()))
    assert h.view["status"] == "suspended"
    h.resume("a", 0, {"ignored": True})
    assert h.view["status"] == "success"
    assert h.view["result"] == "A"


def test_failed_step_never_suspends():
    doc = flow(script("a", "fail('x')", suspend={"required_events": 1}, continue_on_error=True), ident("b"))
    h = run_flow(doc)
    assert h.view["status"] == "success"


def test_suspend_then_sleep_both_apply_in_order():
    h = _started(flow(script("a", "1", suspend={"required_events": 1}, sleep=static(3)), ident("b")))
    actions = h.resume("a", 0, "ok")
    assert [a["reason"] for a in actions if a["type"] == "StartTimer"] == ["sleep"]
    h.drive()
    assert h.view["status"] == "success"


def test_suspended_view_lists_approval_details():
    form = {"schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}
    h = _started(flow(script("a", "1", suspend={"required_events": 2, "timeout": 100, "resume_form": form,
                                               "hide_cancel": True, "self_approval_disabled": True,
                                               "user_auth_required": True,
                                               "user_groups_required": static(["admins"])}), ident("b")))
    h.resume("a", 5, "p")
    view = h.view["suspended"]
    assert view["step"] == "a" and view["module_id"] == "a"
    assert view["required_events"] == 2 and view["received_events"] == 1
    assert view["resume_form"] == form and view["hide_cancel"] is True
    assert view["user_auth_required"] is True and view["self_approval_disabled"] is True
    assert view["user_groups_required"] == ["admins"]
    assert view["used_resume_ids"] == [5]


def test_suspend_inside_loop_body_is_addressed_by_step_key():
    body = [script("s", "1", suspend={"required_events": 1}), script("t", "r", {"r": "resume"})]
    h = _started(flow(forloop("l", "[1]", body)))
    assert h.view["suspended"]["step"] == "l/0/s"
    h.resume("l/0/s", 0, "go")
    h.drive()
    assert h.view["result"] == ["go"]


def test_zero_required_events_means_no_suspension():
    h = run_flow(flow(script("a", "1", suspend={"required_events": 0}), ident("b")))
    assert h.view["status"] == "success"


# -- resume / resumes / approvers in the next step's predicates (spec §3.1, §9.3) -----------------

@pytest.mark.parametrize("ok, chosen, expected", [(True, {"type": "branch", "branch": 0}, "yes"),
                                                  (False, {"type": "default"}, "no")])
def test_branchone_after_suspended_step_branches_on_resume(ok, chosen, expected):
    doc = flow(_suspended(), branchone("b", [("resume.ok", [script("y", "'yes'")])], default=[script("n", "'no'")]))
    h = _started(doc)
    h.resume("a", 0, {"ok": ok})
    h.drive()
    assert h.view["status"] == "success"
    assert h.view["result"] == expected
    assert h.step("b")["branch_chosen"] == chosen


@pytest.mark.parametrize("ok, skipped", [(True, False), (False, True)])
def test_skip_if_after_suspended_step_sees_resume(ok, skipped):
    doc = flow(_suspended(), script("b", "'B'", skip_if={"expr": "!resume.ok"}))
    h = _started(doc)
    h.resume("a", 0, {"ok": ok})
    h.drive()
    assert h.view["status"] == "success"
    assert h.step("b")["skipped"] is skipped
    assert h.view["result"] == ("A" if skipped else "B")


def test_forloop_iterator_after_suspended_step_sees_resume():
    doc = flow(_suspended(), forloop("l", "resume.items", [script("s", "v * 10", {"v": "flow_input.iter.value"})]))
    h = _started(doc)
    h.resume("a", 0, {"items": [1, 2]})
    h.drive()
    assert h.view["status"] == "success"
    assert h.view["result"] == [10, 20]


def _fails_first_time(step_key: str):
    """A runner failing `step_key` on its first run only (a retried container resets child attempts)."""
    calls: list[str] = []

    def runner(action):
        calls.append(action["step_key"])
        if action["step_key"] == step_key and calls.count(step_key) == 1:
            return False, {"error": {"name": "E", "message": "once"}}
        return python_runner(action)

    return runner, calls


def test_retried_branchone_after_suspended_step_picks_the_same_branch():
    # Windmill re-reads the resume of the step before the retried one, so the retry sees it too.
    doc = flow(_suspended(), branchone("b", [("resume.ok", [script("y", "'yes'")])], default=[script("n", "'no'")],
                                      retry={"constant": {"attempts": 1, "seconds": 0}}))
    runner, calls = _fails_first_time("b/0/y")
    h = _started(doc)
    h.resume("a", 0, {"ok": True})
    h.drive(runner)
    assert h.view["status"] == "success"
    assert h.view["result"] == "yes"
    assert calls == ["b/0/y", "b/0/y"]
    assert h.step("b")["attempts"] == 2
    assert h.step("b")["branch_chosen"] == {"type": "branch", "branch": 0}


def test_retried_step_after_suspended_step_reevaluates_skip_if_with_resume():
    doc = flow(_suspended(), script("b", "'B'", skip_if={"expr": "!resume.ok"},
                                    retry={"constant": {"attempts": 1, "seconds": 0}}), AFTER)
    runner, calls = _fails_first_time("b")
    h = _started(doc)
    h.resume("a", 0, {"ok": True}, approver="alice")
    h.drive(runner)
    assert h.view["status"] == "success"
    assert calls == ["b", "b", "c"]
    assert h.view["result"] == [None, [], []]  # the step after the retried one still sees nothing


def test_retried_forloop_after_suspended_step_reevaluates_iterator_with_resume():
    body = [script("s", "v", {"v": "flow_input.iter.value"})]
    doc = flow(_suspended(), forloop("l", "resume.items", body, retry={"constant": {"attempts": 1, "seconds": 0}}))
    runner, calls = _fails_first_time("l/1/s")
    h = _started(doc)
    h.resume("a", 0, {"items": [1, 2]})
    h.drive(runner)
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, 2]
    assert calls == ["l/0/s", "l/1/s", "l/0/s", "l/1/s"]


# -- suspend.user_groups_required as a JavaScript transform (spec §3.1, §9.1) ----------------------

def test_user_groups_required_javascript_transform_is_evaluated():
    h = _started(flow(script("a", "1", suspend={"required_events": 1,
                                                "user_groups_required": js("flow_input.groups")}), ident("b")),
                 {"groups": ["admins"]})
    assert h.view["status"] == "suspended"
    assert h.view["suspended"]["user_groups_required"] == ["admins"]


@pytest.mark.parametrize("expr, args", [("flow_input.nope.x", {}), ("flow_input.groups", {"groups": "admins"}),
                                        ("flow_input.groups", {"groups": [1]})])
def test_bad_user_groups_required_fails_closed(expr, args):
    doc = flow(script("a", "1", suspend={"required_events": 1, "user_groups_required": js(expr)}), script("b", "2"),
               failure=script("failure", "'handled'"))
    h = _started(doc, args)
    assert h.view["status"] == "failure"
    assert h.view["suspended"] is None
    err = h.view["result"]["error"]
    assert err["name"] == "ExecutionErr"
    assert "suspend.user_groups_required" in err["message"]
    assert h.scripts_run() == ["a"]  # never suspended, nothing after it ran, no handler (spec §3.4)
    assert h.step("a")["status"] == "failure"
    assert h.step("a")["result"] == 1
    assert not [a for a in h.history if a["type"] == "StartTimer"]
