"""Everything the bot logs while a block runs, structlog events and stdlib records alike, from
any thread: what the leak and traceback checks read.

    with captured_logs() as logs:
        ...
    assert "secret" not in logs.text()
    assert logs.tracebacks() == []
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog

from bot.logs import LIBRARY_FLOORS as PRODUCTION_FLOORS


@dataclass
class CapturedLogs:
    events: list[dict[str, Any]] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def text(self) -> str:
        with self.lock:
            return "\n".join([*map(repr, self.events), *self.records])

    def tracebacks(self) -> list[str]:
        """Events logged with a traceback (log.exception, exc_info), as text."""
        with self.lock:
            found = [repr(e) for e in self.events if e.get("exc_info") or e.get("exception")]
            return found + [r for r in self.records if "Traceback (most recent call last)" in r]

    def clear(self) -> None:
        with self.lock:
            self.events.clear()
            self.records.clear()


class _Handler(logging.Handler):
    def __init__(self, logs: CapturedLogs) -> None:
        super().__init__(logging.DEBUG)
        self._logs = logs
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with self._logs.lock:
            self._logs.records.append(self.format(record))


@contextmanager
def captured_logs() -> Iterator[CapturedLogs]:
    logs = CapturedLogs()

    def keep(_logger: Any, method: str, event: Any) -> Any:
        if event.get("exc_info") is True:
            event = {**event, "exception": traceback.format_exc()}
        with logs.lock:
            logs.events.append({**event, "log_level": method})
        raise structlog.DropEvent

    handler = _Handler(logs)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # As `bot.logs.configure_logging` sets them in production, at any LOG_LEVEL.
    quieted = {name: logging.getLogger(name).level for name in PRODUCTION_FLOORS}
    for name, floor in PRODUCTION_FLOORS.items():
        logging.getLogger(name).setLevel(floor)
    previous = structlog.get_config()
    structlog.configure(processors=[keep], cache_logger_on_first_use=False)
    try:
        yield logs
    finally:
        structlog.configure(**previous)
        root.removeHandler(handler)
        root.setLevel(level)
        for name, old in quieted.items():
            logging.getLogger(name).setLevel(old)
