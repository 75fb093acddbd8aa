"""Instant readings of a service's signals, for `/health` and `/slo`.

The expressions come from the same convention detection the triage uses, so a command reads
exactly what a triage would; the window reaches PromQL only as a number of seconds.

    readings = await read_signals(prometheus, service, [Signal.REQUEST_RATE], seconds=300)
    readings.value(Signal.REQUEST_RATE)      # float, or None when the service lacks it
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.catalog import Service
from bot.sources.base import MetricsQuerier, MetricsUnavailable
from bot.sources.conventions import ConventionDetector
from bot.sources.prometheus import PrometheusClient
from bot.sources.signals import Signal

READ_CAP = 4
READ_TIMEOUT_SECONDS = 8.0


@dataclass(frozen=True)
class Readings:
    """Each signal's worst current value; `problems` holds why a signal could not be read."""

    values: Mapping[Signal, float | None]
    problems: Mapping[Signal, str] = field(default_factory=dict)

    def value(self, signal: Signal) -> float | None:
        return self.values.get(signal)

    @property
    def empty(self) -> bool:
        return all(value is None for value in self.values.values())


async def read_signals(
    prometheus: PrometheusClient,
    service: Service,
    signals: Sequence[Signal],
    *,
    seconds: float,
) -> Readings:
    """Read `signals` over the last `seconds`; raises MetricsUnavailable when Prometheus
    cannot be asked at all (down, or slower than READ_TIMEOUT_SECONDS)."""
    querier = prometheus.caller(cap=READ_CAP)
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            return await _read(querier, service, signals, seconds)
    except TimeoutError:
        raise MetricsUnavailable(
            f"Prometheus at {prometheus.address} did not answer within {READ_TIMEOUT_SECONDS:g}s"
        ) from None


async def _read(
    querier: MetricsQuerier, service: Service, signals: Sequence[Signal], seconds: float
) -> Readings:
    detected = await ConventionDetector(querier).signals_for(
        service.selector, service.metrics, window=float(seconds)
    )
    exprs = {signal: detected.expr(signal) for signal in signals}
    answers = await asyncio.gather(
        *(_worst(querier, expr) for expr in exprs.values()), return_exceptions=True
    )
    values: dict[Signal, float | None] = {}
    problems: dict[Signal, str] = {}
    for signal, answer in zip(exprs, answers, strict=True):
        if isinstance(answer, MetricsUnavailable):
            problems[signal] = str(answer)
            values[signal] = None
        elif isinstance(answer, BaseException):
            raise answer
        else:
            values[signal] = answer
    return Readings(values, problems)


async def _worst(querier: MetricsQuerier, expr: str | None) -> float | None:
    """The largest finite value the expression returns now (None without an expression)."""
    if expr is None:
        return None
    samples = await querier.query(expr)
    finite = [sample.value for sample in samples if math.isfinite(sample.value)]
    return max(finite) if finite else None
