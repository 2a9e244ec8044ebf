"""Step failure decision (spec §5.2), retry (§7) and the error handler (§5.3)."""

from __future__ import annotations

import math
from typing import Any

from . import frames, steps
from .scope import eval_predicate, make_scope
from .state import Tx, resolve

MAX_RETRY_DELAY = 6 * 3600.0


def _num(value: Any, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def retry_delay(retry: Any, fail_count: int, rand: float) -> float | None:
    """Delay before retry number `fail_count + 1`, or None when no retry is left.

    `constant` attempts come first, then `exponential` ones with delay
    `multiplier * seconds ** (fail_count + 1)` and +/- `random_factor` % jitter. One uniform `rand`
    in [0, 1) gives both sign and size: the factor is `1 + (2*rand - 1) * random_factor / 100`.
    Capped at 6 h.
    """
    if not isinstance(retry, dict):
        return None
    const = retry.get("constant") if isinstance(retry.get("constant"), dict) else {}
    expo = retry.get("exponential") if isinstance(retry.get("exponential"), dict) else {}
    c_attempts = int(_num(const.get("attempts"), 0))
    e_attempts = int(_num(expo.get("attempts"), 0))
    if fail_count < c_attempts:
        delay = _num(const.get("seconds"), 0.0)
    elif fail_count - c_attempts < e_attempts:
        multiplier = _num(expo.get("multiplier"), 1.0)
        base = _num(expo.get("seconds"), 0.0)
        try:
            delay = multiplier * math.pow(base, fail_count + 1)
        except OverflowError:
            delay = MAX_RETRY_DELAY
        factor = _num(expo.get("random_factor"), 0.0)
        if factor:
            delay *= 1 + (2 * rand - 1) * factor / 100.0
    else:
        return None
    if not math.isfinite(delay):
        delay = MAX_RETRY_DELAY
    return max(0.0, min(delay, MAX_RETRY_DELAY))


def _retry_if_allows(tx: Tx, frame_key: str, retry: dict, result: Any) -> bool:
    cond = retry.get("retry_if")
    if not isinstance(cond, dict) or cond.get("expr") is None:
        return True
    expr = str(cond.get("expr"))
    ok, truth = eval_predicate(tx, expr, make_scope(tx, frame_key, expr, prev=result, result=result, results=False))
    return ok and truth


def step_failed(tx: Tx, key: str, result: Any, *, unrecoverable: bool = False, handled: bool = False) -> None:
    """A step ended in failure.

    `unrecoverable`: not produced by the step itself (stop_after_if error, a lost worker, a loop
    broken by a stop with an error) -> no retry, no continue_on_error; the frame's error handler
    still runs (spec §5.2(1) and (3)). It concerns this step only: the container around a failed
    child frame decides with its own rules (skip_failures, ...). `handled`: the error handler
    already ran inside a child flow of this container."""
    st = tx.wstep(key)
    st.update(status="failure", result=result, finished_at=tx.now)
    tx.set_latest(st["module_id"], key)
    frame_key = st["frame"]
    module = tx.module(st)
    if not unrecoverable:
        retry = module.get("retry")
        delay = retry_delay(retry, st.get("fail_count", 0), tx.rand)
        if delay is not None and _retry_if_allows(tx, frame_key, retry, result):
            _schedule_retry(tx, key, delay)
            return
    st["job"] = None
    if st.get("handler"):
        handler_finished(tx, frame_key, False, result)
        return
    if not unrecoverable and module.get("continue_on_error"):
        tx.wframe(frame_key)["prev"] = result
        steps.after_step(tx, key)
        return
    frame_failed(tx, frame_key, result, handled=handled)


def step_failed_unrecoverably(tx: Tx, key: str, result: Any) -> None:
    """`step_failed(..., unrecoverable=True)` in the positional form `Tx.push` takes."""
    step_failed(tx, key, result, unrecoverable=True)


def stop_failed(tx: Tx, key: str, result: Any, stop: dict, *, handled: bool = False) -> None:
    """A child of container `key` stopped with an error and the stop propagates (branchone, sequential
    branchall; spec §6.2): the container fails with its own result (branch result / list so far) and
    its frame stops the same way. Retry, continue_on_error and skip_failure don't apply (§5.2(1)); the
    error handler runs unless it already ran in the child."""
    st = tx.wstep(key)
    st.update(status="failure", result=result, finished_at=tx.now, job=None)
    tx.set_latest(st["module_id"], key)
    frame_failed(tx, st["frame"], result, handled=handled, stop=stop)


def _schedule_retry(tx: Tx, key: str, delay: float) -> None:
    st = tx.wstep(key)
    st["fail_count"] = st.get("fail_count", 0) + 1
    if st.get("job"):
        st["failed_jobs"] = list(st.get("failed_jobs", [])) + [st["job"]]
    st["job"] = None
    st["status"] = "running"
    if delay > 0:
        st["retry_at"] = tx.now + delay
        tx.start_timer("retry", key, delay)
    else:
        tx.push(restart_step, key)


def restart_step(tx: Tx, key: str) -> None:
    """Run a step again. A container is re-run whole: its previous children are forgotten."""
    st = tx.step(key)
    if st is None or tx.frame(st["frame"]) is None:
        return
    prefix = key + "/"
    children = [k for k in tx.state["steps"] if k.startswith(prefix)]
    if children:
        tx.del_steps(children)
    for name in ("fan", "branch_chosen", "last"):
        if name in st:
            tx.wstep(key).pop(name, None)
    steps.start_step(tx, st["frame"], retry=True)


def frame_failed(tx: Tx, frame_key: str, result: Any, *, handled: bool = False, stop: dict | None = None) -> None:
    """The frame cannot go on: run its error handler once, or end the frame failed."""
    frame = tx.frame(frame_key)
    if frame is None:
        return
    handler = resolve(tx.flow, frame["handler"]) if frame.get("handler") else None
    if not handled and isinstance(handler, dict) and not frame["handler_ran"]:
        w = tx.wframe(frame_key)
        w.update(in_handler=True, handler_ran=True, prev=result)
        if stop is not None:
            w["stopping"] = stop
        tx.push(steps.start_step, frame_key)
        return
    frames.finish_frame(tx, frame_key, False, result, handled=handled or frame["handler_ran"], stop=stop)


def handler_finished(tx: Tx, frame_key: str, success: bool, result: Any) -> None:
    """The frame's result is the handler's; success only with `{"recover": true}` (spec §0.14)."""
    frame = tx.frame(frame_key) or {}
    recovered = success and isinstance(result, dict) and result.get("recover") is True
    stop = None if recovered else frame.get("stopping")
    frames.finish_frame(tx, frame_key, recovered, result, handled=True, stop=stop)


def fail_flow_hard(tx: Tx, key: str | None, result: Any, *, frame_key: str | None = None) -> None:
    """A flow-level evaluation error (iterator, skip_if, sleep, timeout, parallelism): the flow
    fails at once, without its error handler (spec §3.4)."""
    if key is not None:
        st = tx.wstep(key)
        st.update(status="failure", result=result, finished_at=tx.now, job=None)
        frame_key = st["frame"]
    if frame_key is not None:
        frames.finish_frame(tx, frame_key, False, result)
