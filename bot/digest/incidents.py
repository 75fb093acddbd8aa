"""The week's incident figures per service, from whatever can list past incidents.

The store lists only open incidents today, so the digest asks an `IncidentHistory` for the
incidents opened in the week; without one, the digest says the figures are unavailable.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from bot.digest.figures import Incidents, Missing
from bot.incidents.model import Incident

TOP_CAUSES = 3
NO_HISTORY = Missing(
    "incidents",
    "no incident history was available (the in-memory store keeps none across runs: set REDIS_URL)",
)


class IncidentHistory(Protocol):
    """Incidents opened in a time range, for the weekly figures.

    Example::

        class FromList:
            def __init__(self, incidents: list[Incident]) -> None:
                self.incidents = incidents

            async def opened_between(self, start, end):
                return [i for i in self.incidents if start <= i.opened_at < end]
    """

    async def opened_between(self, start: datetime, end: datetime) -> Sequence[Incident]: ...


def incident_figures(incidents: Iterable[Incident]) -> Incidents:
    found = list(incidents)
    to_ack = [(i.acknowledged_at - i.opened_at).total_seconds() for i in found if i.acknowledged_at]
    to_resolve = [(i.resolved_at - i.opened_at).total_seconds() for i in found if i.resolved_at]
    causes = Counter(i.diagnosis or "undiagnosed" for i in found)
    return Incidents(
        count=len(found),
        median_ack_s=statistics.median(to_ack) if to_ack else None,
        median_resolve_s=statistics.median(to_resolve) if to_resolve else None,
        top_causes=tuple(causes.most_common(TOP_CAUSES)),
    )


async def incidents_by_service(
    history: IncidentHistory | None, services: Iterable[str], start: datetime, end: datetime
) -> dict[str, Incidents | Missing]:
    names = list(services)
    if history is None:
        return dict.fromkeys(names, NO_HISTORY)
    try:
        opened = await history.opened_between(start, end)
    except Exception as error:  # a history backend failing must not cost the whole digest
        gone = Missing(
            "incidents", f"the incident history could not be read ({type(error).__name__})"
        )
        return dict.fromkeys(names, gone)
    return {name: incident_figures(i for i in opened if i.service == name) for name in names}
