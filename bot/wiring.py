"""Builds the long-lived objects of one bot process from its settings and configuration."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.config import BotConfig
from bot.digest.compose import DigestComposer
from bot.digest.scheduler import DigestScheduler
from bot.grading import Grading
from bot.incidents.model import Incident
from bot.incidents.repository import IncidentRepository
from bot.incidents.routing import Router, ServiceRoute
from bot.incidents.service import IncidentService
from bot.incidents.thread import IncidentThread
from bot.incidents.triage_flow import IncidentTriage
from bot.outbox.dead_letters import DeadLetters
from bot.outbox.delivery import Delivery
from bot.outbox.pace import Pacer
from bot.outbox.queue import Outbox
from bot.outbox.worker import OutboxWorker, consumer_name
from bot.outbox.writes import SlackWrites
from bot.runtime.supervisor import Supervised
from bot.runtime.tasks import TaskTracker
from bot.settings import Settings
from bot.slack.client import BotWebClient, make_client, make_outbox_client
from bot.slack.deps import Deps
from bot.slack.home import HealthMarks, HomeTab
from bot.slack.listeners import register_listeners
from bot.slack.permissions import Permissions
from bot.slack.ratelimit import RateLimiter
from bot.sources.alertmanager import AlertmanagerClient
from bot.sources.apm.settings import ApmSettings
from bot.sources.prometheus import PrometheusClient
from bot.store.base import Store
from bot.telemetry import OUTBOX_WORKER_UP
from bot.triage.runner import ServiceTriageRunner


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    store: Store
    client: BotWebClient
    tasks: TaskTracker
    bolt: AsyncApp
    deps: Deps
    outbox: Outbox
    pacer: Pacer
    worker: OutboxWorker
    supervised_worker: Supervised
    triage: IncidentTriage
    prometheus: PrometheusClient | None
    digests: DigestScheduler | None


def build_wiring(settings: Settings, store: Store, config: BotConfig) -> Wiring:
    token = _secret(settings.SLACK_BOT_TOKEN)
    client = make_client(token, settings.slack_api_url)
    tasks = TaskTracker()
    prometheus = PrometheusClient(str(settings.PROMETHEUS_URL)) if settings.PROMETHEUS_URL else None
    outbox = Outbox(store)
    pacer = Pacer(store)
    worker = _outbox_worker(store, outbox, pacer, make_outbox_client(token, settings.slack_api_url))
    repository = IncidentRepository(store)
    outbox.when_posted(repository.remember_root)
    thread = IncidentThread(outbox)
    apm = ApmSettings.from_settings(settings)
    runner = ServiceTriageRunner(
        config.catalog,
        config.playbook,
        prometheus,
        apm,
        database_urls=config.database_urls,
        agent_tokens=config.agent_tokens,
        capture_store=store,
    )
    triage = IncidentTriage(
        repository, runner, tasks, thread, store, profiles=runner.attach_profile
    )
    home = HomeTab(client, repository, config.catalog, HealthMarks(store), tasks, viewers=store)

    async def opened(incident: Incident) -> None:
        await triage.start(incident)
        home.incidents_changed()

    incidents = IncidentService(repository, _router(config), thread, on_opened=opened)
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
        outbox=outbox,
        prometheus=prometheus,
        home=home,
        rate_limiter=RateLimiter(store),
        grading=Grading.from_playbook(config.playbook),
    )
    bolt = _bolt_app(settings, client, deps)
    digests = _digests(config, store, prometheus, repository, outbox)
    supervised = Supervised("outbox-worker", worker.run, on_state=OUTBOX_WORKER_UP.set)
    return Wiring(
        settings=settings,
        store=store,
        client=client,
        tasks=tasks,
        bolt=bolt,
        deps=deps,
        outbox=outbox,
        pacer=pacer,
        worker=worker,
        supervised_worker=supervised,
        triage=triage,
        prometheus=prometheus,
        digests=digests,
    )


def _outbox_worker(
    store: Store, outbox: Outbox, pacer: Pacer, client: BotWebClient
) -> OutboxWorker:
    consumer = consumer_name()
    writes = SlackWrites(client, store, pacer, consumer)
    delivery = Delivery(store, writes, outbox, DeadLetters(store, outbox))
    worker = OutboxWorker(store, delivery, consumer=consumer)
    outbox.on_enqueue(worker.nudge)
    return worker


def _digests(
    config: BotConfig,
    store: Store,
    prometheus: PrometheusClient | None,
    repository: IncidentRepository,
    outbox: Outbox,
) -> DigestScheduler | None:
    """The weekly digest needs Prometheus; without it there is nothing to report."""
    if prometheus is None:
        return None
    composer = DigestComposer(
        config.catalog,
        prometheus,
        incidents=repository,
        grading=Grading.from_playbook(config.playbook),
    )
    return DigestScheduler(config.catalog, store, composer, outbox=outbox)


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
