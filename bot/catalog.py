"""The service catalog (config/services.yaml): which services exist and how to find their data.

The smallest entry is `services: {checkout: {selector: {job: checkout}}}`. `metrics` overrides
map a `Signal` name to a metric name or a PromQL template in which `$selector` becomes the
service's matchers (without braces) and `$window` the rate window; config/services.yaml shows
every field. All problems are reported at once, each naming the file, the service and the field.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.profiling.config import AgentConfig
from bot.sources.postgres.config import DatabaseConfig
from bot.sources.promql import METRIC_NAME, label_name, template_problems
from bot.sources.signals import Signal
from bot.validation import dotted_path, problem_message

SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}\Z")
_SLACK_IDS = {
    "channel": (re.compile(r"[CG][A-Z0-9]{6,}\Z"), "C0123ABCD"),
    "user group": (re.compile(r"S[A-Z0-9]{6,}\Z"), "S0123ABCD"),
    "user": (re.compile(r"[UW][A-Z0-9]{6,}\Z"), "U0123ABCD"),
}


class CatalogError(Exception):
    """The catalog could not be loaded; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _slack_id(kind: str) -> AfterValidator:
    pattern, example = _SLACK_IDS[kind]

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"must be a Slack {kind} id like {example}, got {value!r}")
        return value

    return AfterValidator(check)


def _service_name(name: str) -> str:
    if not SERVICE_NAME.match(name):
        raise ValueError(
            f"service name {name!r} must be 1-63 lowercase letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def _metric_override(value: str) -> str:
    if METRIC_NAME.match(value):
        return value
    problem = template_problems(value)
    if problem:
        raise ValueError(problem)
    return value


def _cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) == 5 and re.search(r"\d", fields[4]):
        raise ValueError(
            f"use day names (MON-FRI, SUN) in the day-of-week field, got {fields[4]!r}: "
            "cron dialects disagree on what weekday numbers mean"
        )
    CronTrigger.from_crontab(expr)  # raises ValueError naming the bad field
    return expr


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone like Europe/Paris, got {name!r}") from None
    return name


ChannelId = Annotated[str, _slack_id("channel")]
UserGroupId = Annotated[str, _slack_id("user group")]
UserId = Annotated[str, _slack_id("user")]
ServiceName = Annotated[str, AfterValidator(_service_name)]
Positive = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PrometheusApm(_Strict):
    backend: Literal["prometheus"] = "prometheus"


class DatadogApm(_Strict):
    backend: Literal["datadog"]
    service: str | None = Field(default=None, min_length=1)  # defaults to the catalog name
    env: str | None = Field(default=None, min_length=1)


class NewRelicApm(_Strict):
    backend: Literal["newrelic"]
    app_name: str | None = Field(default=None, min_length=1)  # defaults to the catalog name
    account_id: PositiveInt


ApmConfig = Annotated[PrometheusApm | DatadogApm | NewRelicApm, Field(discriminator="backend")]


class Slo(_Strict):
    """Targets a service is held to; latencies in milliseconds."""

    p50_ms: Positive | None = None
    p95_ms: Positive | None = None
    p99_ms: Positive | None = None
    availability_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    peak_rps: Positive | None = None
    max_inflight: PositiveInt | None = None
    pool_size: PositiveInt | None = None
    cost_ceiling_per_million: Positive | None = None


class Service(_Strict):
    name: str = ""  # filled in from the catalog key
    selector: dict[str, str] = Field(min_length=1)
    apm: ApmConfig = PrometheusApm()
    channel: ChannelId | None = None
    owners: UserGroupId | None = None
    slo: Slo = Slo()
    metrics: dict[Signal, Annotated[str, AfterValidator(_metric_override)]] = Field(
        default_factory=dict
    )
    database: DatabaseConfig | None = None
    agent: AgentConfig | None = None

    @field_validator("selector")
    @classmethod
    def _label_names(cls, selector: dict[str, str]) -> dict[str, str]:
        for name in selector:
            label_name(name)
        return selector

    @field_validator("metrics", mode="before")
    @classmethod
    def _signal_names(cls, metrics: Any) -> Any:
        if isinstance(metrics, dict):
            known = [signal.value for signal in Signal]
            for key in metrics:
                if key not in known:
                    hint = difflib.get_close_matches(str(key), known, n=1)
                    also = f"; did you mean {hint[0]}?" if hint else f" ({', '.join(known)})"
                    raise ValueError(f"{key!r} is not a signal name{also}")
        return metrics


class Digest(_Strict):
    cron: Annotated[str, AfterValidator(_cron)] = "0 9 * * MON"
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"


class Defaults(_Strict):
    channel: ChannelId | None = None
    admins: tuple[UserId, ...] = ()
    digest: Digest = Digest()


class ChannelSettings(_Strict):
    """Per-channel settings (a digest schedule of its own, for now)."""

    digest: Digest | None = None


Who = Literal["owners", "admins", "everyone"]


class CommandPermissions(_Strict):
    """Who may run each command or press each button: `owners` (the service's owners' user
    group, plus the admins), `admins` (defaults.admins only) or `everyone`."""

    ack: Who = "owners"
    resolve: Who = "owners"
    silence: Who = "owners"
    rerun: Who = "everyone"
    triage: Who = "everyone"
    health: Who = "everyone"
    slo: Who = "everyone"
    incident_list: Who = "everyone"
    incident_show: Who = "everyone"
    incident_note: Who = "everyone"
    digest_preview: Who = "everyone"

    def required(self, action: str) -> Who:
        """The rule for `action`; an action this catalog does not know is the owners'."""
        rule: Who = getattr(self, action) if action in type(self).model_fields else "owners"
        return rule


class Catalog(_Strict):
    services: dict[ServiceName, Service] = Field(default_factory=dict)
    defaults: Defaults = Defaults()
    channels: dict[ChannelId, ChannelSettings] = Field(default_factory=dict)
    permissions: CommandPermissions = CommandPermissions()

    @model_validator(mode="before")
    @classmethod
    def _name_services(cls, data: Any) -> Any:
        services = data.get("services") if isinstance(data, dict) else None
        if isinstance(services, dict):
            named = {key: _named(key, raw) for key, raw in services.items()}
            data = {**data, "services": named}
        return data

    @model_validator(mode="after")
    def _names_match_keys(self) -> Catalog:
        for key, service in self.services.items():
            if service.name != key:
                raise ValueError(f"services.{key}.name: is taken from the key; remove it")
        return self

    def get(self, name: str) -> Service | None:
        return self.services.get(name)

    def closest(self, name: str, n: int = 3) -> list[str]:
        """Service names that look like `name`, best first, for "did you mean ..."."""
        return difflib.get_close_matches(name, list(self.services), n=n, cutoff=0.5)

    def channel_for(self, name: str) -> str | None:
        service = self.services.get(name)
        return (service.channel if service else None) or self.defaults.channel

    def database_variables(self) -> list[str]:
        """The environment variables the services' `database.dsn_env` name, each once."""
        names = [s.database.dsn_env for s in self.services.values() if s.database is not None]
        return sorted(set(names))

    def agent_variables(self) -> list[str]:
        """The environment variables the services' `agent.token_env` name, each once."""
        return sorted({s.agent.token_env for s in self.services.values() if s.agent is not None})

    def digest_for(self, channel: str) -> Digest:
        settings = self.channels.get(channel)
        return settings.digest if settings and settings.digest else self.defaults.digest


def _named(key: Any, raw: Any) -> Any:
    """The service mapping with its name, and APM names defaulting to it."""
    if not isinstance(raw, dict):
        return raw
    named = {"name": key, **raw}
    apm = raw.get("apm")
    if isinstance(apm, dict):
        default_field = {"datadog": "service", "newrelic": "app_name"}.get(str(apm.get("backend")))
        if default_field:
            named["apm"] = {default_field: key, **apm}
    return named


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate the catalog; raise `CatalogError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError([f"{path}: cannot be read ({error.strerror})"]) from None
    return parse_catalog(text, source=str(path))


async def load_catalog_async(path: Path | str) -> Catalog:
    return await asyncio.to_thread(load_catalog, path)


def parse_catalog(text: str, source: str = "services.yaml") -> Catalog:
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise CatalogError([f"{source}: {_yaml_problem(error)}"]) from None
    if not isinstance(document, dict):
        raise CatalogError([f"{source}: must be a mapping with a 'services:' key"])
    try:
        return Catalog.model_validate(document)
    except ValidationError as error:
        raise CatalogError([f"{source}: {line}" for line in describe(error)]) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """Refuses a key given twice in one mapping instead of silently keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(None, None, f"{key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    return f"{where}{problem}" + ("" if isinstance(error, _DuplicateKey) else " (not valid YAML)")


def describe(error: ValidationError) -> list[str]:
    """One `path.to.field: what is wrong` line per validation problem."""
    return [_line(detail) for detail in error.errors(include_url=False)]


_TAGS = frozenset({"prometheus", "datadog", "newrelic", "[key]"})
_FIELDS = sorted(
    {
        name
        for model in (
            Catalog,
            Service,
            Slo,
            Defaults,
            Digest,
            DatadogApm,
            NewRelicApm,
            CommandPermissions,
            DatabaseConfig,
        )
        for name in model.model_fields
    }
)


_MESSAGES = {
    "missing": "is required",
    "greater_than": "must be greater than {gt:g}, got {input!r}",
    "greater_than_zero": "must be a positive number, got {input!r}",
    "less_than_equal": "must be at most {le:g}, got {input!r}",
    "int_type": "must be a whole number, got {input!r}",
    "int_parsing": "must be a whole number, got {input!r}",
    "int_from_float": "must be a whole number, got {input!r}",
    "float_type": "must be a number, got {input!r}",
    "float_parsing": "must be a number, got {input!r}",
    "string_type": "must be text, got {input!r}",
    "dict_type": "must be a mapping of settings, got {input!r}",
    "model_type": "must be a mapping of settings, got {input!r}",
    "union_tag_invalid": "backend must be one of prometheus, datadog, newrelic, got {tag!r}",
    "union_tag_not_found": "needs a backend: prometheus, datadog or newrelic",
    "too_short": "must not be empty",
    "literal_error": "must be one of {expected}, got {input!r}",
}


def _line(detail: Any) -> str:
    loc = [str(part) for part in detail["loc"]]
    path = dotted_path(loc, _TAGS)
    message = _message(detail, loc[-1] if loc else "")
    return f"{path}: {message}" if path else message


def _message(detail: Any, field: str) -> str:
    kind, ctx = detail["type"], dict(detail.get("ctx") or {})
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(field, _FIELDS, n=1)
        return "is not a known setting" + (f"; did you mean {hint[0]}?" if hint else "")
    if kind == "greater_than" and ctx.get("gt") == 0:
        kind = "greater_than_zero"
    return problem_message(detail, _MESSAGES, kind=kind)
