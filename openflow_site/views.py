"""Site-level views: health check and the home redirect."""

from __future__ import annotations

import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from openflow_site.celery import app as celery_app
from openflow_site.redis_client import redis_connection


def home(request: HttpRequest):
    return redirect("flows-page")


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and at least one Celery worker answer; 503 naming what doesn't."""
    checks: dict[str, object] = {}
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "down" here
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        redis_connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    workers = 0
    if checks["redis"] == "ok":
        try:
            workers = len(celery_app.control.ping(timeout=1.0, limit=1) or [])
        except Exception:
            workers = 0
    checks["workers"] = workers
    healthy = checks["database"] == "ok" and checks["redis"] == "ok" and workers > 0
    checks["status"] = "ok" if healthy else "unhealthy"
    checks["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse(checks, status=200 if healthy else 503)
