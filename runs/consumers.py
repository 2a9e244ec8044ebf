"""WebSocket /ws/runs/<id>/: authenticated watchers of one run receive its live events."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from runs.events import group_name
from runs.models import Run
from runs.permissions import can_see_run

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _may_watch(user, run_id) -> bool:
    run = Run.load(run_id)
    return run is not None and can_see_run(user, run)


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        # Accept, then close with an application code: a refused handshake only shows the browser 1006,
        # and the page needs to tell "log in again" (4401) from "not yours" (4403).
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _may_watch(user, run_id):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = group_name(run_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def run_event(self, event) -> None:
        await self.send_json(event["payload"])
