"""A service's `database:` entry in the catalog: where its DSN lives, which sessions are its own.

    services:
      checkout:
        selector: {job: checkout}
        database:
          dsn_env: CHECKOUT_DATABASE_URL   # the variable holding the DSN, never the DSN itself
          application_name: checkout       # its sessions in pg_stat_activity
          role: checkout_app               # its statements in pg_stat_statements (and sessions)
          exporter: {job: postgres}        # optional: postgres_exporter's pg_stat_statements_*

This module only describes the entry; it imports the driver only to read a DSN's password.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.sources.promql import label_name

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}\Z")
# PostgreSQL truncates identifiers and application names at 63 bytes.
MAX_NAME_BYTES = 63


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        # The value is not echoed: a DSN pasted here by mistake may carry a password.
        raise ValueError(
            "must name an environment variable in capitals, like CHECKOUT_DATABASE_URL; "
            "the DSN itself belongs in that variable, never in the catalog"
        )
    return value


def _postgres_name(value: str) -> str:
    if not value or len(value.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"must be 1 to {MAX_NAME_BYTES} bytes long, got {len(value.encode())}")
    if any(ord(char) < 32 for char in value):
        raise ValueError("must not contain control characters")
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
PostgresName = Annotated[str, AfterValidator(_postgres_name)]


class DatabaseConfig(BaseModel):
    """Optional PostgreSQL evidence for one service (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dsn_env: EnvName
    application_name: PostgresName | None = None
    role: PostgresName | None = None
    exporter: dict[str, str] | None = Field(default=None, min_length=1)

    @field_validator("exporter")
    @classmethod
    def _label_names(cls, exporter: dict[str, str] | None) -> dict[str, str] | None:
        for name in exporter or {}:
            label_name(name)
        return exporter


def dsn_secrets(dsn: SecretStr) -> list[str]:
    """The DSN and the password inside it, so logs can hide either wherever it appears."""
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.errors import ProgrammingError

    value = dsn.get_secret_value()
    try:
        password = conninfo_to_dict(value).get("password")
    except ProgrammingError:
        password = None
    return [value, *([str(password)] if password else [])]
