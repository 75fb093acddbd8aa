"""Loading the service catalog and the playbook: start-up fails on either with every problem."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.catalog import Catalog, CatalogError, load_catalog
from bot.settings import Settings, read_secret_variables
from bot.sources.postgres.config import dsn_secrets
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
    # Values of the variables the catalog's `database.dsn_env` entries name.
    database_urls: dict[str, SecretStr] = field(default_factory=dict)
    # Values of the variables the catalog's `agent.token_env` entries name.
    agent_tokens: dict[str, SecretStr] = field(default_factory=dict)

    def secret_values(self) -> list[str]:
        """The DSNs and their passwords and the agents' tokens, for the log scrubber."""
        dsns = [part for dsn in self.database_urls.values() for part in dsn_secrets(dsn)]
        return dsns + [token.get_secret_value() for token in self.agent_tokens.values()]


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
    urls = read_secret_variables(catalog.database_variables())
    tokens = read_secret_variables(catalog.agent_variables())
    return BotConfig(catalog=catalog, playbook=playbook, database_urls=urls, agent_tokens=tokens)
