"""Celery glue: each task loads what it needs, does one effect, and hands an event to the orchestrator.

Durability: tasks are acked late and re-queued if their worker dies; ``run_step`` claims its
``Step`` row with a compare-and-swap so two deliveries never run one job at once, keeps a heartbeat
while the script runs, and ``sweep`` (celery beat, every few seconds) re-enqueues steps whose
heartbeat stopped, timers whose message was lost and runs that never started.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.db import connection as db_connection
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from openflow_site.redis_client import redis_connection
from openflow_site.storable import nul_message, nul_path, printable_log
from runs import events, step_cache
from runs.models import Run, Step, Timer
from runs.orchestrator import apply_event, cancel_key

log = logging.getLogger(__name__)
# A job whose worker vanished this many times is failed instead of being run again: a script that
# kills its own worker (or the machine) must not be re-delivered forever.
MAX_REDELIVERIES = 3


def worker_name() -> str:
    """host:pid of this process (computed per call: Celery forks pool children after import)."""
    return f"{socket.gethostname()}:{os.getpid()}"


NAMESPACE = uuid.UUID("6f1c3f7e-2b0c-4e3a-9a51-0f4b3c2d1e00")


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_run(run_id: str) -> None:
    run = Run.load(run_id)
    if run is None or run.state is not None:
        return
    event: dict[str, Any] = {"type": "RunStarted", "args": run.args, "now": time.time()}
    if run.restart:
        event["restart"] = run.restart
    outcome = apply_event(run_id, event, run=run, claim=_inline_allowed(time.monotonic()))
    if outcome.claimed is not None:
        _run_claimed_chain(run_id, outcome.claimed, outcome.run)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fire_timer(run_id: str, timer: str) -> None:
    apply_event(run_id, {"type": "TimerFired", "timer": timer, "now": time.time()})


def _claim(run_id: str, action: dict) -> bool:
    """Take the job unless another delivery is running it (fresh heartbeat) or it is done."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.STEP_STALE_SECONDS)
    return bool(
        Step.objects.filter(run_id=run_id, key=action["step_key"], job=action["job"])
        .filter(Q(status="queued") | Q(status="running", heartbeat_at__lt=stale))
        .update(status="running", worker=worker_name(), heartbeat_at=now, started_at=now, logs="")
    )


def script_env(run_id: str, action: dict) -> dict[str, str]:
    """The WM_* variables Windmill scripts read."""
    frame = action.get("frame") or ""
    return {
        "WM_ROOT_FLOW_JOB_ID": run_id,
        "WM_FLOW_JOB_ID": run_id if not frame else str(uuid.uuid5(NAMESPACE, f"{run_id}/{frame}")),
        "WM_JOB_ID": str(uuid.uuid5(NAMESPACE, f"{run_id}#{action['job']}")),
        "WM_FLOW_STEP_ID": str(action.get("module_id", "")),
        "WM_FLOW_PATH": "",
    }


def script_isolation() -> dict | None:
    """The confinement plan for scripts (SCRIPT_ISOLATION): hide the var dir, the project read-only."""
    if settings.SCRIPT_ISOLATION == "off":
        return None
    return {"hide": [str(settings.VAR_DIR)], "readonly": [str(settings.BASE_DIR)],
            "required": settings.SCRIPT_ISOLATION == "required"}


class StepWatch:
    """While a script runs: stream its log lines (batched), keep the heartbeat, watch for cancel."""

    FLUSH_EVERY = 0.2

    def __init__(self, run_id: str, action: dict) -> None:
        self.run_id, self.key, self.job = run_id, action["step_key"], action["job"]
        self.cancel = threading.Event()
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="step-watch", daemon=True)

    def __enter__(self) -> StepWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(5)
        self.flush()

    def add(self, line: str) -> None:
        with self._lock:
            line = printable_log(line)
            self._lines.append(line if line.endswith("\n") else line + "\n")

    def flush(self) -> None:
        with self._lock:
            text, self._lines = "".join(self._lines), []
        if not text:
            return
        Step.objects.filter(run_id=self.run_id, key=self.key, job=self.job).update(logs=Concat(F("logs"), Value(text)))
        events._send(self.run_id, {"type": "log", "key": self.key, "text": text})

    def _loop(self) -> None:
        last_beat = time.monotonic()
        redis = redis_connection()
        while not self._done.wait(self.FLUSH_EVERY):
            try:
                self.flush()
                if redis.exists(cancel_key(self.run_id, self.job)):
                    self.cancel.set()
                if time.monotonic() - last_beat >= settings.STEP_HEARTBEAT_SECONDS:
                    Step.objects.filter(run_id=self.run_id, key=self.key, job=self.job).update(
                        heartbeat_at=timezone.now())
                    last_beat = time.monotonic()
            except Exception:  # a blip in Redis/DB must not kill the script; the next tick retries
                log.exception("step watch tick failed for %s %s", self.run_id, self.key)


def _inline_allowed(chain_started: float) -> bool:
    """Run the next script in this process while the chain is young, else go back through the queue.

    Running the next step here saves the queue hop and reloading the run (the step gap drops from
    ~10 ms to ~2 ms); the budget keeps one long flow from holding a pool process forever, so other
    runs queued behind it get their turn (fairness), and a timer never holds the worker at all
    (StartTimer always goes through Celery's countdown).
    """
    budget = settings.STEP_INLINE_SECONDS
    return budget > 0 and time.monotonic() - chain_started < budget


def _execute(run_id: str, action: dict) -> dict:
    """Run a claimed job's script (logs streamed, heartbeat kept) and return its StepFinished event."""
    from runs import sandbox

    ttl = action.get("cache_ttl")
    key = None
    if ttl:
        run = Run.objects.only("flow_path", "created_by_id").get(pk=run_id)
        key = step_cache.cache_key(run, action)
        if (cached := step_cache.lookup(key)) is not step_cache.MISS:
            note = StepWatch(run_id, action)  # its heartbeat thread is not needed: nothing runs
            note.add(f"[openflow] result from the step cache (cache_ttl {ttl} s); the script did not run\n")
            note.flush()
            return step_finished(action, True, cached)

    with StepWatch(run_id, action) as watch:
        outcome = sandbox.run_script(
            action["language"], action["content"], action.get("args") or {},
            timeout=float(action.get("timeout") or settings.SCRIPT_TIMEOUT),
            env=script_env(run_id, action),
            memory_mb=settings.SCRIPT_MEMORY_MB,
            output_limit=settings.SCRIPT_OUTPUT_LIMIT,
            result_limit=settings.SCRIPT_RESULT_LIMIT,
            isolation=script_isolation(),
            on_log=watch.add,
            cancel=watch.cancel,
        )
    success, result = outcome.success, outcome.result
    if (where := nul_path(result)) is not None:
        success, result = False, {"error": {"name": "ExecutionErr",
                                            "message": f"The step's result can't be stored: {nul_message(where)}"}}
    if key is not None and success:
        step_cache.store(key, result, int(ttl))
    return step_finished(action, success, result)


def step_finished(action: dict, success: bool, result: Any, **extra: Any) -> dict:
    """The StepFinished event for `action`'s job, stamped with the worker's clock and a random draw."""
    return {"type": "StepFinished", "job": action["job"], "success": success, "result": result,
            "now": time.time(), "rand": random.random(), **extra}


def _run_claimed_chain(run_id: str, action: dict, run: Run | None) -> None:
    """Run a job this process holds, then each next job the engine hands back, within the budget.

    Durability is the same as one task per step: every job's Step row was written as ``running`` with
    a heartbeat in the transaction that created it, so if this process dies the sweep re-enqueues the
    job it was on; the Celery message we hold (acked late) only names the first job, already done.
    """
    chain_started = time.monotonic()
    while True:
        event = _execute(run_id, action)
        outcome = _apply_with_retry(run_id, event, run=run, claim=_inline_allowed(chain_started))
        if outcome.claimed is None:
            return
        action, run = outcome.claimed, outcome.run


def _apply_with_retry(run_id: str, event: dict, **kwargs):
    """Commit a finished step's result, waiting out a database outage (up to ~2 minutes).

    The script already ran: dropping its result would make the sweep run it (and its side effects)
    again once the database is back, so keep trying with backoff instead.
    """
    delay = 0.2
    deadline = time.monotonic() + 120
    while True:
        try:
            return apply_event(run_id, event, **kwargs)
        except (OperationalError, InterfaceError):
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable while committing %s of run %s; retrying in %.1f s",
                        event.get("job"), run_id, delay)
            close_old_connections()
            db_connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            kwargs["run"] = None  # reload: the cached run may be stale after the outage


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_step(run_id: str, action: dict) -> None:
    if not _claim(run_id, action):
        return
    _run_claimed_chain(run_id, action, None)


@shared_task(ignore_result=True)
def sweep() -> dict[str, int]:
    """Re-enqueue what a dead worker or a lost message left behind; safe to run anywhere, any time."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.STEP_STALE_SECONDS)
    counts = {"steps": 0, "timers": 0, "runs": 0}
    for step in Step.objects.filter(status__in=("queued", "running"), heartbeat_at__lt=stale).select_related("run")[:500]:
        if step.run.is_final or not step.action:
            Step.objects.filter(pk=step.pk).update(status="done")
            continue
        # Only the sweeper that moves the heartbeat re-enqueues (two beats never double it).
        # Only a job a worker had claimed (running) counts as a lost worker; a queued one may just be
        # waiting behind a long queue or have lost its message, which is no reason to give up on it.
        lost_worker = step.status == "running"
        moved = Step.objects.filter(pk=step.pk, heartbeat_at=step.heartbeat_at).update(
            status="queued", heartbeat_at=now, deliveries=F("deliveries") + int(lost_worker))
        if not moved:
            continue
        if lost_worker and step.deliveries + 1 > MAX_REDELIVERIES:
            _give_up(step)
            counts["failed"] = counts.get("failed", 0) + 1
            continue
        run_step.apply_async((str(step.run_id), step.action))
        counts["steps"] += 1
    for timer in Timer.objects.filter(fired=False, due_at__lt=now - dt.timedelta(seconds=5))[:500]:
        fire_timer.apply_async((str(timer.run_id), timer.timer))
        counts["timers"] += 1
    for run in Run.objects.filter(status="queued", state__isnull=True, created_at__lt=stale)[:500]:
        start_run.apply_async((str(run.pk),))
        counts["runs"] += 1
    step_cache.purge_expired()
    if any(counts.values()):
        log.warning("sweep re-enqueued %s", counts)
    return counts


def _give_up(step: Step) -> None:
    """Fail a job whose worker died MAX_REDELIVERIES times.

    The failure is `unrecoverable` (spec §5.2(3), §7): a worker crash is not the step's own failure, so
    the engine neither retries it nor applies continue_on_error; only the error handler runs.
    """
    log.error("run %s step %s: worker lost %d times, failing the step", step.run_id, step.key, step.deliveries + 1)
    apply_event(str(step.run_id), step_finished(
        step.action, False, {"error": {"name": "WorkerLost", "message": (
            f"The worker running this step stopped {step.deliveries + 1} times without finishing "
            "(a crash, a kill, or the script killing its own worker); giving up.")}},
        unrecoverable=True))


@shared_task(ignore_result=True)
def announce(run_id: str, text: str) -> None:
    """Send a line to a run's live watchers from a worker (diagnostics: proves worker → browser)."""
    events._send(run_id, {"type": "log", "key": "", "text": f"{text} (from {worker_name()})\n"})
