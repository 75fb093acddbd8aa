"""The one place that reads the environment (and `.env`).

Every other module receives a `Settings` instance. A bad value stops start-up with one message
per problem, naming the variable, what is wrong and a valid example, without echoing the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.credentials import source_tokens, token_list
from bot.store.target import SENTINEL_SCHEME, RedisTarget, RedisTargetError, redis_target
from bot.validation import problem_message

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SLACK_RESPONSE_URL_ORIGIN = "https://hooks.slack.com"

EXAMPLES: dict[str, str] = {
    "SLACK_BOT_TOKEN": "xoxb-1234-5678-abcdef",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "SLACK_APP_TOKEN": "xapp-1-A0123-456-abcdef",
    "SLACK_API_URL": "http://127.0.0.1:8090/api/",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_SENTINELS": "sentinel-1:26379,sentinel-2:26379",
    "PROMETHEUS_URL": "http://127.0.0.1:9090",
    "ALERTMANAGER_URL": "http://127.0.0.1:9093",
    "ALERT_WEBHOOK_TOKEN": "a-long-random-string (or two, comma-separated, while rotating)",
    "ALERT_SOURCE_TOKENS": "grafana:a-long-random-string,datadog:another-long-string",
    "METRICS_TOKEN": "a-long-random-string",
    "SLACK_RESPONSE_URL_ORIGINS": "https://hooks.slack.com,http://127.0.0.1:8090",
    "BOT_HTTP_HEADER_TIMEOUT": "10",
    "BOT_HTTP_BODY_TIMEOUT": "30",
    "BOT_HTTP_MAX_CONNECTIONS": "512",
    "BOT_CONFIG_DIR": "config",
    "BOT_PLAYBOOK_DIR": "playbooks",
    "BOT_HTTP_HOST": "127.0.0.1",
    "BOT_HTTP_PORT": "3000",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
    "GRAFANA_WEBHOOK_SECRET": "the secret set on the Grafana contact point",
    "DATADOG_API_KEY": "your Datadog API key",
    "DATADOG_APP_KEY": "your Datadog application key",
    "DATADOG_API_URL": "https://api.datadoghq.eu",
    "NEWRELIC_API_KEY": "NRAK-...",
    "NEWRELIC_API_URL": "https://api.eu.newrelic.com/graphql",
}


@dataclass(frozen=True)
class SettingProblem:
    variable: str
    problem: str

    def __str__(self) -> str:
        example = EXAMPLES.get(self.variable, "")
        hint = f" (for example {self.variable}={example})" if example else ""
        return f"{self.variable}: {self.problem}{hint}"


class SettingsError(Exception):
    """Raised with every problem found, so an operator can fix them all in one go."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    SLACK_BOT_TOKEN: SecretStr | None = None
    SLACK_SIGNING_SECRET: SecretStr | None = None
    SLACK_APP_TOKEN: SecretStr | None = None
    SLACK_API_URL: AnyHttpUrl = AnyHttpUrl(DEFAULT_SLACK_API_URL)
    REDIS_URL: SecretStr | None = None
    REDIS_SENTINELS: str | None = Field(default=None, validate_default=True)
    PROMETHEUS_URL: AnyHttpUrl | None = None
    ALERTMANAGER_URL: AnyHttpUrl | None = None
    ALERT_WEBHOOK_TOKEN: SecretStr | None = None
    ALERT_SOURCE_TOKENS: SecretStr | None = None
    METRICS_TOKEN: SecretStr | None = None
    SLACK_RESPONSE_URL_ORIGINS: str = SLACK_RESPONSE_URL_ORIGIN
    BOT_CONFIG_DIR: Path = Path("config")
    BOT_PLAYBOOK_DIR: Path = Path("playbooks")
    BOT_HTTP_HOST: str = Field(default="0.0.0.0", min_length=1)  # noqa: S104 - in a container
    BOT_HTTP_PORT: int = Field(default=3000, ge=0, le=65535)
    BOT_HTTP_HEADER_TIMEOUT: float = Field(default=10.0, gt=0, le=300)
    BOT_HTTP_BODY_TIMEOUT: float = Field(default=30.0, gt=0, le=600)
    BOT_HTTP_MAX_CONNECTIONS: int = Field(default=512, ge=1, le=100_000)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_FORMAT: Literal["json", "console"] = "json"
    GRAFANA_WEBHOOK_SECRET: SecretStr | None = None
    DATADOG_API_KEY: SecretStr | None = None
    DATADOG_APP_KEY: SecretStr | None = None
    DATADOG_API_URL: AnyHttpUrl = AnyHttpUrl("https://api.datadoghq.com")
    NEWRELIC_API_KEY: SecretStr | None = None
    NEWRELIC_API_URL: AnyHttpUrl = AnyHttpUrl("https://api.newrelic.com/graphql")

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return _require_prefix(value, "xoxb-", "a bot token")

    @field_validator("SLACK_APP_TOKEN")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return _require_prefix(value, "xapp-", "an app-level token")

    @field_validator("ALERT_WEBHOOK_TOKEN", "METRICS_TOKEN")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token_list(value.get_secret_value())
        return value

    @field_validator("ALERT_SOURCE_TOKENS")
    @classmethod
    def _source_tokens_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from bot.alerts.sources import SOURCES

        source_tokens(value.get_secret_value(), list(SOURCES))
        return value

    @field_validator("SLACK_RESPONSE_URL_ORIGINS")
    @classmethod
    def _origins_shape(cls, value: str) -> str:
        for origin in _split(value):
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
                raise ValueError("must be origins like https://hooks.slack.com, comma-separated")
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        url = value.get_secret_value()
        if not url.startswith(("redis://", "rediss://", "unix://", SENTINEL_SCHEME)):
            raise ValueError(f"must start with redis://, rediss://, unix:// or {SENTINEL_SCHEME}")
        if url.startswith(SENTINEL_SCHEME) and not _sentinel_hosts_left_out(url):
            _checked_target(url, None)
        return value

    @field_validator("REDIS_SENTINELS")
    @classmethod
    def _sentinel_list(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value.strip() if value else None
        secret = info.data.get("REDIS_URL")
        url = secret.get_secret_value() if isinstance(secret, SecretStr) else None
        if value or (url and _sentinel_hosts_left_out(url)):
            _checked_target(url, value)
        return value or None

    def redis_target(self) -> RedisTarget | None:
        """Where the shared store is (a URL or Sentinel), or None for the in-memory one."""
        url = self.REDIS_URL.get_secret_value() if self.REDIS_URL is not None else None
        return redis_target(url, self.REDIS_SENTINELS)

    @property
    def slack_api_url(self) -> str:
        url = str(self.SLACK_API_URL)
        return url if url.endswith("/") else url + "/"

    @property
    def alert_tokens(self) -> tuple[str, ...]:
        """The shared alert webhook tokens (one, or two while rotating)."""
        value = self.ALERT_WEBHOOK_TOKEN
        return token_list(value.get_secret_value()) if value is not None else ()

    @property
    def alert_source_tokens(self) -> dict[str, tuple[str, ...]]:
        """Tokens that only one source may use; such a source no longer takes the shared one."""
        from bot.alerts.sources import SOURCES

        value = self.ALERT_SOURCE_TOKENS
        return source_tokens(value.get_secret_value(), list(SOURCES)) if value is not None else {}

    @property
    def metrics_tokens(self) -> tuple[str, ...]:
        value = self.METRICS_TOKEN
        return token_list(value.get_secret_value()) if value is not None else ()

    @property
    def response_url_origins(self) -> tuple[str, ...]:
        return tuple(
            origin.rstrip("/").lower() for origin in _split(self.SLACK_RESPONSE_URL_ORIGINS)
        )

    @property
    def socket_mode(self) -> bool:
        return self.SLACK_APP_TOKEN is not None

    def secret_values(self) -> list[str]:
        """Every secret's value, so the log scrubber can hide them wherever they appear."""
        values = [
            value.get_secret_value()
            for value in vars(self).values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        ]
        listed = [*self.alert_tokens, *self.metrics_tokens]
        listed += [token for tokens in self.alert_source_tokens.values() for token in tokens]
        return values + listed

    def problems_for_serve(self) -> list[SettingProblem]:
        """Settings that `serve` cannot run without."""
        required = {
            "SLACK_BOT_TOKEN": self.SLACK_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": self.SLACK_SIGNING_SECRET,
            # Per-source tokens alone are enough: sources without one are then refused.
            "ALERT_WEBHOOK_TOKEN": self.ALERT_WEBHOOK_TOKEN or self.ALERT_SOURCE_TOKENS,
        }
        return [
            SettingProblem(name, "is required to serve but is not set")
            for name, value in required.items()
            if value is None or not value.get_secret_value()
        ]


def _sentinel_hosts_left_out(url: str) -> bool:
    """``redis+sentinel://:password@/service``: the sentinels come from REDIS_SENTINELS."""
    rest = url.removeprefix(SENTINEL_SCHEME).rpartition("@")[2]
    return url.startswith(SENTINEL_SCHEME) and rest.startswith("/")


def _checked_target(url: str | None, sentinels: str | None) -> None:
    try:
        redis_target(url, sentinels)
    except RedisTargetError as error:
        raise ValueError(str(error)) from None


def _split(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


def _require_prefix(value: SecretStr | None, prefix: str, what: str) -> SecretStr | None:
    if value is None or not value.get_secret_value():
        return None
    if not value.get_secret_value().startswith(prefix):
        raise ValueError(f"must be {what} starting with {prefix!r}")
    return value


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read the environment; raise `SettingsError` listing every problem (values never echoed)."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as error:
        raise SettingsError([_problem_from(detail) for detail in error.errors()]) from None


def _problem_from(detail: object) -> SettingProblem:
    assert isinstance(detail, dict)
    location = detail.get("loc") or ("?",)
    message = problem_message({"msg": "is not valid", **detail})
    return SettingProblem(str(location[0]), _plain(message))


def _plain(message: str) -> str:
    return message if message.startswith(("must", "is ")) else f"is not valid: {message}"


class _NamedVariables(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )


def read_secret_variables(
    names: Iterable[str], env_file: Path | None = Path(".env")
) -> dict[str, SecretStr]:
    """Variables the service catalog names (database DSNs), read like every setting: the
    environment first, then `.env`. Unset or empty ones are left out; values stay secret."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    fields: dict[str, Any] = dict.fromkeys(wanted, (SecretStr | None, None))
    model = create_model("CatalogVariables", __base__=_NamedVariables, **fields)
    values = model(_env_file=env_file)
    found = {name: getattr(values, name) for name in wanted}
    return {name: v for name, v in found.items() if v is not None and v.get_secret_value()}
