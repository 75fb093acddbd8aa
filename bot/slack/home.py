"""The App Home tab: published when someone opens it, and again for recent visitors whenever
incidents change, so the list and its buttons stay current.

    home = HomeTab(client, repository, catalog, HealthMarks(store), tasks)
    home.opened_by("U0ALICE")          # from app_home_opened
    await home.publish("U0ALICE")
    home.incidents_changed()           # after a button or command changed an incident

Health marks are cheap by design: the latest `/health` or triage verdict per service, kept in
the store; opening Home never queries Prometheus.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
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
from bot.store.base import Store, StoreUnavailable

log = structlog.get_logger(__name__)

MARK_TTL_SECONDS = 6 * 3600.0
MAX_INCIDENTS_SHOWN = 15
RECENT_VIEWERS_MAX = 200
RECENT_VIEWER_SECONDS = 30 * 60.0
REFRESH_COALESCE_SECONDS = 0.2
PUBLISH_TIMEOUT_SECONDS = 10.0


class HealthMarks:
    """The latest health verdict per service, shared by every replica through the store."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def record(self, service: str, status: Status, note: str) -> None:
        document = json.dumps({"status": status, "note": note[:200], "at": self._clock()})
        await self._store.set_value(_mark_key(service), document, MARK_TTL_SECONDS)

    async def latest(self, services: Sequence[str]) -> dict[str, HealthMark]:
        marks: dict[str, HealthMark] = {}
        for name in services:
            stored = await self._store.get_value(_mark_key(name))
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._repository = repository
        self._catalog = catalog
        self.marks = marks
        self._tasks = tasks
        self._clock = clock
        self._viewers: OrderedDict[str, float] = OrderedDict()
        self._refresh_queued = False

    def opened_by(self, user_id: str) -> None:
        self._viewers[user_id] = self._clock()
        self._viewers.move_to_end(user_id)
        while len(self._viewers) > RECENT_VIEWERS_MAX:
            self._viewers.popitem(last=False)

    def recent_viewers(self) -> list[str]:
        cutoff = self._clock() - RECENT_VIEWER_SECONDS
        for user_id in [u for u, seen in self._viewers.items() if seen < cutoff]:
            del self._viewers[user_id]
        return list(self._viewers)

    async def publish(self, user_id: str, notice: str | None = None) -> None:
        incidents = await self._open_incidents()
        services = sorted(self._catalog.services)
        marks = await self.marks.latest(services)
        view = home_view(incidents, services, marks, datetime.now(UTC), notice)
        async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
            await self._client.views_publish(user_id=user_id, view=view)

    def incidents_changed(self) -> None:
        """Re-publish Home for recent visitors; a burst of changes costs one refresh each."""
        if self._refresh_queued or not self._viewers:
            return
        self._refresh_queued = True
        self._tasks.spawn(self._refresh_recent(), name="home-refresh")

    async def _refresh_recent(self) -> None:
        await asyncio.sleep(REFRESH_COALESCE_SECONDS)
        self._refresh_queued = False
        for user_id in self.recent_viewers():
            try:
                await self.publish(user_id)
            except (SlackApiError, StoreUnavailable, TimeoutError) as error:
                log.warning(
                    "could not refresh App Home", user=loggable(user_id), error=type(error).__name__
                )

    async def _open_incidents(self) -> list[Incident]:
        ids = (await self._repository.store.open_incident_ids())[:MAX_INCIDENTS_SHOWN]
        found = [await self._repository.get(incident_id) for incident_id in ids]
        return [incident for incident in found if incident is not None]


def _mark_key(service: str) -> str:
    return f"health-mark:{service}"
