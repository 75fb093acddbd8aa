"""`python -m bot triage SERVICE [--window 10m] [--services FILE] [--prometheus-url URL] [--db]
[--json] [--no-profile]`.

Exit codes: 0 the triage ran (whatever it found); 2 bad input (unknown service, bad window,
bad configuration); 3 the metrics backend could not be reached (the report is still printed,
with the affected steps unknown).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.catalog import Catalog, CatalogError, load_catalog_async
from bot.cli_errors import EXIT_BACKEND_DOWN, EXIT_BAD_INPUT, EXIT_OK, BadInput
from bot.settings import Settings, SettingsError, load_settings, read_secret_variables
from bot.sources.apm.settings import ApmSettings
from bot.sources.prometheus import PrometheusClient
from bot.triage.cli_args import configure_parser
from bot.triage.db_text import render_database_report
from bot.triage.playbook import Playbook, PlaybookError, load_default_playbook
from bot.triage.runner import DATABASE_STEP, ServiceTriageRunner, UnknownService
from bot.triage.text import render_report
from bot.triage.window import WindowError, parse_window


async def run_triage_cli(argv: list[str], *, out: TextIO | None = None) -> int:
    """Parse `argv` (the words after `triage`), run the triage, print it, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bot triage")
    configure_parser(parser)
    return await run_triage_args(parser.parse_args(argv), out=out)


async def run_triage_args(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    try:
        setup = await _setup(args)
        async with (
            PrometheusClient(setup.prometheus_url) as client,
            ServiceTriageRunner(
                setup.catalog,
                setup.playbook,
                client,
                setup.apm,
                database_urls=setup.database_urls,
                agent_tokens=setup.agent_tokens,
            ) as runner,
        ):
            steps = {DATABASE_STEP} if args.db else None
            report = await runner.run(
                args.service, args.window, steps=steps, profile=not args.no_profile
            )
    except (BadInput, UnknownService, WindowError) as problem:
        print(f"triage: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    render = render_database_report if args.db else render_report
    print(report.model_dump_json() if args.json else render(report), file=stdout)
    return EXIT_BACKEND_DOWN if report.backend_errors else EXIT_OK


@dataclass(frozen=True)
class _Setup:
    catalog: Catalog
    playbook: Playbook
    prometheus_url: str
    apm: ApmSettings
    database_urls: dict[str, SecretStr]
    agent_tokens: dict[str, SecretStr]


async def _setup(args: argparse.Namespace) -> _Setup:
    """Everything checked before any query, in the order a user fixes it."""
    settings = _settings()
    try:
        parse_window(args.window, end=time.time())
    except WindowError as error:
        raise BadInput(str(error)) from None
    catalog = await _catalog(args.services or settings.BOT_CONFIG_DIR / "services.yaml")
    if catalog.get(args.service) is None:
        raise UnknownService(args.service, catalog.closest(args.service))
    url = args.prometheus_url or (str(settings.PROMETHEUS_URL) if settings.PROMETHEUS_URL else None)
    if not url:
        raise BadInput("no Prometheus to ask: set PROMETHEUS_URL or pass --prometheus-url URL")
    if not url.startswith(("http://", "https://")):
        raise BadInput("the Prometheus URL must look like http://host:9090")
    playbook = await asyncio.to_thread(default_playbook, settings.BOT_PLAYBOOK_DIR)
    urls = await asyncio.to_thread(read_secret_variables, catalog.database_variables())
    tokens = await asyncio.to_thread(read_secret_variables, catalog.agent_variables())
    return _Setup(catalog, playbook, url, ApmSettings.from_settings(settings), urls, tokens)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise BadInput(f"fix these settings first: {error}") from None


async def _catalog(path: Path) -> Catalog:
    try:
        return await load_catalog_async(path)
    except CatalogError as error:
        raise BadInput(f"the service catalog has problems:\n{error}") from None


def default_playbook(directory: Path) -> Playbook:
    try:
        return load_default_playbook(directory)
    except PlaybookError as error:
        raise BadInput(str(error)) from None
