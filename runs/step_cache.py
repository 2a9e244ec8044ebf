"""``cache_ttl`` on a step: a success is kept that many seconds and reused for the same inputs
(worker runs only: `run_flow` and `run_locally` have no database and don't cache).

As in Windmill, the cache is keyed by where the step lives and what it gets: the flow's path (a
saved flow's steps share one cache whoever runs them, like a workspace's) or, for a flow run
from its JSON without saving, the user who ran it; then the module id, the language, the code
(or the saved script's path) and the arguments. Changing the code or any argument is a miss.
Only successes are kept. Reads and writes are effects of the task layer; the engine only carries
``cache_ttl`` on the RunScript action.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.utils import timezone

from runs.models import CachedResult, Run

MISS = object()


def cache_key(run: Run, action: dict) -> str:
    owner = run.flow_path or f"inline:{run.created_by_id}"
    identity = [owner, action.get("module_id"), action.get("language"), action.get("path"),
                action.get("content"), action.get("args") or {}]
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def lookup(key: str) -> Any:
    """The cached result for `key`, or MISS (expired entries are misses)."""
    row = CachedResult.objects.filter(key=key, expires_at__gt=timezone.now()).only("result").first()
    return MISS if row is None else row.result


def store(key: str, result: Any, ttl: int) -> None:
    now = timezone.now()
    CachedResult.objects.update_or_create(
        key=key, defaults={"result": result, "created_at": now, "expires_at": now + dt.timedelta(seconds=ttl)})


def purge_expired() -> int:
    """Delete expired entries (the periodic sweep calls this)."""
    return CachedResult.objects.filter(expires_at__lte=timezone.now()).delete()[0]
