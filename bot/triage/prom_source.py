"""`SignalSource` over Prometheus: one batched range query per fetch.

Each expression is tagged with `label_replace(expr, "__signal__", "<key>", "", "")` and the
tagged expressions are joined with `or`, so a fetch of eight signals is one HTTP request; the
answer is split back by that label. If Prometheus rejects the batch (a bad operator-written
expression, say), the expressions are retried one by one so only the bad one fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence

from bot.sources.base import MetricsQuerier, MetricsUnavailable, QueryRejected, RangeSeries
from bot.sources.promql import Matcher, PromQLError, render_template, tagged_union
from bot.sources.signals import Signal
from bot.triage.source import Failure, Fetched
from bot.triage.window import Window

TAG = "__signal__"
ExpressionsFor = Callable[[str], Mapping[Signal, str | None]]
# Node.js runtimes reset their lag histograms at every scrape, so one sample per query step
# would miss most stalls: these gauges are read as the peak over each step instead.
PEAK_SIGNALS = frozenset({Signal.EVENTLOOP_LAG_P99, Signal.EVENTLOOP_LAG_MAX})


class PrometheusSignalSource:
    """Reads signals through `querier` (give it `client.caller(cap=4)` for the per-triage cap).

    `expressions` gives each signal's PromQL for this service and a rate window such as `2m`
    (None: not exported), as the metric-convention detection built it; a plain mapping works
    too. Expressions and custom templates may use `$selector` and `$window`.
    """

    def __init__(
        self,
        querier: MetricsQuerier,
        expressions: ExpressionsFor | Mapping[Signal, str | None],
        matchers: Sequence[Matcher],
    ) -> None:
        self._querier = querier
        self._expressions = expressions
        self._matchers = tuple(matchers)
        self.queries_sent = 0

    @property
    def selector(self) -> str:
        return "{" + ",".join(str(m) for m in self._matchers) + "}"

    async def fetch(
        self,
        signals: Collection[Signal],
        window: Window,
        custom: Mapping[str, str] | None = None,
    ) -> Fetched:
        result = Fetched()
        wanted: dict[str, str] = {}
        table = self._table(window)
        templates = [(s.value, _peak(s, table.get(s), window)) for s in signals]
        for key, template in [*templates, *(custom or {}).items()]:
            if template is None:
                result.missing[key] = "no metric for it in this service's convention"
                continue
            try:
                wanted[key] = self._render(template, window)
            except PromQLError as error:
                result.failures[key] = Failure(str(error))
        result.queries.update(wanted)
        if wanted:
            await self._query_batch(wanted, window, result)
        return result

    def _table(self, window: Window) -> Mapping[Signal, str | None]:
        if callable(self._expressions):
            return self._expressions(window.rate_window)
        return self._expressions

    def _render(self, template: str, window: Window) -> str:
        if "$" not in template:
            return template
        return render_template(template, self._matchers, window.rate_window).text

    async def _query_batch(self, wanted: dict[str, str], window: Window, into: Fetched) -> None:
        try:
            found = await self._range(batched(wanted), window)
        except QueryRejected as error:
            if len(wanted) == 1:
                into.failures.update(dict.fromkeys(wanted, Failure(str(error))))
                return
            await asyncio.gather(*(self._query_one(k, e, window, into) for k, e in wanted.items()))
            return
        except MetricsUnavailable as error:
            into.failures.update(dict.fromkeys(wanted, Failure(str(error), unreachable=True)))
            return
        for key, series in split(found, wanted).items():
            into.series[key] = series

    async def _query_one(self, key: str, expr: str, window: Window, into: Fetched) -> None:
        try:
            into.series[key] = strip(await self._range(expr, window))
        except MetricsUnavailable as error:
            # A rejected query is that query's fault; anything else means the backend is down.
            rejected = isinstance(error, QueryRejected)
            into.failures[key] = Failure(str(error), unreachable=not rejected)

    async def _range(self, expr: str, window: Window) -> list[RangeSeries]:
        self.queries_sent += 1
        return await self._querier.query_range(
            expr, start=window.start, end=window.end, step=window.step
        )


def batched(expressions: Mapping[str, str]) -> str:
    """One `or`-joined query whose series carry their key in the `__signal__` label."""
    if len(expressions) == 1:
        return next(iter(expressions.values()))
    return tagged_union(expressions, TAG).text


def split(found: list[RangeSeries], wanted: Mapping[str, str]) -> dict[str, list[RangeSeries]]:
    """Series of a batched answer, back under their keys (every key present, maybe empty)."""
    if len(wanted) == 1:
        return {next(iter(wanted)): strip(found)}
    result: dict[str, list[RangeSeries]] = {key: [] for key in wanted}
    for one in found:
        key = one.labels.get(TAG)
        if key in result:
            result[key].extend(strip([one]))
    return result


def strip(found: list[RangeSeries]) -> list[RangeSeries]:
    return [
        RangeSeries({k: v for k, v in one.labels.items() if k not in {TAG, "__name__"}}, one.points)
        for one in found
    ]


def _peak(signal: Signal, expr: str | None, window: Window) -> str | None:
    if expr is None or signal not in PEAK_SIGNALS:
        return expr
    resolution = max(1, int(window.step) // 15)
    return f"max_over_time(({expr})[{int(window.step)}s:{resolution}s])"
