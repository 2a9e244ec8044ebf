"""In-process driver for the pure engine: runs a flow to the end in this process.

Used by `manage.py run_flow --local` and by tests. Scripts run through the injected `run_script`;
timers (sleep, retry delays, suspend timeouts) are honoured with `sleep` — pass a no-op `sleep` to
make them instant (the clock used for events still advances by the timer's delay, so the run's
timestamps stay consistent).
"""

from __future__ import annotations

import heapq
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from runs.engine import advance, run_view
from runs.engine.state import Evaluate

RunScript = Callable[[dict], tuple[bool, Any]]
OnSuspend = Callable[[dict], list[dict] | None]


def run_locally(
    flow: dict,
    args: Any,
    *,
    evaluate: Evaluate,
    run_script: RunScript,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] = time.sleep,
    on_update: Callable[[dict], Any] | None = None,
    on_suspend: OnSuspend | None = None,
    rand: Callable[[], float] = random.random,
    run_id: Any = None,
) -> dict:
    """Run `flow` with `args` to completion and return the final `run_view`.

    * `run_script(action) -> (success, result)` runs one RunScript action (an exception counts as
      a failure with `{"error": {"name": <class>, "message": str(exc)}}`).
    * `on_update(view)` is called after every event.
    * When the run is suspended and nothing else can happen, `on_suspend(view)` may return
      ResumeReceived events to deliver (`[]` = let the suspend timeout fire); without it, or when it
      returns None, the suspended view is returned (nobody else can resume a local run).
    """
    clock = _Clock(now, sleep)
    state: dict | None = None
    actions: deque[dict] = deque()
    timers: list[tuple[float, int, str, str]] = []  # (due, seq, timer id, reason)
    seq = 0
    finished = False

    def deliver(event: dict) -> None:
        nonlocal state, finished
        event.setdefault("now", clock.now())
        state, produced = advance(flow, state, event, evaluate=evaluate)
        for action in produced:
            actions.append(action)
        if on_update is not None:
            on_update(run_view(flow, state))

    deliver({"type": "RunStarted", "args": args, "run_id": run_id})
    while True:
        while actions:
            action = actions.popleft()
            kind = action["type"]
            if kind == "RunScript":
                ok, result = _run_one(run_script, action)
                deliver({"type": "StepFinished", "job": action["job"], "success": ok, "result": result,
                         "rand": rand()})
            elif kind == "StartTimer":
                seq += 1
                heapq.heappush(timers, (clock.now() + float(action["delay"]), seq, action["timer"], action["reason"]))
            elif kind == "RunFinished":
                finished = True
            # CancelJobs: scripts run synchronously here, nothing is left running.
        if finished or state is None or state.get("status") != "running":
            return run_view(flow, state)
        view = run_view(flow, state)
        if view["suspended"] is not None and all(reason == "suspend_timeout" for *_, reason in timers):
            events = on_suspend(view) if on_suspend is not None else None
            if events is None:
                return view
            if events:
                for event in events:
                    deliver(dict(event))
                continue
        if not timers:
            return view  # nothing can move the run any more
        due, _, timer, _ = heapq.heappop(timers)
        clock.wait_until(due)
        deliver({"type": "TimerFired", "timer": timer})


def _run_one(run_script: RunScript, action: dict) -> tuple[bool, Any]:
    try:
        ok, result = run_script(action)
    except Exception as exc:  # noqa: BLE001 - a broken runner fails the step, not the driver
        return False, {"error": {"name": type(exc).__name__, "message": str(exc), "step_id": action.get("module_id")}}
    return bool(ok), result


class _Clock:
    """Real time, plus whatever a no-op `sleep` skipped, so timer deadlines stay ordered."""

    def __init__(self, now: Callable[[], float], sleep: Callable[[float], Any]):
        self._now = now
        self._sleep = sleep
        self._skew = 0.0

    def now(self) -> float:
        return self._now() + self._skew

    def wait_until(self, due: float) -> None:
        delay = due - self.now()
        if delay <= 0:
            return
        before = self._now()
        self._sleep(delay)
        slept = self._now() - before
        if slept < delay:
            self._skew += delay - slept
