"""The only place live events leave the system.

``publish(run_id, payload)`` stamps the payload with a per-run, monotonically increasing ``seq``
and sends it to the channel group ``run-<id>`` once the current transaction commits (so a browser
never hears about a state the database does not have yet). Payload types (see DESIGN.md
"Live updates"): ``{"type": "run", "run": {...}}``, ``{"type": "step", "step": {...}}``,
``{"type": "log", "key", "text"}``.

Sending from a worker uses one event loop thread per process: ``async_to_sync`` costs ~5 ms a call,
a persistent loop ~1–2 ms (stack-notes §5). The thread is created lazily, so it is born after a
Celery prefork fork, never inherited half-dead from the parent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from openflow_site.redis_client import redis_connection

log = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


def group_name(run_id: Any) -> str:
    return f"run-{run_id}"


def publish(run_id: Any, payload: dict[str, Any]) -> None:
    """Send ``payload`` to the run's watchers after the current transaction commits."""
    publish_many(run_id, [payload])


def publish_many(run_id: Any, payloads: list[dict[str, Any]]) -> None:
    if payloads:
        transaction.on_commit(lambda: _send_many(str(run_id), payloads))


def _next_seqs(run_id: str, count: int, layer: Any = None) -> tuple[range, bool]:
    """``count`` consecutive sequence numbers for the run, and whether anyone may be watching it.

    One Redis round trip does both: the watcher check reads the size of the channel layer's group
    (same Redis). Nobody in the group means a ``group_send`` would deliver nothing, so skipping it is
    the same outcome minus ~1 ms of CPU per message — most runs have no watcher. A browser that joins
    right after the check loads its snapshot after joining, i.e. after our commit, so it misses nothing.
    """
    key = f"openflow:seq:{run_id}"
    pipe = redis_connection().pipeline()
    pipe.incrby(key, count)
    pipe.expire(key, 7 * 24 * 3600)
    group_key = _group_key(layer, group_name(run_id))
    if group_key is not None:
        pipe.zcard(group_key)
    replies = pipe.execute()
    last = int(replies[0])
    watched = group_key is None or int(replies[2]) > 0
    return range(last - count + 1, last + 1), watched


def _group_key(layer: Any, group: str) -> bytes | None:
    """The Redis key of a channels_redis group when it lives in our Redis (one host), else None."""
    from channels_redis.core import RedisChannelLayer

    if isinstance(layer, RedisChannelLayer) and len(getattr(layer, "hosts", [])) == 1:
        return layer._group_key(group)
    return None


def _send(run_id: str, payload: dict[str, Any]) -> None:
    _send_many(run_id, [payload])


def _send_many(run_id: str, payloads: list[dict[str, Any]]) -> None:
    """Number the payloads, then hand them to this process's sender loop in one go.

    The sender drains one queue in order, so a run's messages leave in ``seq`` order even when
    several transactions commit back to back (separate coroutines could interleave their awaits).
    """
    try:
        layer = get_channel_layer()
        seqs, watched = _next_seqs(run_id, len(payloads), layer)
        if not watched:
            return
        group = group_name(run_id)
        events = [(group, {"type": "run.event", "payload": {**p, "run_id": run_id, "seq": seq}})
                  for p, seq in zip(payloads, seqs, strict=True)]
        if isinstance(layer, InMemoryChannelLayer):
            for g, event in events:
                async_to_sync(layer.group_send)(g, event)
            return
        loop, queue = _sender()
        loop.call_soon_threadsafe(queue.put_nowait, (layer, events))
    except Exception:  # live events are best effort: the snapshot API is the source of truth
        log.exception("could not publish a live event for run %s", run_id)


_queue: asyncio.Queue | None = None


def _sender() -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
    loop = _event_loop()
    assert _queue is not None
    return loop, _queue


async def _drain(queue: asyncio.Queue) -> None:
    while True:
        layer, events = await queue.get()
        for group, event in events:
            try:
                await layer.group_send(group, event)
            except Exception:
                log.exception("could not publish a live event to %s", group)
        queue.task_done()


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid, _queue
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            queue: asyncio.Queue = asyncio.Queue()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.create_task(_drain(queue))
                loop.run_forever()

            threading.Thread(target=run, name="openflow-events", daemon=True).start()
            _loop, _loop_pid, _queue = loop, os.getpid(), queue
        return _loop


def flush(timeout: float = 2.0) -> None:
    """Wait until events queued on the sender loop have gone out (tests, shutdown)."""
    if _loop is None or _loop_pid != os.getpid() or _queue is None:
        return
    queue = _queue
    asyncio.run_coroutine_threadsafe(queue.join(), _loop).result(timeout)
