"""Which process to profile: the instance worst on the signal behind the diagnosis, and the
host part of its `instance` label (an untrusted label value, so it is checked strictly)."""

from __future__ import annotations

import ipaddress
import re

from bot.catalog import Service
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import detect_convention
from bot.sources.nodejs_conventions import CONVENTIONS
from bot.sources.promql import Expr, Selector, duration, matchers_from, rate, sum_by, topk
from bot.sources.recipes import InstanceGauge, InstanceRate
from bot.sources.signals import Signal

INSTANCE_LABEL = "instance"
HOSTNAME = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\Z"
)


class NoInstance(Exception):
    """No instance could be chosen; the message says why."""


def host_of(instance: str) -> str:
    """`10.0.0.5:9464` -> `10.0.0.5`, `[::1]:9464` -> `::1`, `web-1.local` -> itself."""
    if instance.startswith("["):
        host = instance[1 : instance.find("]")] if "]" in instance else ""
    elif instance.count(":") == 1:
        host = instance.split(":", 1)[0]
    else:
        host = instance
    if _is_ip(host) or HOSTNAME.match(host):
        return host
    raise NoInstance(f"the instance label {instance[:80]!r} holds no host name or address")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def per_instance_expr(
    names: frozenset[str], service: Service, signal: Signal, window: str
) -> Expr | None:
    """`signal` per instance for the service's naming convention; None when it has no such
    per-instance recipe (an operator override, or the metric is missing)."""
    if signal in service.metrics:
        return None
    convention = detect_convention(names)
    matchers = matchers_from(service.selector)
    for candidate in sorted(CONVENTIONS, key=lambda c: c.name != convention):
        for recipe in candidate.recipes.get(signal, ()):
            if not recipe.required <= names:
                continue
            if isinstance(recipe, InstanceGauge):
                return sum_by(Selector(recipe.metric, matchers), (INSTANCE_LABEL,))
            if isinstance(recipe, InstanceRate):
                return sum_by(
                    rate(Selector(recipe.metric, matchers), duration(window)), (INSTANCE_LABEL,)
                )
    return None


async def worst_instance(
    querier: MetricsQuerier, names: frozenset[str], service: Service, signal: Signal, at: float
) -> str:
    """The `instance` label of the worst instance on `signal` (over a 1 minute rate window);
    any instance that is up when the signal has no per-instance series yet."""
    up = sum_by(Selector("up", matchers_from(service.selector)), (INSTANCE_LABEL,))
    ranked = per_instance_expr(names, service, signal, "1m")
    for expr in (ranked, up) if ranked is not None else (up,):
        found = await _top_instance(querier, topk(1, expr).text, at)
        if found:
            return found
    raise NoInstance(f"no series of {service.name} carries an instance label")


async def _top_instance(querier: MetricsQuerier, query: str, at: float) -> str | None:
    try:
        samples = await querier.query(query, at=at)
    except MetricsUnavailable as error:
        raise NoInstance(f"could not ask Prometheus which instance is worst: {error}") from None
    return next((s.labels[INSTANCE_LABEL] for s in samples if s.labels.get(INSTANCE_LABEL)), None)
