"""Where the time of one step goes, measured in-process (no Celery in between).

Drives a 40-step fibo(10) run and a 3-step identity run through the real task bodies
(``runs.tasks.start_run`` / ``run_step`` called directly), with timers wrapped around the pieces:
DB statements (an execute wrapper), expression evaluation, ``engine.advance``, ``engine.run_view``,
live events, the Celery publish of the next action, the script sandbox. The queue hop itself is the
raw Celery hop measured by the runner. Use: ``python -m bench --only profile`` or the runner's report.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from bench import scenarios as sc


class Timers:
    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            # Re-entrant calls (e.g. evaluate inside advance) are counted once, by the outer call.
            self._depth[name] += 1
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth[name] -= 1
                if self._depth[name] == 0:
                    self.total[name] += time.perf_counter() - t
                    self.calls[name] += 1

        return timed

    @contextlib.contextmanager
    def patched(self, obj: Any, attr: str, name: str) -> Iterator[None]:
        if not hasattr(obj, attr):
            yield
            return
        original = getattr(obj, attr)
        setattr(obj, attr, self.wrap(name, original))
        try:
            yield
        finally:
            setattr(obj, attr, original)


def profile(user, steps: int = 40) -> dict[str, dict[str, float]]:
    """Milliseconds per step by category for a sequential python flow and for an identity flow."""
    from django.db import connection

    from runs import engine, events, orchestrator, sandbox, tasks
    from runs.models import Run

    out: dict[str, dict[str, float]] = {}
    for label, flow, n_steps in (("python fibo(10) step", sc.sequential_flow(steps, 10), steps),
                                 ("identity run (3 steps)", sc.identity_flow(), 1)):
        snapshot = sc.resolved(flow, user)
        timers = Timers()
        pending: list[tuple[str, dict]] = []
        real_dispatch = orchestrator.dispatch

        def capture(run_id: Any, actions: list[dict], _pending=pending) -> None:
            # Publish the real message (the cost of handing the next step to Celery; no worker is
            # running, the queue is dropped afterwards), then drive the action in-process.
            for action in actions:
                if action["type"] == "RunScript":
                    tasks.run_step.apply_async((str(run_id), action))
                    _pending.append((str(run_id), action))

        def db_timer(execute, sql, params, many, context, timers=timers):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timers.total["DB statements"] += time.perf_counter() - t
                timers.calls["DB statements"] += 1

        reps = 3 if n_steps > 1 else 50
        with contextlib.ExitStack() as stack:
            stack.enter_context(connection.execute_wrapper(db_timer))
            stack.enter_context(timers.patched(orchestrator, "evaluate", "expressions"))
            stack.enter_context(timers.patched(engine, "advance", "engine.advance (incl. expressions)"))
            stack.enter_context(timers.patched(engine, "run_view", "engine.run_view"))
            stack.enter_context(timers.patched(events, "_send", "live events (seq + hand-off)"))
            stack.enter_context(timers.patched(events, "_send_many", "live events (seq + hand-off)"))
            stack.enter_context(timers.patched(sandbox, "run_script", "sandbox.run_script (process + script)"))
            stack.enter_context(timers.patched(tasks, "apply_event", "apply_event (whole)"))
            stack.enter_context(timers.patched(tasks, "_claim", "claim the Step row"))
            orchestrator.dispatch = timers.wrap("enqueue next step (Celery publish)", capture)
            try:
                wall = 0.0
                for _ in range(reps):
                    run = Run.objects.create(snapshot=snapshot, args={}, created_by=user)
                    t = time.perf_counter()
                    tasks.start_run.run(str(run.pk))
                    while pending:
                        run_id, action = pending.pop(0)
                        tasks.run_step.run(run_id, action)
                    wall += time.perf_counter() - t
                    run.refresh_from_db()
                    assert run.status == "success", (run.status, run.result)
            finally:
                orchestrator.dispatch = real_dispatch
                from openflow_site.redis_client import redis_connection

                redis_connection().delete("celery")  # no worker runs during the profile: drop the copies
                events.flush()
        per = reps * n_steps
        row = {k: v / per * 1e3 for k, v in sorted(timers.total.items())}
        row["DB statements per step"] = timers.calls["DB statements"] / per
        row["wall per step (in-process, no queue)"] = wall / per * 1e3
        out[label] = row
    return out


def markdown(result: dict[str, dict[str, float]]) -> str:
    labels = list(result)
    keys: list[str] = []
    for row in result.values():
        keys += [k for k in row if k not in keys]
    lines = ["| ms per step | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for k in keys:
        cells = []
        for lab in labels:
            v = result[lab].get(k)
            cells.append("—" if v is None else (f"{v:.1f}" if "per step" in k and "ms" not in k and "wall" not in k
                                                else f"{v:.2f}"))
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
