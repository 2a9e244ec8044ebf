"""Containers: for/while loops, branchone, branchall and path sub-flows (spec §4, §1.3).

Loops and branchall share one "fan-out" record on the container step::

    st["fan"] = {"kind": "for|while|all", "total": n | None, "next": i, "running": k, "done": d,
                 "results": [...], "failed": [i, ...], "parallel": bool, "limit": p | None,
                 "skip": bool (skip_failures; branchall: per branch), "handled": bool, "items": [...]}

Children are child frames keyed `<step>/<index>`; their outcomes come back through `child_done`.
"""

from __future__ import annotations

from typing import Any

from . import failure, frames, steps
from .errors import compact_json, early_stop, error_result, expression_error, iterator_not_array
from .scope import MISSING, eval_predicate, eval_transform, flow_env, is_number, make_scope
from .state import Tx, resolve


def _value(module: dict) -> dict:
    value = module.get("value")
    return value if isinstance(value, dict) else {}


# -- path sub-flow --------------------------------------------------------------------------

def start_subflow(tx: Tx, frame_key: str, key: str, module: dict, prev: Any, retry: bool) -> None:
    """A `flow` step runs the resolved sub-flow as a child frame whose flow_input is the step's args."""
    value = _value(module)
    path = value.get("path")
    sub = resolve(tx.flow, ["_resolved", "flows", path]) if isinstance(path, str) else None
    if not isinstance(sub, dict) or not isinstance(sub.get("value"), dict):
        tx.push(failure.step_failed, key, error_result("NotFound", f"Flow not found at path {path}"))
        return
    st = tx.wstep(key)
    if retry and st.get("args") is not None:
        args = st["args"]
    else:
        ok, args = steps.eval_args(tx, frame_key, key, value.get("input_transforms"), prev)
        if not ok:
            st["args"] = None
            tx.push(failure.step_failed, key, args)
            return
        st["args"] = args
    sub_value = sub["value"]
    env = flow_env(tx, frame_key)
    if isinstance(sub_value.get("flow_env"), dict):
        env = {**(env if isinstance(env, dict) else {}), **sub_value["flow_env"]}
    skip_expr = sub_value.get("skip_expr")
    if isinstance(skip_expr, str) and skip_expr.strip():
        scope = {"flow_input": args, "previous_result": {}, "result": {}, "flow_env": env}
        ok, truth = eval_predicate(tx, skip_expr, scope)
        if not ok:
            tx.push(failure.step_failed, key, expression_error(skip_expr, truth))
            return
        if truth:
            tx.push(steps.step_succeeded, key, "stopped early")
            return
    base = ["_resolved", "flows", path, "value"]
    handler = base + ["failure_module"] if isinstance(sub_value.get("failure_module"), dict) else None
    frames.open_frame(
        tx, f"{key}/0", parent=frame_key, owner=key, index=0, kind="flow", mods=base + ["modules"],
        handler=handler, args=args, has_args=True, env=env,
    )


# -- loops ----------------------------------------------------------------------------------

def start_loop(tx: Tx, frame_key: str, key: str, module: dict, prev: Any) -> None:
    value = _value(module)
    st = tx.wstep(key)
    fan: dict[str, Any] = {
        "next": 0, "running": 0, "done": 0, "results": [], "failed": [], "handled": False,
        "skip": value.get("skip_failures") is True,  # absent = false (spec §0.6)
    }
    if value.get("type") == "whileloopflow":
        fan.update(kind="while", total=None, parallel=False, limit=None)
    else:
        def scope(expr: str) -> dict:
            return make_scope(tx, frame_key, expr, prev=prev, result=prev, resume=True)

        ok, items = eval_transform(tx, value.get("iterator"), scope)
        if not ok:
            failure.fail_flow_hard(tx, key, items)
            return
        if not isinstance(items, list):
            failure.fail_flow_hard(tx, key, iterator_not_array(None if items is MISSING else items))
            return
        parallel = value.get("parallel") is True
        limit = None
        if parallel and value.get("parallelism") is not None:
            ok, limit = eval_transform(
                tx, value.get("parallelism"),
                lambda expr: make_scope(tx, frame_key, expr, prev=prev, result=prev),
            )
            if not ok:
                failure.fail_flow_hard(tx, key, limit)
                return
            if limit is MISSING or limit is None:
                limit = None
            elif not is_number(limit):
                failure.fail_flow_hard(tx, key, error_result(
                    "ExecutionErr", f"Expected a number value for parallelism, found: {compact_json(limit)}"))
                return
            else:
                limit = int(limit) if int(limit) > 0 else None
        fan.update(kind="for", total=len(items), items=items, parallel=parallel, limit=limit,
                   results=[None] * len(items))
    st["fan"] = fan
    if fan["total"] == 0:
        tx.push(_container_succeeded, key, [])
        return
    _launch(tx, key)


def start_branchall(tx: Tx, frame_key: str, key: str, module: dict, prev: Any) -> None:
    value = _value(module)
    branches = value.get("branches") if isinstance(value.get("branches"), list) else []
    st = tx.wstep(key)
    st["fan"] = {
        "kind": "all", "total": len(branches), "next": 0, "running": 0, "done": 0,
        "results": [None] * len(branches), "failed": [], "handled": False, "skip": False,
        "parallel": value.get("parallel") is not False,  # default true (spec §4.4)
        "limit": None,
    }
    if not branches:
        tx.push(_container_succeeded, key, [])
        return
    _launch(tx, key)


def _launch(tx: Tx, key: str) -> None:
    """Open as many children as the container allows right now (1 when sequential)."""
    st = tx.wstep(key)
    fan = dict(st["fan"])
    cap = (fan["limit"] or fan["total"]) if fan["parallel"] else 1
    opened = []
    while fan["running"] < cap and (fan["total"] is None or fan["next"] < fan["total"]):
        opened.append(fan["next"])
        fan["next"] += 1
        fan["running"] += 1
    st["fan"] = fan
    frame_key = st["frame"]
    parent = tx.frame(frame_key) or {}
    for i in opened:
        child = f"{key}/{i}"
        if fan["kind"] == "all":
            frames.open_frame(tx, child, parent=frame_key, owner=key, index=i, kind="branch",
                              mods=st["mpath"] + ["value", "branches", i, "modules"], handler=parent.get("handler"))
        else:
            item = fan["items"][i] if fan["kind"] == "for" else i
            frames.open_frame(tx, child, parent=frame_key, owner=key, index=i, kind="loop",
                              mods=st["mpath"] + ["value", "modules"], handler=parent.get("handler"),
                              it={"index": i, "value": item})


def _fan_child_done(tx: Tx, key: str, index: int, success: bool, result: Any, handled: bool,
                    stop: dict | None) -> None:
    st = tx.wstep(key)
    fan = dict(st["fan"])
    results = list(fan["results"])
    if fan["kind"] == "while":
        results.append(result)
    else:
        results[index] = result
    fan["results"] = results
    fan["running"] -= 1
    fan["done"] += 1
    module = tx.module(st)
    skips = fan["skip"]
    if fan["kind"] == "all":
        branches = _value(module).get("branches") or []
        branch = branches[index] if index < len(branches) and isinstance(branches[index], dict) else {}
        skips = branch.get("skip_failure") is True
    if not success:
        fan["failed"] = fan["failed"] + [index]
        if not skips:
            fan["handled"] = fan["handled"] or handled
    st["fan"] = fan
    if fan["kind"] != "all":
        st["last"] = result  # results.<loop id> while it runs = previous iteration (spec §4.2)

    if fan["parallel"]:
        if fan["done"] < fan["total"]:
            _launch(tx, key)
            return
        if _blocking_failures(fan, module):
            failure.step_failed(tx, key, results, handled=fan["handled"])
        else:
            _container_succeeded(tx, key, results)
        return

    so_far = results[: index + 1] if fan["kind"] != "while" else results
    error_stop = stop is not None and "error" in stop
    if error_stop and fan["kind"] == "all":
        # A stop in a sequential branch stops the whole enclosing flow (spec §6.2), with an error
        # too: skip_failure, retry and continue_on_error don't apply (§5.2(1)).
        failure.stop_failed(tx, key, so_far, stop, handled=fan["handled"] or handled)
        return
    if not success and not skips:
        # In a loop a stop only breaks it (§6.2); broken by an error, the loop fails unless
        # skip_failures, without retry / continue_on_error (§5.2(1)).
        failure.step_failed(tx, key, so_far, handled=fan["handled"], unrecoverable=error_stop)
        return
    if stop is not None:
        if fan["kind"] == "all" and "error" not in stop:
            # a stop inside a sequential branch stops the whole enclosing flow (spec §6.2)
            steps.step_succeeded(tx, key, so_far, stop=stop)
        else:
            _container_succeeded(tx, key, so_far)  # loop: break
        return
    if fan["kind"] != "all":
        cond = module.get("stop_after_if")
        if isinstance(cond, dict) and cond.get("expr") is not None:
            ok, decision = steps.evaluate_stop(tx, st["frame"], cond, result, all_iters=so_far)
            if not ok:
                failure.step_failed(tx, key, {"error": decision}, unrecoverable=True)
                return
            if decision is not None:
                if "error" in decision:
                    steps.step_succeeded(tx, key, so_far, stop=decision)
                else:
                    _container_succeeded(tx, key, so_far)
                return
    if fan["total"] is None or fan["next"] < fan["total"]:
        _launch(tx, key)
    else:
        _container_succeeded(tx, key, results)


def _blocking_failures(fan: dict, module: dict) -> bool:
    if fan["kind"] != "all":
        return bool(fan["failed"]) and not fan["skip"]
    branches = _value(module).get("branches") or []
    for i in fan["failed"]:
        branch = branches[i] if i < len(branches) and isinstance(branches[i], dict) else {}
        if branch.get("skip_failure") is not True:
            return True
    return False


def _container_succeeded(tx: Tx, key: str, result: list) -> None:
    """Loop / branchall success: check stop_after_all_iters_if once (spec §6.3)."""
    st = tx.step(key)
    if st is None:
        return
    cond = tx.module(st).get("stop_after_all_iters_if")
    if isinstance(cond, dict) and cond.get("expr") is not None:
        ok, decision = steps.evaluate_stop(tx, st["frame"], cond, result)
        if not ok:
            expr = cond.get("expr")
            decision = {"error": early_stop(
                f"Error evaluating stop_after_all_iters_if expression `{expr}`: {decision}")}
        if decision is not None:
            steps.step_succeeded(tx, key, result, stop=decision)
            return
    steps.step_succeeded(tx, key, result)


# -- branchone ------------------------------------------------------------------------------

def start_branchone(tx: Tx, frame_key: str, key: str, module: dict, prev: Any) -> None:
    value = _value(module)
    branches = value.get("branches") if isinstance(value.get("branches"), list) else []
    chosen: Any = "default"
    for i, branch in enumerate(branches):
        expr = branch.get("expr") if isinstance(branch, dict) else None
        text = expr if isinstance(expr, str) else ""
        ok, truth = eval_predicate(tx, text, make_scope(tx, frame_key, text, prev=prev, result=prev, resume=True))
        if not ok:
            tx.push(failure.step_failed, key, expression_error(text, truth))  # fails in place (§3.4)
            return
        if truth:
            chosen = i
            break
    st = tx.wstep(key)
    if chosen == "default":
        st["branch_chosen"] = {"type": "default"}
        path = st["mpath"] + ["value", "default"]
    else:
        st["branch_chosen"] = {"type": "branch", "branch": chosen}
        path = st["mpath"] + ["value", "branches", chosen, "modules"]
    mods = resolve(tx.flow, path)
    if not isinstance(mods, list) or not mods:
        tx.push(steps.step_succeeded, key, prev)  # empty branch passes previous_result through
        return
    parent = tx.frame(frame_key) or {}
    frames.open_frame(tx, f"{key}/{chosen}", parent=frame_key, owner=key, index=chosen, kind="branch",
                      mods=path, handler=parent.get("handler"))


# -- child outcomes -------------------------------------------------------------------------

def child_done(tx: Tx, key: str, index: Any, success: bool, result: Any, handled: bool,
               stop: dict | None) -> None:
    """A child frame of container step `key` ended."""
    st = tx.step(key)
    if st is None or st.get("status") != "running":
        return
    kind = st.get("type")
    if kind == "flow":
        # a stop inside a path sub-flow ends only the sub-flow (spec §6.2); the sub-flow's own
        # error handler is not the parent's, so the parent's handler still applies.
        if success:
            steps.step_succeeded(tx, key, result)
        else:
            failure.step_failed(tx, key, result)
    elif kind == "branchone":
        if stop is not None and "error" in stop:
            # a stop with an error in the branch stops the enclosing flow too (spec §6.2, §5.2(1))
            failure.stop_failed(tx, key, result, stop, handled=handled)
        elif success:
            steps.step_succeeded(tx, key, result, stop=stop)
        else:
            failure.step_failed(tx, key, result, handled=handled)
    else:
        _fan_child_done(tx, key, index, success, result, handled, stop)
