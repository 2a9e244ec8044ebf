"""Apply engine events to stored runs: compare-and-swap, projection, dispatch after commit.

Every state change goes through :func:`apply_event`:

1. load the run and call the pure ``engine.advance``;
2. save the new state only if ``Run.version`` is still the one we read (compare-and-swap) —
   otherwise another process won; reload and try again;
3. in the same transaction write the rows the workers need (``Step`` for each script to run,
   ``Timer`` for each timer) and queue the live events;
4. after commit, hand the actions to Celery (:func:`dispatch`).

A duplicated or stale event makes the engine return the state unchanged; nothing is written and
nothing is dispatched, which is how at-least-once delivery stays exactly-once in effect.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openflow_site.redis_client import redis_connection
from runs import engine, events
from runs.models import Run, Step, Timer

log = logging.getLogger(__name__)
MAX_CAS_ATTEMPTS = 100


def evaluate(expr: str, scope: dict) -> Any:
    """The expression evaluator handed to the engine (V8 is loaded on first use, after fork)."""
    from runs import expressions

    return expressions.evaluate(
        expr, scope, timeout=settings.EXPRESSION_TIMEOUT, max_memory=settings.EXPRESSION_MEMORY_MB * 1024 * 1024
    )


def to_datetime(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


@dataclass
class Outcome:
    applied: bool
    view: dict | None = None
    actions: list[dict] = field(default_factory=list)
    #: The run as saved (new state and version): hand it back to the next ``apply_event`` of the same
    #: process to skip reloading it. Only valid while nobody else wrote the run; the CAS checks that.
    run: Run | None = None
    #: The RunScript this process claimed in the same transaction (``claim=True``): run it now.
    claimed: dict | None = None


def apply_event(run_id: Any, event: dict, *, run: Run | None = None, claim: bool = False) -> Outcome:
    """Advance one run by one event; returns whether it changed anything.

    ``run``: the :attr:`Outcome.run` of this process's previous event for the same run, to avoid a
    reload (if another process wrote the run since, the compare-and-swap fails and we reload).
    ``claim``: take one of the new RunScript actions for this process — its Step row is written as
    already running here (heartbeat now) in the same transaction, so it is never enqueued, and if
    this process dies the sweep finds the stale heartbeat and re-enqueues it, as for any running step.
    """
    for _ in range(MAX_CAS_ATTEMPTS):
        if run is None:
            run = Run.load(run_id)
            if run is None:  # deleted while a message about it was in flight
                return Outcome(False)
        if (run.state is None) != (event["type"] == "RunStarted"):
            return Outcome(False)
        state, actions = engine.advance(run.snapshot, run.state, event, evaluate=evaluate)
        if state == run.state and not actions:
            return Outcome(False)
        # The view of the state we start from is the view we computed when we saved it (if we did).
        old_view = getattr(run, "_openflow_view", None)
        if old_view is None and run.state is not None:
            old_view = engine.run_view(run.snapshot, run.state)
        view = engine.run_view(run.snapshot, state)
        claimed = next((a for a in actions if a["type"] == "RunScript"), None) if claim else None
        with transaction.atomic():
            final = view["status"] in Run.FINAL
            fields = {
                "state": state,
                "version": run.version + 1,
                "status": view["status"],
                "skipped": bool(view.get("skipped")),
                "result": view.get("result") if final else None,
                "started_at": to_datetime(view.get("started_at")),
                "finished_at": to_datetime(view.get("finished_at")) if final else None,
            }
            won = Run.objects.filter(pk=run.pk, version=run.version).update(**fields)
            if not won:
                run = None  # someone else moved the run: reload and recompute
                continue
            # Step / Timer rows exist only if the engine ever issued a job or timer id.
            _record(run, event, actions, claimed, issued_ids=bool(state.get("seq")))
            _publish_changes(run, old_view, view)
            todo = [a for a in actions if a is not claimed]
            if todo:
                transaction.on_commit(lambda rid=run.pk, todo=todo: dispatch(rid, todo))
        for name, value in fields.items():
            setattr(run, name, value)
        run._openflow_view = view
        return Outcome(True, view, actions, run, claimed)
    raise RuntimeError(f"run {run_id}: gave up after {MAX_CAS_ATTEMPTS} compare-and-swap conflicts")


def _record(run: Run, event: dict, actions: list[dict], claimed: dict | None = None, *,
            issued_ids: bool = True) -> None:
    """Write the rows the workers and the sweep need, in as few statements as the DB allows.

    ``issued_ids`` False: the run never had a job or a timer, so there are no rows to close."""
    now = timezone.now()
    if event["type"] == "StepFinished":
        Step.objects.filter(run=run, job=event["job"]).update(status="done", finished_at=now)
    if event["type"] == "TimerFired":
        Timer.objects.filter(run=run, timer=event["timer"]).update(fired=True)
    steps: list[Step] = []
    timers: list[Timer] = []
    for action in actions:
        if action["type"] == "RunScript":
            mine = action is claimed
            # A step key is reused by retries and by containers retried whole: insert or overwrite.
            steps.append(Step(run=run, key=action["step_key"], job=action["job"], action=action,
                              status="running" if mine else "queued", heartbeat_at=now,
                              worker=_worker_name() if mine else "", started_at=now if mine else None,
                              finished_at=None, logs=""))
        elif action["type"] == "StartTimer":
            timers.append(Timer(run=run, timer=action["timer"], fired=False,
                                due_at=now + dt.timedelta(seconds=float(action["delay"]))))
        elif action["type"] == "RunFinished" and issued_ids:
            Step.objects.filter(run=run, status__in=("queued", "running")).update(status="done", finished_at=now)
            Timer.objects.filter(run=run, fired=False).update(fired=True)
    if steps:
        # One INSERT ... ON CONFLICT DO UPDATE instead of update_or_create's SELECT + INSERT/UPDATE
        # per step. A queued step keeps started_at/logs of nobody: the claim sets them.
        Step.objects.bulk_create(steps, update_conflicts=True, unique_fields=["run", "key"],
                                 update_fields=["job", "action", "status", "heartbeat_at", "worker", "started_at",
                                                "finished_at", "logs"])
    if timers:
        Timer.objects.bulk_create(timers, update_conflicts=True, unique_fields=["run", "timer"],
                                  update_fields=["due_at", "fired"])


def _worker_name() -> str:
    from runs.tasks import worker_name

    return worker_name()


def _run_fields(view: dict) -> dict:
    return {k: v for k, v in view.items() if k != "steps"}


def _publish_changes(run: Run, old: dict | None, new: dict) -> None:
    """Queue a ``step`` delta for every step whose view changed and a ``run`` delta if the run did."""
    from runs.presenter import run_delta, step_delta

    payloads: list[dict] = []
    old_steps = {s["key"]: s for s in (old or {}).get("steps", [])}
    for step in new.get("steps", []):
        if old_steps.get(step["key"]) != step:
            payloads.append({"type": "step", "step": step_delta(step)})
    if old is None or _run_fields(old) != _run_fields(new):
        payloads.append({"type": "run", "run": run_delta(run, new)})
    events.publish_many(run.pk, payloads)


def dispatch(run_id: Any, actions: list[dict]) -> None:
    """Hand the engine's actions to the workers (called after the state is committed)."""
    from runs import tasks

    for action in actions:
        kind = action["type"]
        if kind == "RunScript":
            tasks.run_step.apply_async((str(run_id), action))
        elif kind == "StartTimer":
            tasks.fire_timer.apply_async((str(run_id), action["timer"]), countdown=max(0.0, float(action["delay"])))
        elif kind == "CancelJobs":
            request_cancel(run_id, action["jobs"])


def cancel_key(run_id: Any, job: str) -> str:
    return f"openflow:cancel:{run_id}:{job}"


def request_cancel(run_id: Any, jobs: list[str]) -> None:
    pipe = redis_connection().pipeline()
    for job in jobs:
        pipe.set(cancel_key(run_id, job), "1", ex=24 * 3600)
    pipe.execute()


def event_now() -> float:
    return time.time()
