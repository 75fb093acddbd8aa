"""What listeners need, passed in explicitly instead of read from globals."""

from __future__ import annotations

from dataclasses import dataclass

from bot.runtime.tasks import TaskTracker
from bot.settings import Settings
from bot.store.base import Store


@dataclass(frozen=True)
class Deps:
    settings: Settings
    store: Store
    tasks: TaskTracker
