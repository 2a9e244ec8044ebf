"""Frames: the run itself and every child flow (loop iteration, branch, path sub-flow).

A frame runs its modules in order. When it ends, the outcome goes to whoever owns it: the run
(`RunFinished`) or the container step that opened it (`containers.child_done`).
"""

from __future__ import annotations

from typing import Any

from . import containers, steps
from .state import Tx

ROOT = ""


def open_frame(
    tx: Tx,
    key: str,
    *,
    parent: str | None,
    owner: str | None,
    index: Any,
    kind: str,
    mods: list,
    handler: list | None,
    args: Any = None,
    has_args: bool = False,
    it: dict | None = None,
    env: Any = None,
) -> None:
    """Create a frame and queue its first step.

    Loop and branch frames store no args: their flow_input is derived from the parent's on demand
    (plus `iter` for loops), so a 1000-iteration loop does not copy flow_input 1000 times.
    """
    frame: dict[str, Any] = {
        "parent": parent,
        "step": owner,
        "index": index,
        "kind": kind,
        "mods": mods,
        "handler": handler,
        "idx": 0,
        "handler_ran": False,
        "in_handler": False,
    }
    if has_args:
        frame["args"] = args
    if it is not None:
        frame["iter"] = it
    if env is not None:
        frame["env"] = env
    tx.put_frame(key, frame)
    tx.push(steps.start_step, key)


def finish_frame(
    tx: Tx, key: str, success: bool, result: Any, *, handled: bool = False, stop: dict | None = None
) -> None:
    """A frame is over. `handled`: the error handler already ran for this failure (spec §0.15).
    `stop`: the frame ended because of an early stop (`{"skip": bool}` or `{"error": result}`)."""
    frame = tx.frame(key)
    if frame is None:
        return
    if frame["kind"] == "root":
        skipped = bool(stop and stop.get("skip")) and success
        finish_run(tx, "success" if success else "failure", result, skipped=skipped)
        return
    tx.del_frame(key)
    tx.push(containers.child_done, frame["step"], frame["index"], success, result, handled, stop)


def finish_run(tx: Tx, status: str, result: Any, *, skipped: bool = False) -> None:
    """Terminal transition of the whole run; anything still running is canceled."""
    state = tx.state
    leftover = list(state["jobs"])
    if leftover:
        for step_key in set(state["jobs"].values()):
            if tx.step(step_key) is not None:
                st = tx.wstep(step_key)
                st["status"] = "canceled"
                st["finished_at"] = tx.now
        tx.actions.append({"type": "CancelJobs", "jobs": leftover})
    state["status"] = status
    state["result"] = result
    state["skipped"] = skipped
    state["finished_at"] = tx.now
    tx.clear_runtime()
    tx.queue.clear()
    tx.actions.append({"type": "RunFinished", "status": status, "result": result, "skipped": skipped})
