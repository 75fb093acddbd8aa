"""What the triage engine needs from an APM backend, and the shapes every backend shares.

A backend answers two questions about one service over a trailing window: which server
endpoints are slowest, and which outbound dependencies are slowest. Latencies are seconds,
rates are per second, error rates are 0..1, whatever the vendor reports natively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import SecretStr

from bot.models import DownstreamStat, EndpointStat

if TYPE_CHECKING:
    import aiohttp

    from bot.sources.base import MetricsQuerier

DEFAULT_TIMEOUT_SECONDS = 10.0


class ApmUnavailable(Exception):
    """The backend could not answer. str() is one sentence for the user and never holds a secret.

    Example: ``Datadog is rate-limiting queries; retry in 30 s.``
    """


@dataclass(frozen=True)
class ApmTarget:
    """Which service to ask about, in each backend's own identifiers.

    `service` is the name the team uses (Datadog uses it as the `service` tag). Datadog also
    filters on `env` when set; New Relic needs `account_id` and matches `app_name` (falling
    back to `service`). The Prometheus-derived backend reads the series matching `selector`
    (the catalog's label selector), or `{job="<service>"}` without one.

    Example: ``ApmTarget(service="checkout", env="prod")``,
    ``ApmTarget(service="checkout", app_name="Checkout (prod)", account_id=1234567)`` or
    ``ApmTarget(service="checkout", selector={"service": "checkout"})``.
    """

    service: str
    env: str | None = None
    app_name: str | None = None
    account_id: int | None = None
    selector: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ApmBackendOptions:
    """Everything a backend factory may need; each factory uses the fields that concern it.

    The caller owns `session` and closes it. Credentials stay `SecretStr` until the moment they
    go into a request header. `metrics` is the PromQL endpoint the Prometheus-derived backend
    reads; `metric_names`, when known (from convention detection), lets it skip the metric
    families the service does not export.
    """

    session: aiohttp.ClientSession
    api_key: SecretStr | None = None
    application_key: SecretStr | None = None
    base_url: str | None = None
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    metrics: MetricsQuerier | None = None
    metric_names: frozenset[str] | None = None


class ApmBackend(Protocol):
    """An APM vendor (or a derivation of one) queried for a single service.

    Implementations bound every call by their own timeout and raise `ApmUnavailable` for any
    failure: bad credentials, rate limits, server errors, timeouts, unreadable answers.
    Results come back slowest first (by p99) and hold at most `limit` entries.
    """

    @property
    def name(self) -> str: ...

    async def slowest_endpoints(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[EndpointStat]: ...

    async def slowest_downstreams(
        self, service: ApmTarget, window_seconds: int, limit: int = 5
    ) -> list[DownstreamStat]: ...


class _Ranked(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def p99(self) -> float | None: ...

    @property
    def rate(self) -> float: ...


RankedT = TypeVar("RankedT", bound=_Ranked)


def slowest_first(stats: Iterable[RankedT], limit: int) -> list[RankedT]:
    """Order by p99 descending (unknown p99 last), then busiest, then name; keep `limit`."""
    ordered = sorted(
        stats,
        key=lambda stat: (stat.p99 is None, -(stat.p99 or 0.0), -stat.rate, stat.name),
    )
    return ordered[:limit]


def check_query_arguments(window_seconds: int, limit: int) -> None:
    """Reject arguments no backend can honour; these are programming errors, not outages."""
    if window_seconds <= 0:
        raise ValueError(f"window_seconds must be positive, got {window_seconds}")
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
