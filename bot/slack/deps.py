"""What listeners need, passed in explicitly instead of read from globals."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.catalog import Catalog
from bot.grading import Grading
from bot.incidents.service import IncidentService
from bot.incidents.triage_flow import IncidentTriage
from bot.outbox.queue import Outbox
from bot.runtime.tasks import TaskTracker
from bot.settings import Settings
from bot.slack.home import HomeTab
from bot.slack.permissions import Permissions
from bot.slack.ratelimit import RateLimiter
from bot.sources.alertmanager import AlertmanagerClient
from bot.sources.prometheus import PrometheusClient
from bot.store.base import Store
from bot.triage.runner import ServiceTriageRunner


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: Store
    tasks: TaskTracker
    catalog: Catalog
    runner: ServiceTriageRunner
    incidents: IncidentService
    triage: IncidentTriage
    permissions: Permissions
    alertmanager: AlertmanagerClient | None
    outbox: Outbox
    prometheus: PrometheusClient | None
    home: HomeTab
    rate_limiter: RateLimiter
    grading: Grading = field(default_factory=Grading)
