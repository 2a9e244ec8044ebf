"""A process-wide Redis client for our own keys (health, cancel signals)."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def redis_connection() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
