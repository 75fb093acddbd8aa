"""`make demo`: a Node.js service with a fault, real monitoring, the bot and a Slack stand-in.

    python -m lab.demo --fault heap_leak

Starts PostgreSQL, one lab service with the chosen fault under load, Prometheus with alert
rules, Alertmanager delivering to the bot, the Slack emulator, and the bot itself on embedded
defaults (in-memory store), reading the service's database as the least-privilege
`triage_bot` role. When the alert fires the bot opens an incident thread; the demo prints
that thread as it would read in Slack. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import create_app
from bot.config import load_config
from bot.http.server import ServerLimits, start_site
from bot.logs import configure_logging
from bot.settings import Settings
from bot.store import MemoryStore
from bot.wiring import build_wiring
from emulator.driver import SlackDriver
from emulator.server import RunningEmulator, start_emulator
from emulator.transcript import channel_transcript
from lab.monitoring import Webhook
from lab.nodeapp import FAULTS, LAB_AGENT_TOKEN, Flavour
from lab.postgres import BOT_ROLE
from lab.stack import LabStack

CHANNEL = "C0INCIDENTS"
SERVICE = "shop"
REPO = Path(__file__).resolve().parents[1]
DIAGNOSIS_MARK = "Most likely cause"


DATABASE_ENV = "SHOP_DATABASE_URL"
AGENT_ENV = "SHOP_AGENT_TOKEN"
# Faults that slow requests too little for the lab's alert rules: after this many seconds the
# demo types `/triage` in the channel, as on-call would.
ASKED_FOR_AFTER_S = {"missing_index": 20.0, "n_plus_one_queries": 20.0}


def _catalog(job: str, role: str, agent_port: int) -> str:
    return f"""
defaults: {{channel: {CHANNEL}}}
services:
  {SERVICE}:
    selector: {{job: {job}}}
    channel: {CHANNEL}
    owners: S0ONCALL
    slo: {{p99_ms: 500, availability_percent: 99.5, pool_size: 10}}
    database: {{dsn_env: {DATABASE_ENV}, role: {role}, application_name: {role}}}
    agent: {{url: "http://{{host}}:{agent_port}", token_env: {AGENT_ENV}}}
"""


def _free_port(preferred: int = 0) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _running_bot(settings: Settings) -> AsyncIterator[str]:
    app = create_app(build_wiring(settings, MemoryStore(), load_config(settings)))
    limits = ServerLimits.from_settings(settings)
    runner, _site = await start_site(app, settings.BOT_HTTP_HOST, settings.BOT_HTTP_PORT, limits)
    try:
        yield f"http://{settings.BOT_HTTP_HOST}:{settings.BOT_HTTP_PORT}"
    finally:
        await runner.cleanup()


async def _watch_thread(
    emulator: RunningEmulator, until_diagnosis: bool, give_up_after: float
) -> bool:
    shown, deadline = "", time.monotonic() + give_up_after
    while time.monotonic() < deadline:
        text = channel_transcript(emulator.state, CHANNEL)
        if text != shown:
            print("\n" + "═" * 30 + f" #{CHANNEL} as Slack shows it " + "═" * 30)
            print(text, flush=True)
            shown = text
        if until_diagnosis and DIAGNOSIS_MARK in text:
            return True
        await asyncio.sleep(2)
    return False


@dataclass(frozen=True)
class DemoStack:
    slack: RunningEmulator
    lab: LabStack
    bot_url: str
    signing_secret: str

    async def slash_command(self, command: str, text: str) -> None:
        events = f"{self.bot_url}/slack/events"
        sink = self.slack.response_sink_base
        async with SlackDriver(events, self.signing_secret, sink) as driver:
            await driver.slash_command(command, text, channel_id=CHANNEL)


@contextlib.asynccontextmanager
async def demo_stack(fault: str, flavour: Flavour) -> AsyncIterator[DemoStack]:
    """The lab with one faulty service, Alertmanager wired to the bot, the bot and the emulator."""
    token = secrets.token_urlsafe(24)
    bot_port = _free_port()
    async with await start_emulator(port=_free_port(8090), bot_token=f"xoxb-demo-{token}") as slack:
        webhook = Webhook(f"http://127.0.0.1:{bot_port}/alerts/alertmanager", SecretStr(token))
        async with LabStack(flavours=(flavour,), faults=(fault,), webhook=webhook) as lab:
            with tempfile.TemporaryDirectory(prefix="triagebot-demo-") as config_dir:
                catalog = _catalog(
                    lab.service_job(flavour, fault),
                    lab.database_role(flavour, fault),
                    lab.service(flavour, fault).agent_port,
                )
                await asyncio.to_thread(Path(config_dir, "services.yaml").write_text, catalog)
                # The bot reads the DSN from the variable the catalog names, as in production.
                os.environ[DATABASE_ENV] = lab.database.dsn(BOT_ROLE)
                os.environ[AGENT_ENV] = LAB_AGENT_TOKEN  # the lab services' agents
                settings = _settings(token, slack, lab, Path(config_dir), bot_port)
                secret = settings.SLACK_SIGNING_SECRET
                assert secret is not None
                async with _running_bot(settings) as bot_url:
                    yield DemoStack(slack, lab, bot_url, secret.get_secret_value())


def _settings(
    token: str, slack: RunningEmulator, lab: LabStack, config_dir: Path, port: int
) -> Settings:
    return Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=SecretStr(f"xoxb-demo-{token}"),
        SLACK_SIGNING_SECRET=SecretStr(secrets.token_hex(16)),
        ALERT_WEBHOOK_TOKEN=SecretStr(token),
        SLACK_API_URL=slack.url,
        SLACK_RESPONSE_URL_ORIGINS=slack.origin,
        PROMETHEUS_URL=lab.prometheus_url,
        ALERTMANAGER_URL=lab.alertmanager_url,
        BOT_CONFIG_DIR=config_dir,
        BOT_PLAYBOOK_DIR=REPO / "playbooks",
        BOT_HTTP_HOST="127.0.0.1",
        BOT_HTTP_PORT=port,
        LOG_FORMAT="console",
        LOG_LEVEL="WARNING",
    )


async def run_demo(
    fault: str, flavour: Flavour, until_diagnosis: bool, give_up_after: float
) -> int:
    print(f"Starting the lab with fault '{fault}' ({flavour}); this takes a minute…", flush=True)
    async with demo_stack(fault, flavour) as demo:
        lab = demo.lab
        _print_where(demo.slack, demo.bot_url, lab.prometheus_url, lab.alertmanager_url)
        asking = None
        if fault in ASKED_FOR_AFTER_S:
            asking = asyncio.create_task(_ask_for_triage(demo, ASKED_FOR_AFTER_S[fault]))
        found = await _watch_thread(demo.slack, until_diagnosis, give_up_after)
        if asking is not None:
            asking.cancel()
    return 0 if found or not until_diagnosis else 1


async def _ask_for_triage(demo: DemoStack, after_s: float) -> None:
    print(
        f"This fault slows requests too little to fire an alert; in {after_s:.0f} s the demo "
        f"types `/triage {SERVICE}` in #{CHANNEL}, as on-call would.",
        flush=True,
    )
    await asyncio.sleep(after_s)
    await demo.slash_command("/triage", f"{SERVICE} 2m")


def _print_where(slack: RunningEmulator, bot: str, prometheus: str, alertmanager: str) -> None:
    print(
        "\nEverything is up:\n"
        f"  Slack emulator (open in a browser): {slack.page_url}\n"
        f"  bot:            {bot}  (/healthz, /readyz, /metrics)\n"
        f"  Prometheus:     {prometheus}\n"
        f"  Alertmanager:   {alertmanager}\n"
        "Waiting for the alert to fire (usually 20-60 s); the thread appears below. "
        "Ctrl-C stops everything.\n",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.demo", description=__doc__)
    parser.add_argument("--fault", default="event_loop_blocked", choices=FAULTS)
    parser.add_argument("--flavour", default="promclient", choices=("promclient", "otel"))
    parser.add_argument(
        "--exit-after-diagnosis",
        action="store_true",
        help="stop once the thread shows a diagnosis (exit 1 if none within --timeout)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before giving up")
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    try:
        return asyncio.run(
            run_demo(args.fault, args.flavour, args.exit_after_diagnosis, args.timeout)
        )
    except KeyboardInterrupt:
        print("\nStopped; everything the demo started has been shut down.")
        return 0


if __name__ == "__main__":
    sys.exit(main())
