"""Builds the long-lived objects of one bot process from its settings and configuration."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from slack_bolt.async_app import AsyncApp

from bot.config import BotConfig
from bot.digest.compose import DigestComposer
from bot.digest.scheduler import DigestScheduler
from bot.incidents.model import Incident
from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.incidents.triage_flow import IncidentTriage, render_progress
from bot.outbox.channel_delivery import ChannelDelivery
from bot.outbox.post_once import PostOnce
from bot.outbox.slack_delivery import Deliveries, SlackDelivery
from bot.outbox.worker import OutboxWorker
from bot.runtime.tasks import TaskTracker
from bot.settings import Settings
from bot.slack.client import BotWebClient, make_client
from bot.slack.deps import Deps
from bot.slack.home import HealthMarks, HomeTab
from bot.slack.listeners import register_listeners
from bot.slack.permissions import Permissions
from bot.slack.ratelimit import RateLimiter
from bot.sources.alertmanager import AlertmanagerClient
from bot.sources.apm.settings import ApmSettings
from bot.sources.prometheus import PrometheusClient
from bot.store.base import Store
from bot.triage.runner import ServiceTriageRunner


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    store: Store
    client: BotWebClient
    tasks: TaskTracker
    bolt: AsyncApp
    deps: Deps
    worker: OutboxWorker
    prometheus: PrometheusClient | None
    digests: DigestScheduler | None


def build_wiring(settings: Settings, store: Store, config: BotConfig) -> Wiring:
    client = make_client(_secret(settings.SLACK_BOT_TOKEN), settings.slack_api_url)
    tasks = TaskTracker()
    prometheus = PrometheusClient(str(settings.PROMETHEUS_URL)) if settings.PROMETHEUS_URL else None
    repository = IncidentRepository(store)
    worker = _outbox_worker(store, client, repository)
    apm = ApmSettings.from_settings(settings)
    runner = ServiceTriageRunner(config.catalog, config.playbook, prometheus, apm)
    triage = IncidentTriage(repository, runner, tasks)
    home = HomeTab(client, repository, config.catalog, HealthMarks(store), tasks)

    async def opened(incident: Incident) -> None:
        await triage.start(incident)
        home.incidents_changed()

    incidents = IncidentService(repository, _router(config), on_opened=opened)
    deps = Deps(
        settings=settings,
        store=store,
        tasks=tasks,
        catalog=config.catalog,
        runner=runner,
        incidents=incidents,
        triage=triage,
        permissions=Permissions(client, config.catalog.defaults.admins, config.catalog.permissions),
        alertmanager=_alertmanager(settings),
        nudge=worker.nudge,
        prometheus=prometheus,
        home=home,
        rate_limiter=RateLimiter(store),
    )
    bolt = _bolt_app(settings, client, deps)
    digests = _digests(config, store, prometheus, repository, worker.nudge)
    return Wiring(settings, store, client, tasks, bolt, deps, worker, prometheus, digests)


def _outbox_worker(
    store: Store, client: BotWebClient, repository: IncidentRepository
) -> OutboxWorker:
    deliveries = Deliveries(
        SlackDelivery(repository, client, partial(render_progress, store)),
        ChannelDelivery(PostOnce(store, client), client),
    )
    worker = OutboxWorker(store, deliveries.deliver, deliveries.channel_of)
    repository.on_enqueue(worker.nudge)
    return worker


def _digests(
    config: BotConfig,
    store: Store,
    prometheus: PrometheusClient | None,
    repository: IncidentRepository,
    wake: Callable[[], None],
) -> DigestScheduler | None:
    """The weekly digest needs Prometheus; without it there is nothing to report."""
    if prometheus is None:
        return None
    composer = DigestComposer(config.catalog, prometheus, incidents=repository)
    return DigestScheduler(config.catalog, store, composer, on_enqueue=wake)


def _router(config: BotConfig) -> Router:
    catalog = config.catalog
    routes = [
        ServiceRoute(name, service.selector, service.channel)
        for name, service in catalog.services.items()
    ]
    return Router(routes, default_channel=catalog.defaults.channel or "")


def _alertmanager(settings: Settings) -> AlertmanagerClient | None:
    url = settings.ALERTMANAGER_URL
    return AlertmanagerClient(str(url)) if url is not None else None


def _bolt_app(settings: Settings, client: BotWebClient, deps: Deps) -> AsyncApp:
    bolt = AsyncApp(
        client=client,
        # Bolt sets its loggers' levels from this one, which the log set-up keeps at WARNING
        # or above: below that Bolt logs request and answer bodies.
        logger=logging.getLogger("slack_bolt"),
        signing_secret=_secret(settings.SLACK_SIGNING_SECRET),
        # Signatures are checked in bot.slack.events before Bolt sees the request.
        request_verification_enabled=False,
        process_before_response=False,
    )
    register_listeners(bolt, deps)
    return bolt


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else ""
