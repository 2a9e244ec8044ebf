"""Suspend / approval after a step (spec §9).

The step runs and succeeds, then parks with status "suspended" and a `suspend_timeout` timer.
Resume events are counted; enough approvals continue the frame, a disapproval or the timeout fails
it (or continues with the error as `resume` when `continue_on_disapprove_timeout`).
"""

from __future__ import annotations

from typing import Any

from . import failure, steps
from .errors import compact_json, disapproved, error_result, timed_out
from .scope import MISSING, eval_transform, is_number, make_scope
from .state import Tx

DEFAULT_TIMEOUT = 1800.0
FIELD = "suspend.user_groups_required"


def _required(module: dict) -> int:
    conf = module.get("suspend")
    if not isinstance(conf, dict):
        return 0
    n = conf.get("required_events")
    return int(n) if is_number(n) and n > 0 else 0


def wants_suspend(module: dict) -> bool:
    return _required(module) > 0


def _user_groups(tx: Tx, st: dict, transform: Any) -> tuple[bool, Any]:
    """`suspend.user_groups_required` -> (True, [group, ...]) or (False, error result).

    Absent means no restriction. Anything else must give a list of group names: a throwing
    transform or another value must not silently become [] (= anyone may approve), so it is an
    error (fail closed). Scope per spec §3.1: flow_input, previous_result / result = the suspended
    step's result, no `results`, no `resume`.
    """
    if transform is None:
        return True, []
    own = st.get("result")
    ok, value = eval_transform(
        tx, transform, lambda expr: make_scope(tx, st["frame"], expr, prev=own, result=own, results=False)
    )
    if not ok:
        err = dict(value["error"])
        err["message"] = f"{FIELD}: {err.get('message')}"
        return False, {"error": err}
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        shown = "nothing" if value is MISSING else compact_json(value)
        return False, error_result("ExecutionErr", f"{FIELD}: expected a list of group names, found: {shown}")
    return True, value


def park(tx: Tx, key: str, module: dict) -> None:
    """Suspend the (successful) step `key`; a bad `user_groups_required` fails the frame instead."""
    conf = module["suspend"]
    ok, groups = _user_groups(tx, tx.wstep(key), conf.get("user_groups_required"))
    if not ok:
        # Evaluated by the driver before the next step, like `sleep`: a flow-level error, the
        # handler does not run (spec §3.4). The step keeps its own result and shows the error.
        st = tx.wstep(key)
        st.update(status="failure", error=groups["error"], finished_at=tx.now)
        failure.fail_flow_hard(tx, None, groups, frame_key=st["frame"])
        return
    timeout = conf.get("timeout")
    timeout = float(timeout) if is_number(timeout) and timeout > 0 else DEFAULT_TIMEOUT
    st = tx.wstep(key)
    st["status"] = "suspended"
    timer = tx.start_timer("suspend_timeout", key, timeout)
    form = conf.get("resume_form")
    st["suspend"] = {
        "required": _required(module),
        "payloads": [],
        "approvers": [],
        "used": [],
        "timer": timer,
        "timeout_at": tx.now + timeout,
        "resume_form": form,
        "hide_cancel": bool(conf.get("hide_cancel")),
        "user_auth_required": bool(conf.get("user_auth_required")),
        "user_groups_required": groups,
        "self_approval_disabled": bool(conf.get("self_approval_disabled")),
    }


def on_resume(tx: Tx, event: dict) -> bool:
    """Handle ResumeReceived; False when it is stale (step not suspended, resume_id reused)."""
    key = event.get("step")
    st = tx.step(key) if isinstance(key, str) else None
    if st is None or st.get("status") != "suspended":
        return False
    rid = event.get("resume_id")
    conf = st["suspend"]
    if rid in conf["used"]:
        return False
    approver = event.get("approver")
    approver = approver if isinstance(approver, str) and approver else None
    w = tx.wstep(key)
    conf = dict(conf)
    conf["used"] = conf["used"] + [rid]
    if event.get("approved") is False:
        w["suspend"] = conf
        _resolve_failed(tx, key, disapproved(approver))
        return True
    conf["payloads"] = conf["payloads"] + [event.get("payload")]
    conf["approvers"] = conf["approvers"] + [{"resume_id": rid, "approver": approver or "anonymous"}]
    w["suspend"] = conf
    if len(conf["payloads"]) >= conf["required"]:
        _resolve_continue(tx, key, None)
    return True


def on_timeout(tx: Tx, key: str, timer: str) -> bool:
    st = tx.step(key)
    if st is None or st.get("status") != "suspended" or st["suspend"].get("timer") != timer:
        return False
    _resolve_failed(tx, key, timed_out())
    return True


def _resolve_continue(tx: Tx, key: str, error: Any) -> None:
    st = tx.wstep(key)
    conf = st["suspend"]
    tx.drop_timer(conf.get("timer"))
    payloads = list(conf["payloads"])
    if error is not None:
        payloads.append(error)
    st["status"] = "success"
    st["approvers"] = conf["approvers"]
    st["resumed_at"] = tx.now
    tx.wframe(st["frame"])["resume"] = {
        "for": st["pos"] + 1,  # the next module of this frame, and its retries (spec §9.3)
        "resume": payloads[-1] if payloads else None,
        "resumes": payloads,
        "approvers": [a["approver"] for a in conf["approvers"]],
    }
    steps.after_step(tx, key)


def _resolve_failed(tx: Tx, key: str, error: dict) -> None:
    st = tx.step(key)
    conf = tx.module(st).get("suspend") or {}
    if conf.get("continue_on_disapprove_timeout"):
        _resolve_continue(tx, key, error)
        return
    w = tx.wstep(key)
    tx.drop_timer(w["suspend"].get("timer"))
    w.update(status="failure", error=error["error"], finished_at=tx.now)
    # not produced by the step: never retried / continue_on_error; the handler does run (§5.2)
    failure.frame_failed(tx, st["frame"], error)
