"""Loading the service catalog and the playbook: start-up fails on either with every problem."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import Catalog, CatalogError, load_catalog
from bot.settings import Settings
from bot.triage.playbook import Playbook, PlaybookError, load_playbooks

DEFAULT_PLAYBOOK = "nodejs"


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class BotConfig:
    catalog: Catalog
    playbook: Playbook


def load_config(settings: Settings) -> BotConfig:
    problems: list[str] = []
    catalog = playbook = None
    try:
        catalog = load_catalog(settings.BOT_CONFIG_DIR / "services.yaml")
    except CatalogError as error:
        problems += error.problems
    try:
        playbook = load_playbooks(settings.BOT_PLAYBOOK_DIR).get(DEFAULT_PLAYBOOK)
        if playbook is None:
            problems.append(
                f"{settings.BOT_PLAYBOOK_DIR}: no playbook named '{DEFAULT_PLAYBOOK}' "
                "(point BOT_PLAYBOOK_DIR at the folder holding nodejs.yaml)"
            )
    except PlaybookError as error:
        problems.append(str(error))
    if problems or catalog is None or playbook is None:
        raise ConfigError(problems)
    return BotConfig(catalog=catalog, playbook=playbook)
