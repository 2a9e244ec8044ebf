"""Runs and their steps.

``Run.state`` is the engine's state (runs/engine); ``Run.version`` is bumped on every save with
compare-and-swap, so two workers applying events to one run can never both win. ``Step`` rows
hold what the engine state does not: the job a worker is executing (with a heartbeat so a sweep
can find jobs whose worker died), the live logs and the real start time.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class Run(models.Model):
    STATUSES = ["queued", "running", "suspended", "success", "failure", "canceled"]
    FINAL = ("success", "failure", "canceled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    flow = models.ForeignKey("editor.Flow", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    flow_path = models.CharField(max_length=255, blank=True, db_index=True)
    flow_version = models.PositiveIntegerField(null=True, blank=True)
    snapshot = models.JSONField(help_text="The resolved OpenFlow object this run executes")
    args = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=[(s, s) for s in STATUSES], default="queued", db_index=True)
    skipped = models.BooleanField(default=False)
    result = models.JSONField(null=True, blank=True)
    state = models.JSONField(null=True, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    event_seq = models.PositiveBigIntegerField(default=0, help_text="Last live-event sequence number")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restarted_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    restart = models.JSONField(null=True, blank=True, help_text='RunStarted.restart: {"from", "results"}')
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.flow_path or 'preview'} {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @classmethod
    def load(cls, run_id: Any) -> Run | None:
        """The run with this id, or None. Without ORDER BY: Meta.ordering is for lists, and
        ``.first()`` would add one to what is a single indexed lookup on every task."""
        return next(iter(cls.objects.filter(pk=run_id).order_by()[:1]), None)


class Step(models.Model):
    """A leaf job of a run (a script attempt's host) and its logs."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="step_rows")
    key = models.CharField(max_length=1000)
    job = models.CharField(max_length=100, blank=True, help_text="Engine job id of the latest attempt")
    action = models.JSONField(null=True, blank=True, help_text="The RunScript action being executed")
    status = models.CharField(max_length=20, default="queued")
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deliveries = models.PositiveIntegerField(default=0, help_text="Times the sweep re-enqueued this job")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    logs = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="unique_run_step_key")]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.key}"


class Timer(models.Model):
    """A pending engine timer (sleep, retry delay, suspend timeout).

    Celery's countdown delivers it normally; the row lets the sweep fire it if that message was
    lost (Redis restarted, every worker down). Firing twice is harmless: the engine ignores a timer
    it no longer waits for.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="timers")
    timer = models.CharField(max_length=200)
    due_at = models.DateTimeField(db_index=True)
    fired = models.BooleanField(default=False, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "timer"], name="unique_run_timer")]


class CachedResult(models.Model):
    """A step's successful result kept for its ``cache_ttl`` (see runs/step_cache.py)."""

    key = models.CharField(max_length=64, primary_key=True, help_text="sha256 of the step's identity and args")
    result = models.JSONField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key[:12]}… until {self.expires_at:%Y-%m-%d %H:%M:%S}"
