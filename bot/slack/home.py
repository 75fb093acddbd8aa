"""The App Home tab: published when someone opens it, and again for recent visitors whenever
incidents change, so the list and its buttons stay current.

    home = HomeTab(client, repository, catalog, HealthMarks(store), tasks, viewers=store)
    await home.opened_by("U0ALICE")    # from app_home_opened
    await home.publish("U0ALICE")
    home.incidents_changed()           # after a button or command changed an incident

Who looked at Home recently is kept in the store, so whichever replica changes an incident
refreshes Home for everyone. Health marks are cheap by design: the latest `/health` or triage
verdict per service, kept in the store; opening Home never queries Prometheus.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from slack_sdk.errors import SlackApiError

from bot.catalog import Catalog
from bot.incidents.model import Incident
from bot.incidents.repository import IncidentRepository
from bot.models import Status
from bot.runtime.tasks import TaskTracker
from bot.slack.client import BotWebClient
from bot.slack.ids import loggable
from bot.slack.render.home import HealthMark, home_view
from bot.store import keys
from bot.store.base import StoreUnavailable, ValueStore
from bot.store.keys import HEALTH_MARK_TTL_SECONDS, HOME_VIEWER_SECONDS, HOME_VIEWERS_KEPT

log = structlog.get_logger(__name__)

MAX_INCIDENTS_SHOWN = 15
REFRESH_COALESCE_SECONDS = 0.2
PUBLISH_TIMEOUT_SECONDS = 10.0


class HealthMarks:
    """The latest health verdict per service, shared by every replica through the store."""

    def __init__(self, store: ValueStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def record(self, service: str, status: Status, note: str) -> None:
        document = json.dumps({"status": status, "note": note[:200], "at": self._clock()})
        await self._store.set_value(keys.health_mark(service), document, HEALTH_MARK_TTL_SECONDS)

    async def latest(self, services: Sequence[str]) -> dict[str, HealthMark]:
        marks: dict[str, HealthMark] = {}
        for name in services:
            stored = await self._store.get_value(keys.health_mark(name))
            if stored is not None:
                data = json.loads(stored)
                marks[name] = HealthMark(data["status"], str(data["note"]), float(data["at"]))
        return marks


class HomeTab:
    def __init__(
        self,
        client: BotWebClient,
        repository: IncidentRepository,
        catalog: Catalog,
        marks: HealthMarks,
        tasks: TaskTracker,
        *,
        viewers: ValueStore,
    ) -> None:
        self._client = client
        self._repository = repository
        self._catalog = catalog
        self.marks = marks
        self._tasks = tasks
        self._viewers = viewers
        self._refresh_queued = False

    async def opened_by(self, user_id: str) -> None:
        await self._viewers.touch_member(
            keys.HOME_VIEWERS, user_id, HOME_VIEWER_SECONDS, HOME_VIEWERS_KEPT
        )

    async def recent_viewers(self) -> list[str]:
        return await self._viewers.recent_members(keys.HOME_VIEWERS, HOME_VIEWER_SECONDS)

    async def publish(self, user_id: str, notice: str | None = None) -> None:
        incidents = await self._open_incidents()
        services = sorted(self._catalog.services)
        marks = await self.marks.latest(services)
        view = home_view(incidents, services, marks, datetime.now(UTC), notice)
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
            await self._client.views_publish(user_id=user_id, view=view)

    def incidents_changed(self) -> None:
        """Re-publish Home for recent visitors; a burst of changes costs one refresh each."""
        if self._refresh_queued:
            return
        self._refresh_queued = True
        try:
            self._tasks.spawn(self._refresh_recent(), name="home-refresh")
        except RuntimeError:  # shutting down
            self._refresh_queued = False

    async def _refresh_recent(self) -> None:
        await asyncio.sleep(REFRESH_COALESCE_SECONDS)
        self._refresh_queued = False
        try:
            viewers = await self.recent_viewers()
        except StoreUnavailable as error:
            log.warning("could not refresh App Home", error=type(error).__name__)
            return
        for user_id in viewers:
            try:
                await self.publish(user_id)
            except (SlackApiError, StoreUnavailable, TimeoutError) as error:
                log.warning(
                    "could not refresh App Home", user=loggable(user_id), error=type(error).__name__
                )

    async def _open_incidents(self) -> list[Incident]:
        return await self._repository.open_incidents(limit=MAX_INCIDENTS_SHOWN)
