"""`advance`: one event in, the new state and the actions out (docs/engine-contract.md)."""

from __future__ import annotations

from typing import Any

from . import failure, frames, steps, suspend
from .errors import canceled, error_result, expression_error
from .scope import eval_predicate
from .state import Evaluate, Tx, new_state, resolve


def advance(flow: dict, state: dict | None, event: dict, *, evaluate: Evaluate) -> tuple[dict | None, list[dict]]:
    """Apply one event to a run.

    Pure: never mutates `flow`, `state` or `event`, reads no clock and no randomness (the event's
    `now` and `rand` are used). Returns `(new_state, actions)`; a duplicated or stale event returns
    the given state unchanged and no actions. Never raises for anything a flow, a script or an
    event can do: such failures end up in the state as data.
    """
    kind = event.get("type") if isinstance(event, dict) else None
    if state is None:
        if kind != "RunStarted":
            return state, []
        return _guard(flow, new_state(_args(event), _now(event), event.get("run_id")), event, evaluate, _start, state)
    if not isinstance(state, dict) or state.get("status") != "running":
        return state, []
    handler = _HANDLERS.get(kind)
    if handler is None:
        return state, []
    return _guard(flow, state, event, evaluate, handler, state)


def _guard(flow: Any, state: dict, event: dict, evaluate: Evaluate, handler, original: dict | None):
    tx = Tx(flow if isinstance(flow, dict) else {}, state, evaluate, event)
    try:
        if handler(tx, event) is False:
            return original, []
        tx.drain()
    except Exception as exc:  # noqa: BLE001 - last line of defence: the contract says never raise
        tx.queue.clear()
        if tx.state.get("status") == "running":
            frames.finish_run(tx, "failure", error_result("InternalErr", f"engine error: {exc!r}"))
    return tx.state, tx.actions


def _now(event: dict) -> float:
    now = event.get("now")
    return float(now) if isinstance(now, (int, float)) and not isinstance(now, bool) else 0.0


def _args(event: dict) -> Any:
    args = event.get("args")
    return {} if args is None else args


def _start(tx: Tx, event: dict) -> None:
    value = tx.flow.get("value") if isinstance(tx.flow.get("value"), dict) else {}
    args = tx.state["args"]
    env = value.get("flow_env") if isinstance(value.get("flow_env"), dict) else {}
    handler = ["value", "failure_module"] if isinstance(value.get("failure_module"), dict) else None
    # preprocessor_module is only applied to trigger-started runs; API-started runs skip it.
    skip_expr = value.get("skip_expr")
    tx.put_frame(frames.ROOT, {
        "parent": None, "step": None, "index": None, "kind": "root", "mods": ["value", "modules"],
        "handler": handler, "idx": 0, "handler_ran": False, "in_handler": False, "args": args, "env": env,
    })
    if isinstance(skip_expr, str) and skip_expr.strip():
        scope = {"flow_input": args, "previous_result": {}, "result": {}, "flow_env": env}
        ok, truth = eval_predicate(tx, skip_expr, scope)
        if not ok:
            frames.finish_run(tx, "failure", expression_error(skip_expr, truth))
            return
        if truth:
            frames.finish_run(tx, "success", "stopped early", skipped=True)
            return
    restart = event.get("restart")
    if isinstance(restart, dict) and restart.get("from") is not None:
        if not _apply_restart(tx, restart):
            return
    tx.push(steps.start_step, frames.ROOT)


def _apply_restart(tx: Tx, restart: dict) -> bool:
    """Restart from a top-level step: earlier steps keep the recorded results."""
    mods = resolve(tx.flow, ["value", "modules"])
    mods = mods if isinstance(mods, list) else []
    ids = [m.get("id") if isinstance(m, dict) else None for m in mods]
    start = restart.get("from")
    if start not in ids:
        frames.finish_run(tx, "failure", error_result("ExecutionErr", f"Cannot restart: no top-level step {start!r}"))
        return False
    recorded = restart.get("results") if isinstance(restart.get("results"), dict) else {}
    index = ids.index(start)
    frame = tx.frame(frames.ROOT)
    for i in range(index):
        module = mods[i]
        key = ids[i] if isinstance(ids[i], str) else f"step{i}"
        record = steps._new_record(tx, key, module, ["value", "modules", i], frames.ROOT, frame, i, False)
        record.update(status="success", result=recorded.get(key), finished_at=tx.now, restored=True, attempts=0)
        tx.put_step(key, record)
        tx.set_latest(record["module_id"], key)
    w = tx.wframe(frames.ROOT)
    w["idx"] = index
    if index > 0:
        w["prev"] = recorded.get(ids[index - 1])
    return True


def _step_finished(tx: Tx, event: dict) -> bool:
    job = event.get("job")
    key = tx.state["jobs"].get(job) if isinstance(job, str) else None
    if key is None:
        return False
    tx.pop_job(job)
    st = tx.step(key)
    if st is None or st.get("job") != job:
        return True
    result = event.get("result")
    if event.get("success") is True:
        tx.push(steps.step_succeeded, key, result)
    else:
        if not (isinstance(result, dict) and "error" in result):
            result = error_result("Error", f"Step failed with result: {result!r}")
        # `unrecoverable`: the driver, not the script, failed the job (the worker was lost). Such a
        # failure is never retried nor continued; only the error handler runs (spec §5.2(3), §7).
        if event.get("unrecoverable") is True:
            tx.push(failure.step_failed_unrecoverably, key, result)
        else:
            tx.push(failure.step_failed, key, result)
    return True


def _timer_fired(tx: Tx, event: dict) -> bool:
    timer = event.get("timer")
    entry = tx.state["timers"].get(timer) if isinstance(timer, str) else None
    if entry is None:
        return False
    tx.drop_timer(timer)
    key = entry.get("step")
    st = tx.step(key)
    if st is None:
        return True
    kind = entry.get("kind")
    if kind == "sleep" and st.get("sleep_timer") == timer:
        tx.push(steps.next_step, st["frame"])
    elif kind == "retry" and st.get("status") == "running":
        tx.push(failure.restart_step, key)
    elif kind == "suspend_timeout":
        suspend.on_timeout(tx, key, timer)
    return True


def _resume(tx: Tx, event: dict) -> bool:
    return suspend.on_resume(tx, event)


def _cancel(tx: Tx, event: dict) -> bool:
    """Whole-run cancel: kill running jobs, mark unfinished steps canceled, finish `canceled`."""
    for key, st in list(tx.state["steps"].items()):
        if st.get("status") in ("running", "suspended"):
            w = tx.wstep(key)
            w["status"] = "canceled"
            w["finished_at"] = tx.now
    jobs = list(tx.state["jobs"])
    tx.state["jobs"] = {}
    if jobs:
        tx.actions.append({"type": "CancelJobs", "jobs": jobs})
    frames.finish_run(tx, "canceled", canceled(event.get("reason"), event.get("canceler")))
    return True


_HANDLERS = {
    "StepFinished": _step_finished,
    "TimerFired": _timer_fired,
    "ResumeReceived": _resume,
    "CancelReceived": _cancel,
}
