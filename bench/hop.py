"""The raw Celery hop: a task that enqueues itself N times, then reports the time on a Redis list.

It runs in the bench's workers (``celery worker -I bench.hop``) with the project's Celery settings, so
the hop it measures is exactly what one ``apply_async`` → worker → task costs on this box, this run.
"""

from __future__ import annotations

import time

from celery import shared_task

from openflow_site.redis_client import redis_connection


@shared_task(ignore_result=True)
def hop(remaining: int, key: str) -> None:
    if remaining <= 0:
        redis_connection().rpush(key, repr(time.time()))
        return
    hop.apply_async((remaining - 1, key))
