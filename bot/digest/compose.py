"""Build a channel's digest: its services' weeks from Prometheus, incidents, charts, outbox items.

    composer = DigestComposer(catalog, prometheus_client, incidents=None)
    digest = await composer.build(period)        # ChannelDigest, for text or inspection
    ops = await composer(period)                 # outbox items, as DigestScheduler wants

Every query of one build goes through a single `caller(cap=...)`, so a digest never has more
than `cap` queries in flight however many services it covers, and the client's global cap
still bounds it together with concurrent triages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from bot.catalog import Catalog, Service
from bot.charts import ChartSpec, render_png_async
from bot.digest.collect import collect_service
from bot.digest.figures import ServiceFigures
from bot.digest.incidents import IncidentHistory, incidents_by_service
from bot.digest.period import DigestPeriod
from bot.grading import Grading
from bot.outbox.ops import Post, Upload
from bot.slack.render.digest import ChannelDigest, digest_ops
from bot.sources.base import MetricsQuerier
from bot.triage.series import downsample

DIGEST_QUERY_CAP = 4
CHART_RENDERS_AT_ONCE = 2
CHART_POINTS = 7 * 24


class DigestUnavailable(Exception):
    """The digest cannot be built now (the metrics backend is down); try again later."""


class QuerierSource(Protocol):
    """Hands out query views with their own concurrency cap (`PrometheusClient` does)."""

    def caller(self, cap: int = ...) -> MetricsQuerier: ...


class DigestComposer:
    def __init__(
        self,
        catalog: Catalog,
        prometheus: QuerierSource,
        *,
        incidents: IncidentHistory | None = None,
        cap: int = DIGEST_QUERY_CAP,
        charts: bool = True,
        grading: Grading | None = None,
    ) -> None:
        self._grading = grading or Grading()
        self._catalog = catalog
        self._prometheus = prometheus
        self._incidents = incidents
        self._cap = cap
        self._charts = charts

    def services_in(self, channel: str) -> list[Service]:
        return [
            service
            for name, service in sorted(self._catalog.services.items())
            if self._catalog.channel_for(name) == channel
        ]

    async def build(self, period: DigestPeriod) -> ChannelDigest:
        services = self.services_in(period.channel)
        querier = self._prometheus.caller(cap=self._cap)
        incidents = await incidents_by_service(
            self._incidents, (s.name for s in services), period.start, period.end
        )
        start, end = period.start.timestamp(), period.end.timestamp()
        figures = await asyncio.gather(
            *(
                collect_service(
                    querier,
                    s,
                    start=start,
                    end=end,
                    incidents=incidents[s.name],
                    grading=self._grading,
                )
                for s in services
            )
        )
        charts = await self._render_charts(figures, services, period) if self._charts else {}
        return ChannelDigest(period, tuple(figures), charts)

    async def __call__(self, period: DigestPeriod) -> Sequence[Post | Upload]:
        """Outbox items for the digest; raises `DigestUnavailable` rather than post a digest
        in which Prometheus could not be asked about any service (a later run retries)."""
        digest = await self.build(period)
        if digest.services and all(f.unreachable for f in digest.services):
            raise DigestUnavailable(f"Prometheus could not be asked for {period.channel}")
        return digest_ops(digest)

    async def _render_charts(
        self, figures: Sequence[ServiceFigures], services: Sequence[Service], period: DigestPeriod
    ) -> dict[str, bytes]:
        gate = asyncio.Semaphore(CHART_RENDERS_AT_ONCE)  # matplotlib holds the GIL while drawing

        async def render(spec: ChartSpec) -> bytes:
            async with gate:
                return await render_png_async(spec)

        specs = {
            f.service: chart_spec(f, s, period)
            for f, s in zip(figures, services, strict=True)
            if f.chart.p99 or f.chart.lag_p99
        }
        pngs = await asyncio.gather(*(render(spec) for spec in specs.values()))
        return dict(zip(specs, pngs, strict=True))


def chart_spec(figures: ServiceFigures, service: Service, period: DigestPeriod) -> ChartSpec:
    series = {}
    if figures.chart.p99:
        series["p99 latency"] = downsample(figures.chart.p99, CHART_POINTS)
    if figures.chart.lag_p99:
        series["event-loop lag p99"] = downsample(figures.chart.lag_p99, CHART_POINTS)
    grading = figures.grading
    thresholds = {f"lag {grading.lag_warn_ms:g} ms": grading.lag_warn_s}
    if service.slo.p99_ms:
        thresholds["p99 target"] = service.slo.p99_ms / 1000
    title = f"{service.name}: week {period.week}, hourly"
    return ChartSpec(title=title, series=series, unit="s", thresholds=thresholds)
