"""The Slack emulator and the bot on an event loop of their own, in a thread, for synchronous
clients (schemathesis drives the API with `requests`).

    with LiveBot(settings_overrides) as live:
        requests.get(f"{live.url}/healthz")
        live.call(lambda: live.emulator.state.calls)   # read the emulator on its own loop
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from bot.outbox.pace import PaceRules
from bot.store import MemoryStore
from emulator.limits import Limits
from emulator.server import RunningEmulator, start_emulator
from tests.conftest import BOT_TOKEN, RunningBot, make_settings, start_bot

T = TypeVar("T")
UNPACED = PaceRules(post_interval=0.001, post_burst=1000, edit_interval=0.001, edit_burst=1000)
PLAYBOOKS = Path(__file__).resolve().parents[1] / "playbooks"


class LiveBot:
    def __init__(
        self, config_dir: Path, catalog: str, *, unpaced: bool = False, **overrides: object
    ) -> None:
        """`unpaced`: Slack's posting pace and rate limits off, so every write lands quickly."""
        self._unpaced = unpaced
        self._config_dir = config_dir
        self._catalog = catalog
        self._overrides = overrides
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.emulator: RunningEmulator | None = None
        self.bot: RunningBot | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        assert self.bot is not None
        return self.bot.url

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=timeout)

    def call(self, read: Callable[[], T]) -> T:
        """Run `read` on the bot's loop, so it sees a consistent state."""

        async def reading() -> T:
            return read()

        return self.run(reading())

    async def _start(self) -> None:
        limits = Limits(rate_limits_enabled=False) if self._unpaced else None
        token = str(self._overrides.get("SLACK_BOT_TOKEN", BOT_TOKEN))
        self.emulator = await start_emulator(bot_token=token, limits=limits)
        (self._config_dir / "services.yaml").write_text(self._catalog)
        settings = make_settings(
            self.emulator,
            BOT_CONFIG_DIR=self._config_dir,
            BOT_PLAYBOOK_DIR=PLAYBOOKS,
            **self._overrides,
        )
        self.bot, self._runner = await start_bot(settings, MemoryStore())
        if self._unpaced:
            self.bot.wiring.pacer.rules = UNPACED

    def settle(self, quiet_seconds: float = 1.5, within: float = 60.0) -> int:
        """Wait until the bot has written nothing to Slack for `quiet_seconds`; return how
        many Slack API calls were made."""
        deadline = time.monotonic() + within
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = self.call(lambda: len(self.emulator.state.calls))  # type: ignore[union-attr]
            if count != last:
                last, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet_seconds:
                break
            time.sleep(0.1)
        return last

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.emulator is not None:
            await self.emulator.close()

    def __enter__(self) -> LiveBot:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.run(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
