"""Starting a step (spec §2.1) and what happens after it succeeds (stop_after_if, suspend, sleep).

Order when step i of a frame starts: skip_if, mock, then by kind: identity / script (args from the
input transforms, timeout) / containers. After a success: stop_after_if, then suspend, then sleep,
then the next step (or the end of the frame).
"""

from __future__ import annotations

from typing import Any

from . import containers, failure, frames, suspend
from .errors import compact_json, early_stop, error_result, expression_error
from .scope import (
    MISSING,
    eval_predicate,
    eval_transform,
    is_number,
    make_scope,
    previous_result,
    resume_context,
)
from .state import Tx, frame_prefix, resolve

LEAF_TYPES = ("rawscript", "script")
# stop_after_if on these is not a "after the step" check: loops evaluate it per iteration,
# branchall ignores it (spec §6.1).
_NO_STEP_LEVEL_STOP = ("forloopflow", "whileloopflow", "branchall")


def module_type(module: dict) -> str | None:
    value = module.get("value")
    return value.get("type") if isinstance(value, dict) else None


def _new_record(tx: Tx, key: str, module: dict, mpath: list, frame_key: str, frame: dict, pos: int,
                handler: bool) -> dict:
    mid = module.get("id")
    return {
        "key": key,
        "module_id": mid if isinstance(mid, str) else key.rsplit("/", 1)[-1],
        "type": module_type(module),
        "frame": frame_key,
        "container": frame.get("step"),
        "child": frame.get("index"),
        "pos": pos,
        "mpath": mpath,
        "handler": handler,
        "status": "running",
        "attempts": 1,
        "fail_count": 0,
        "failed_jobs": [],
        "args": None,
        "result": None,
        "error": None,
        "skipped": False,
        "job": None,
        "started_at": tx.now,
        "finished_at": None,
    }


def start_step(tx: Tx, frame_key: str, retry: bool = False) -> None:
    """Start the frame's current module (or its error handler); end the frame past the last one."""
    frame = tx.frame(frame_key)
    if frame is None:
        return
    prefix = frame_prefix(frame_key)
    mods = tx.modules(frame)
    if frame["in_handler"]:
        mpath = frame["handler"]
        module = resolve(tx.flow, mpath)
        key, pos, is_handler = prefix + "failure", len(mods), True
    else:
        idx = frame["idx"]
        if idx >= len(mods):
            frames.finish_frame(tx, frame_key, True, previous_result(tx, frame_key))
            return
        module, mpath, pos, is_handler = mods[idx], frame["mods"] + [idx], idx, False
        mid = module.get("id") if isinstance(module, dict) else None
        key = prefix + (mid if isinstance(mid, str) and mid else f"step{idx}")
    module = module if isinstance(module, dict) else {}

    if retry and tx.step(key) is not None:
        st = tx.wstep(key)
        st["attempts"] = st.get("attempts", 1) + 1
        st.update(status="running", finished_at=None, job=None, skipped=False, error=None)
        st.pop("retry_at", None)
    else:
        tx.put_step(key, _new_record(tx, key, module, mpath, frame_key, frame, pos, is_handler))

    prev = previous_result(tx, frame_key)
    _dispatch(tx, frame_key, key, module, prev, retry)


def _dispatch(tx: Tx, frame_key: str, key: str, module: dict, prev: Any, retry: bool) -> None:
    skip_if = module.get("skip_if")
    if isinstance(skip_if, dict) and skip_if.get("expr") is not None:
        expr = skip_if.get("expr")
        ok, truth = eval_predicate(tx, expr, make_scope(tx, frame_key, str(expr), prev=prev, result=prev,
                                                        resume=True))
        if not ok:
            failure.fail_flow_hard(tx, key, expression_error(str(expr), truth))
            return
        if truth:
            st = tx.wstep(key)
            st.update(status="skipped", skipped=True, result=prev, finished_at=tx.now)
            tx.set_latest(st["module_id"], key)
            tx.wframe(frame_key)["prev"] = prev
            tx.push(after_step, key)
            return

    mock = module.get("mock")
    if isinstance(mock, dict) and mock.get("enabled"):
        tx.push(step_succeeded, key, mock.get("return_value"))
        return

    value = module.get("value") if isinstance(module.get("value"), dict) else {}
    kind = value.get("type")
    if kind == "identity":
        tx.push(step_succeeded, key, prev)
    elif kind == "rawscript":
        _start_leaf(tx, frame_key, key, module, prev, retry, value.get("language"), value.get("content"), None)
    elif kind == "script":
        path = value.get("path")
        script = resolve(tx.flow, ["_resolved", "scripts", path]) if isinstance(path, str) else None
        if not isinstance(script, dict):
            tx.push(failure.step_failed, key, error_result("NotFound", f"Script not found at path {path}"))
            return
        _start_leaf(tx, frame_key, key, module, prev, retry, script.get("language"), script.get("content"), path)
    elif kind == "flow":
        containers.start_subflow(tx, frame_key, key, module, prev, retry)
    elif kind in ("forloopflow", "whileloopflow"):
        containers.start_loop(tx, frame_key, key, module, prev)
    elif kind == "branchone":
        containers.start_branchone(tx, frame_key, key, module, prev)
    elif kind == "branchall":
        containers.start_branchall(tx, frame_key, key, module, prev)
    else:
        tx.push(failure.step_failed, key, error_result("ExecutionErr", f"Unsupported module type: {kind}"))


def eval_args(tx: Tx, frame_key: str, key: str, transforms: Any, prev: Any) -> tuple[bool, Any]:
    """Step arguments from `input_transforms` (scope: spec §3.1 first row; no `result`)."""
    st = tx.step(key) or {}
    extra = None
    if st.get("handler"):
        extra = {"started_at": tx.state.get("started_at"), "flow_job_id": tx.state.get("run_id")}
    args: dict[str, Any] = {}
    if not isinstance(transforms, dict):
        return True, args
    for name, transform in transforms.items():
        ok, value = eval_transform(
            tx, transform,
            lambda expr: make_scope(tx, frame_key, expr, prev=prev, resume=True, input_transform=True, extra=extra),
        )
        if not ok:
            return False, value
        if value is not MISSING:
            args[name] = value
    return True, args


def _start_leaf(tx: Tx, frame_key: str, key: str, module: dict, prev: Any, retry: bool,
                language: Any, content: Any, path: str | None) -> None:
    st = tx.wstep(key)
    if retry and st.get("args") is not None:
        args = st["args"]  # retries reuse the failed job's arguments (spec §7)
    else:
        ok, args = eval_args(tx, frame_key, key, (module.get("value") or {}).get("input_transforms"), prev)
        if not ok:
            st["args"] = None
            tx.push(failure.step_failed, key, args)
            return
        st["args"] = args
    ok, timeout = step_timeout(tx, frame_key, module, prev)
    if not ok:
        failure.fail_flow_hard(tx, key, timeout)
        return
    job = tx.next_id("j")
    st["job"] = job
    st["timeout"] = timeout
    tx.add_job(job, key)
    tx.actions.append({
        "type": "RunScript",
        "job": job,
        "step_key": key,
        "module_id": st["module_id"],
        "language": language,
        "content": content,
        "path": path,
        "args": args,
        "timeout": timeout,
        "attempt": st["attempts"],
        "frame": frame_key,
        # Positive whole seconds only; the worker keeps a success that long (runs/step_cache.py).
        **({"cache_ttl": int(ttl)} if is_number(ttl := module.get("cache_ttl")) and ttl >= 1 else {}),
    })


def step_timeout(tx: Tx, frame_key: str, module: dict, prev: Any) -> tuple[bool, Any]:
    """Per-step timeout in whole seconds; `<= 0` or absent means none (spec §1.2)."""
    transform = module.get("timeout")
    if transform is None:
        return True, None
    ok, value = eval_transform(tx, transform, lambda expr: make_scope(tx, frame_key, expr, prev=prev, result=prev))
    if not ok:
        return False, value
    if value is MISSING or value is None:
        return True, None
    if not is_number(value):
        return False, error_result("ExecutionErr", f"Expected a number value for timeout, found: {compact_json(value)}")
    seconds = int(value)
    return True, (seconds if seconds > 0 else None)


def step_succeeded(tx: Tx, key: str, result: Any, stop: dict | None = None) -> None:
    """A step (leaf, inline or container) succeeded. `stop` comes from a container whose child
    stopped the whole flow (branches) or from stop_after_all_iters_if."""
    st = tx.wstep(key)
    st.update(status="success", result=result, finished_at=tx.now, job=None)
    tx.set_latest(st["module_id"], key)
    frame_key = st["frame"]
    if st.get("handler"):
        failure.handler_finished(tx, frame_key, True, result)
        return
    tx.wframe(frame_key)["prev"] = result
    if stop is not None:
        stop_frame(tx, frame_key, result, stop)
        return
    module = tx.module(st)
    cond = module.get("stop_after_if")
    if isinstance(cond, dict) and cond.get("expr") is not None and module_type(module) not in _NO_STEP_LEVEL_STOP:
        ok, decision = evaluate_stop(tx, frame_key, cond, result)
        if not ok:
            # Unrecoverable: no retry, no continue_on_error, but the handler runs (spec §3.4).
            failure.step_failed(tx, key, {"error": decision}, unrecoverable=True)
            return
        if decision is not None:
            stop_frame(tx, frame_key, result, decision)
            return
    if suspend.wants_suspend(module):
        suspend.park(tx, key, module)
        return
    after_step(tx, key)


def evaluate_stop(tx: Tx, frame_key: str, cond: dict, result: Any,
                  all_iters: Any = MISSING) -> tuple[bool, Any]:
    """Evaluate a stop_after_if-shaped condition. (True, None) = go on; (True, stop) = stop;
    (False, message) = the expression threw."""
    expr = str(cond.get("expr"))
    extra = {"all_iters": all_iters} if all_iters is not MISSING else None
    scope = make_scope(tx, frame_key, expr, prev=result, result=result, extra=extra)
    ok, truth = eval_predicate(tx, expr, scope)
    if not ok:
        return False, f"Error during isolated evaluation of expression `{expr}`:\n{truth}"
    if not truth:
        return True, None
    return True, stop_outcome(cond, result)


def stop_outcome(cond: dict, result: Any) -> dict:
    """What a true stop condition means (spec §6.1 table)."""
    message = cond.get("error_message")
    if message is not None and not cond.get("skip_if_stopped"):
        text = message if message != "" else f"stop after if: {cond.get('expr')}"
        return {"error": early_stop(str(text), result, bool(cond.get("error_include_result")))}
    return {"skip": bool(cond.get("skip_if_stopped"))}


def stop_frame(tx: Tx, frame_key: str, result: Any, stop: dict) -> None:
    """End the frame early: success with `result`, or an EarlyStopError failure (handler runs)."""
    if "error" in stop:
        failure.frame_failed(tx, frame_key, stop["error"], stop=stop)
    else:
        frames.finish_frame(tx, frame_key, True, result, stop=stop)


def after_step(tx: Tx, key: str) -> None:
    """The step is settled: honour its `sleep` (a timer), then move to the next step."""
    st = tx.step(key)
    if st is None:
        return
    module = tx.module(st)
    frame_key = st["frame"]
    sleep = module.get("sleep")
    if sleep is not None:
        own = st.get("result")
        ok, value = eval_transform(
            tx, sleep, lambda expr: make_scope(tx, frame_key, expr, prev=own, result=own, results=False)
        )
        if not ok:
            failure.fail_flow_hard(tx, None, value, frame_key=frame_key)
            return
        if value is not MISSING and value is not None:
            if not is_number(value):
                failure.fail_flow_hard(
                    tx, None,
                    error_result("ExecutionErr", f"Expected a number value for sleep, found: {compact_json(value)}"),
                    frame_key=frame_key,
                )
                return
            if value > 0:
                delay = round(float(value), 3)
                timer = tx.start_timer("sleep", key, delay)
                w = tx.wstep(key)
                w["sleep_timer"] = timer
                w["sleep_until"] = tx.now + delay
                return
    tx.push(next_step, frame_key)


def next_step(tx: Tx, frame_key: str) -> None:
    frame = tx.frame(frame_key)
    if frame is None:
        return
    w = tx.wframe(frame_key)
    w["idx"] = frame["idx"] + 1
    if "resume" in w and not resume_context(w):
        del w["resume"]  # meant for an earlier step (spec §9.3); scope.resume_context ignores it anyway
    start_step(tx, frame_key)
