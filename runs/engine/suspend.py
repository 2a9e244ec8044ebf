"""Suspend / approval after a step (spec §9).

The step runs and succeeds, then parks with status "suspended" and a `suspend_timeout` timer.
Resume events are counted; enough approvals continue the frame, a disapproval or the timeout fails
it (or continues with the error as `resume` when `continue_on_disapprove_timeout`).
"""

from __future__ import annotations

from typing import Any

from . import failure, steps
from .errors import disapproved, timed_out
from .scope import eval_transform, is_number, make_scope
from .state import Tx

DEFAULT_TIMEOUT = 1800.0


def _required(module: dict) -> int:
    conf = module.get("suspend")
    if not isinstance(conf, dict):
        return 0
    n = conf.get("required_events")
    return int(n) if is_number(n) and n > 0 else 0


def wants_suspend(module: dict) -> bool:
    return _required(module) > 0


def park(tx: Tx, key: str, module: dict) -> None:
    conf = module["suspend"]
    timeout = conf.get("timeout")
    timeout = float(timeout) if is_number(timeout) and timeout > 0 else DEFAULT_TIMEOUT
    st = tx.wstep(key)
    st["status"] = "suspended"
    timer = tx.start_timer("suspend_timeout", key, timeout)
    groups: Any = conf.get("user_groups_required")
    if groups is not None:
        own = st.get("result")
        ok, groups = eval_transform(
            tx, groups, lambda expr: make_scope(tx, st["frame"], expr, prev=own, result=own, results=False)
        )
        groups = groups if ok and isinstance(groups, list) else []
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
        "user_groups_required": groups or [],
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
