"""Command line: `python -m bot serve | check-config | triage | digest`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli_errors import EXIT_BAD_INPUT
from bot.config import BotConfig, ConfigError, load_config
from bot.digest.cli import add_digest_parser, run_digest_cli
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.triage.cli import add_triage_parser, run_triage_args


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the bot: Slack events, alert webhooks, health, metrics")
    commands.add_parser("check-config", help="validate settings and exit")
    add_triage_parser(commands)
    add_digest_parser(commands)
    return parser


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        _fail_settings(error)
        raise AssertionError("unreachable") from None


def _fail_settings(error: SettingsError) -> None:
    print("The bot cannot start; fix these settings:", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)


def _serve() -> int:
    settings = _settings_or_exit()
    problems = settings.problems_for_serve()
    if problems:
        _fail_settings(SettingsError(problems))
    config = _config_or_exit(settings)
    secrets = settings.secret_values() + config.secret_values()
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT, secrets)
    from bot.serve import serve

    serve(settings, config)
    return 0


def _config_or_exit(settings: Settings) -> BotConfig:
    try:
        return load_config(settings)
    except ConfigError as error:
        print("The bot cannot start; fix its configuration:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _check_config() -> int:
    settings = _settings_or_exit()
    problems = settings.problems_for_serve()
    if problems:
        _fail_settings(SettingsError(problems))
    _config_or_exit(settings)
    print("Settings, service catalog and playbook are valid.")
    return 0


def _triage(args: argparse.Namespace) -> int:
    return asyncio.run(run_triage_args(args))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "triage":
        return _triage(args)
    if args.command == "digest":
        return asyncio.run(run_digest_cli(args))
    handlers = {"serve": _serve, "check-config": _check_config}
    return handlers[args.command]()


if __name__ == "__main__":
    sys.exit(main())
