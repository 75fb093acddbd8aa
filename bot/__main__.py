"""Command line: `python -m bot serve | check-config | triage | digest`.

Each command imports what it needs when it runs, so `--help` and `check-config` answer quickly
(bench/cli_startup.py measures them): the aiohttp application, Slack, the Prometheus and APM
clients and matplotlib are loaded only by the commands that use them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from bot.cli_errors import EXIT_BAD_INPUT
from bot.digest.cli_args import add_digest_parser
from bot.triage.cli_args import add_triage_parser

if TYPE_CHECKING:
    from bot.config import BotConfig
    from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Slack incident triage for Node.js services."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the bot: Slack events, alert webhooks, health, metrics")
    commands.add_parser("check-config", help="validate settings, catalog and playbook, then exit")
    add_triage_parser(commands)
    add_digest_parser(commands)
    return parser


def _settings_or_exit() -> Settings:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        _fail("The bot cannot start; fix these settings:", error.problems)
    problems = settings.problems_for_serve()
    if problems:
        _fail("The bot cannot start; fix these settings:", problems)
    return settings


def _config_or_exit(settings: Settings) -> BotConfig:
    from bot.config import ConfigError, load_config

    try:
        return load_config(settings)
    except ConfigError as error:
        _fail("The bot cannot start; fix its configuration:", error.problems)


def _fail(headline: str, problems: Sequence[object]) -> NoReturn:
    print(headline, file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)


def _serve(_args: argparse.Namespace) -> int:
    from bot.logs import configure_logging

    settings = _settings_or_exit()
    config = _config_or_exit(settings)
    secrets = settings.secret_values() + config.secret_values()
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, secrets)
    from bot.serve import serve

    serve(settings, config)
    return 0


def _check_config(_args: argparse.Namespace) -> int:
    _config_or_exit(_settings_or_exit())
    print("Settings, service catalog and playbook are valid.")
    return 0


def _triage(args: argparse.Namespace) -> int:
    from bot.triage.cli import run_triage_args

    return asyncio.run(run_triage_args(args))


def _digest(args: argparse.Namespace) -> int:
    from bot.digest.cli import run_digest_cli

    return asyncio.run(run_digest_cli(args))


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve,
    "check-config": _check_config,
    "triage": _triage,
    "digest": _digest,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
