"""Run state layout and the copy-on-write transaction every `advance` call works through.

The state is one JSON object::

    {"v": 1, "status": "running|success|failure|canceled", "skipped", "result", "args",
     "run_id", "started_at", "finished_at", "seq",
     "frames": {frame_key: frame},   # child flows that are still running ("" = the run itself)
     "steps":  {step_key: step},     # every step that has started (never deleted, except on container retry)
     "jobs":   {job_id: step_key},   # RunScript jobs we are waiting for
     "timers": {timer_id: {"kind": "sleep|retry|suspend_timeout", "step": step_key}},
     "latest": {module_id: step_key}} # most recently completed step per module id (results.<id> fallback)

Collections are flat so an event only copies the dicts it touches (a shallow `dict()` of the top-level
maps, plus the few step / frame records it writes). Nested values inside a record are treated as
immutable: code replaces them, never mutates them, so the caller's state is never changed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

Evaluate = Callable[[str, dict], Any]

STATE_VERSION = 1
# Statuses whose result is visible to `results.<id>`.
DONE_STATUSES = frozenset({"success", "failure", "skipped", "suspended"})
_COLLECTIONS = ("frames", "steps", "jobs", "timers", "latest")


def new_state(args: Any, now: float, run_id: Any) -> dict:
    """A fresh running state (before the root frame is created)."""
    return {
        "v": STATE_VERSION,
        "status": "running",
        "skipped": False,
        "result": None,
        "args": args,
        "run_id": run_id,
        "started_at": now,
        "finished_at": None,
        "seq": 0,
        "frames": {},
        "steps": {},
        "jobs": {},
        "timers": {},
        "latest": {},
    }


def resolve(flow: dict, path: list) -> Any:
    """Follow a list of keys / indexes from the flow root; None when anything is missing."""
    node: Any = flow
    for token in path:
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return None
            node = node[token]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(token)
    return node


def frame_prefix(frame_key: str) -> str:
    """Step keys of a frame are `<frame_key>/<module_id>` ("" frame: bare module id)."""
    return f"{frame_key}/" if frame_key else ""


class Tx:
    """One `advance` call: the copied state, the collected actions and a work queue.

    Work is queued instead of recursing so that 1000 inline iterations or a chain of 300 identity
    steps never grow the Python stack.
    """

    def __init__(self, flow: dict, state: dict, evaluate: Evaluate, event: dict):
        self.flow = flow
        self.evaluate = evaluate
        self.event = event
        now = event.get("now")
        self.now: float = float(now) if isinstance(now, (int, float)) and not isinstance(now, bool) else 0.0
        rand = event.get("rand")
        self.rand: float = float(rand) if isinstance(rand, (int, float)) and not isinstance(rand, bool) else 0.5
        self.state = dict(state)
        self._copied: set[str] = set()
        self._written: dict[str, set[str]] = {name: set() for name in _COLLECTIONS}
        self.actions: list[dict] = []
        self.queue: deque = deque()

    # -- work queue -------------------------------------------------------------------------
    def push(self, fn: Callable, *args: Any) -> None:
        self.queue.append((fn, args))

    def drain(self) -> None:
        while self.queue:
            if self.state["status"] != "running":
                self.queue.clear()
                return
            fn, args = self.queue.popleft()
            fn(self, *args)

    # -- copy-on-write access ---------------------------------------------------------------
    def _coll(self, name: str) -> dict:
        if name not in self._copied:
            self.state[name] = dict(self.state[name])
            self._copied.add(name)
        return self.state[name]

    def _get_w(self, name: str, key: str) -> dict:
        coll = self._coll(name)
        if key not in self._written[name]:
            coll[key] = dict(coll[key])
            self._written[name].add(key)
        return coll[key]

    def step(self, key: str) -> dict | None:
        return self.state["steps"].get(key)

    def wstep(self, key: str) -> dict:
        return self._get_w("steps", key)

    def put_step(self, key: str, record: dict) -> dict:
        self._coll("steps")[key] = record
        self._written["steps"].add(key)
        return record

    def del_steps(self, keys: list[str]) -> None:
        coll = self._coll("steps")
        for key in keys:
            coll.pop(key, None)
            self._written["steps"].discard(key)

    def frame(self, key: str) -> dict | None:
        return self.state["frames"].get(key)

    def wframe(self, key: str) -> dict:
        return self._get_w("frames", key)

    def put_frame(self, key: str, record: dict) -> dict:
        self._coll("frames")[key] = record
        self._written["frames"].add(key)
        return record

    def del_frame(self, key: str) -> None:
        self._coll("frames").pop(key, None)
        self._written["frames"].discard(key)

    def set_latest(self, module_id: str, step_key: str) -> None:
        if self.state["latest"].get(module_id) != step_key:
            self._coll("latest")[module_id] = step_key

    # -- jobs and timers --------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.state["seq"] += 1
        return f"{prefix}{self.state['seq']}"

    def add_job(self, job: str, step_key: str) -> None:
        self._coll("jobs")[job] = step_key

    def pop_job(self, job: str) -> None:
        self._coll("jobs").pop(job, None)

    def start_timer(self, kind: str, step_key: str, delay: float) -> str:
        timer = self.next_id("t")
        self._coll("timers")[timer] = {"kind": kind, "step": step_key}
        self.actions.append({"type": "StartTimer", "timer": timer, "delay": float(delay), "reason": kind})
        return timer

    def drop_timer(self, timer: str | None) -> None:
        if timer and timer in self.state["timers"]:
            self._coll("timers").pop(timer, None)

    def clear_runtime(self) -> None:
        """The run is over: nothing may be waited for any more."""
        self.state["jobs"] = {}
        self.state["timers"] = {}
        self.state["frames"] = {}
        self._copied.update(("jobs", "timers", "frames"))
        self._written["frames"].clear()

    # -- module lookup ----------------------------------------------------------------------
    def module(self, step: dict) -> dict:
        mod = resolve(self.flow, step["mpath"])
        return mod if isinstance(mod, dict) else {}

    def modules(self, frame: dict) -> list:
        mods = resolve(self.flow, frame["mods"])
        return mods if isinstance(mods, list) else []
