"""Run the Slack emulator on its own, for the demo: `python -m emulator --port 8090`.

The bot token it accepts is SLACK_BOT_TOKEN from the bot's settings, so the bot and the
emulator agree without the token ever appearing on a command line. `--seed` names a JSON file
of extra channels, users and user groups, in the shape `POST /_emulator/seed` takes.
`--lose-replies 0.1` keeps a tenth of the posts but drops their answer, as a flaky network
would; `--scopes-from config/slack-app-manifest.yaml` grants only the manifest's bot scopes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from bot.settings import SettingsError, load_settings
from emulator.http_control import apply_seed
from emulator.manifest import manifest_scopes
from emulator.server import start_emulator


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", type=Path, help="JSON file with channels, users, usergroups")
    parser.add_argument(
        "--lose-replies", type=float, default=0.0, metavar="SHARE",
        help="share of posts (0..1) kept but answered with a dropped connection",
    )  # fmt: skip
    parser.add_argument(
        "--scopes-from", type=Path, metavar="MANIFEST",
        help="Slack app manifest whose bot scopes the token gets (default: every scope)",
    )  # fmt: skip
    return parser.parse_args(argv)


async def serve(
    host: str,
    port: int,
    bot_token: str,
    seed: dict[str, Any],
    *,
    lose_replies: float = 0.0,
    scopes: frozenset[str] | None = None,
) -> None:
    emulator = await start_emulator(host, port, bot_token=bot_token)
    apply_seed(emulator.state, seed)
    emulator.state.lost_replies.configure(lose_replies)
    emulator.state.scopes = scopes
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Slack emulator: API {emulator.url}  page {emulator.page_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await emulator.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    if settings.SLACK_BOT_TOKEN is None:
        print("SLACK_BOT_TOKEN: is required to run the emulator", file=sys.stderr)
        return 2
    seed = json.loads(args.seed.read_text()) if args.seed else {}
    scopes = manifest_scopes(args.scopes_from) if args.scopes_from else None
    token = settings.SLACK_BOT_TOKEN.get_secret_value()
    asyncio.run(
        serve(args.host, args.port, token, seed, lose_replies=args.lose_replies, scopes=scopes)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
