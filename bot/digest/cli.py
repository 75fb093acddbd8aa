"""`python -m bot digest [--channel C] [--dry-run] [--services FILE] [--prometheus-url URL]`.

Builds the weekly digest for the seven days up to now. With `--dry-run` it is printed and
nothing is sent; without, it is queued in the shared store's outbox for the running bot to
post, under keys of its own so it never takes the place of the scheduled weekly digest.

Exit codes: 0 done; 2 bad input (the message names the problem and the fix); 3 Prometheus
could not be reached (the digest is still printed, each section saying so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.catalog import Catalog, CatalogError, load_catalog_async
from bot.cli_errors import EXIT_BACKEND_DOWN, EXIT_BAD_INPUT, EXIT_OK, BadInput
from bot.digest.compose import DigestComposer
from bot.digest.period import manual_period
from bot.digest.scheduler import digest_channels
from bot.grading import Grading
from bot.incidents.repository import IncidentRepository
from bot.outbox.ops import Post, Upload
from bot.outbox.queue import Outbox
from bot.settings import Settings, SettingsError, load_settings
from bot.slack.render.digest import digest_ops, digest_text
from bot.sources.prometheus import PrometheusClient
from bot.store import StoreUnavailable, open_store


@dataclass(frozen=True)
class _Setup:
    settings: Settings
    catalog: Catalog
    channels: list[str]
    prometheus: PrometheusClient
    grading: Grading


async def run_digest_cli(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    try:
        setup = await _setup(args)
    except BadInput as problem:
        print(f"digest: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    now = datetime.now(UTC)
    unreachable = False
    async with setup.prometheus as client, _incident_history(setup.settings) as history:
        composer = DigestComposer(
            setup.catalog,
            client,
            incidents=history,
            charts=not args.dry_run,
            grading=setup.grading,
        )
        digests = []
        for channel in setup.channels:
            period = manual_period(channel, setup.catalog.digest_for(channel), now)
            digest = await composer.build(period)
            unreachable = unreachable or any(f.unreachable for f in digest.services)
            digests.append(digest)
    if args.dry_run:
        print("\n\n".join(digest_text(d) for d in digests), file=stdout)
    else:
        try:
            queued = await _enqueue(setup.settings, [op for d in digests for op in digest_ops(d)])
        except BadInput as problem:
            print(f"digest: {problem}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"Queued {queued} messages for {', '.join(setup.channels)}.", file=stdout)
    return EXIT_BACKEND_DOWN if unreachable else EXIT_OK


@contextlib.asynccontextmanager
async def _incident_history(settings: Settings) -> AsyncIterator[IncidentRepository | None]:
    """The bot's incidents when its shared store is configured and reachable, else none."""
    target = settings.redis_target()
    if target is None:
        yield None
        return
    try:
        store = await open_store(target)
    except StoreUnavailable:
        yield None
        return
    try:
        yield IncidentRepository(store)
    finally:
        await store.close()


async def _enqueue(settings: Settings, ops: list[Post | Upload]) -> int:
    try:
        store = await open_store(settings.redis_target())
    except StoreUnavailable as error:
        raise BadInput(f"the store could not be reached ({error}); check REDIS_URL") from None
    try:
        await Outbox(store).send(*ops)
    finally:
        await store.close()
    return len(ops)


async def _setup(args: argparse.Namespace) -> _Setup:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise BadInput(f"fix these settings first:\n{error}") from None
    path = args.services or settings.BOT_CONFIG_DIR / "services.yaml"
    try:
        catalog = await load_catalog_async(path)
    except CatalogError as error:
        raise BadInput(f"the service catalog has problems:\n{error}") from None
    channels = _channels(catalog, args.channel)
    grading = await asyncio.to_thread(_grading, settings.BOT_PLAYBOOK_DIR)
    if not args.dry_run and settings.redis_target() is None:
        raise BadInput(
            "posting needs the store the running bot reads: set REDIS_URL, "
            "or pass --dry-run to print the digest instead"
        )
    url = args.prometheus_url or (str(settings.PROMETHEUS_URL) if settings.PROMETHEUS_URL else None)
    if not url:
        raise BadInput("no Prometheus to ask: set PROMETHEUS_URL or pass --prometheus-url URL")
    try:
        prometheus = PrometheusClient(url)
    except ValueError as error:
        raise BadInput(str(error)) from None
    return _Setup(settings, catalog, channels, prometheus, grading)


def _grading(playbooks: Path) -> Grading:
    """The thresholds of the playbook in `playbooks`; the shipped ones where there is none."""
    if not playbooks.is_dir():
        return Grading()
    from bot.triage.playbook import PlaybookError, load_default_playbook  # its check kinds

    try:
        return Grading.from_playbook(load_default_playbook(playbooks))
    except PlaybookError as error:
        raise BadInput(str(error)) from None


def _channels(catalog: Catalog, wanted: str | None) -> list[str]:
    known = list(digest_channels(catalog))
    if not known:
        raise BadInput(
            "no service has a channel: set defaults.channel or a service's channel in the catalog"
        )
    if wanted is None:
        return known
    if wanted not in known:
        raise BadInput(
            f"no service posts to channel {wanted!r}; channels with services: {', '.join(known)}"
        )
    return [wanted]
