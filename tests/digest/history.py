"""Two weeks of synthetic Node.js metrics as OpenMetrics text, and a Prometheus that serves them.

`write_history` writes the samples; `backfilled_prometheus` turns them into TSDB blocks with
`promtool tsdb create-blocks-from openmetrics` before Prometheus starts on that data directory
(on a free 127.0.0.1 port, retention long enough to keep the backfill) and removes it after.

Traffic follows a daily cycle around its mean; latencies per route follow an exponential shape
whose scale is `latency_scale` times larger this week than the week before.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lab.packages import PROMETHEUS_BINARY
from tests.promstack import free_port, scrape_config

PROMTOOL = Path("/usr/bin/promtool")
STEP = 600  # seconds between samples
DAY = 86_400
WEEK = 7 * DAY
SPAN = 2 * WEEK + 2 * 3600
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, math.inf)
MIB = 1024 * 1024


@dataclass(frozen=True)
class ServiceHistory:
    job: str
    rps: float = 50.0
    error_share: float = 0.0005
    routes: dict[str, tuple[float, float]] = field(  # route -> (share of traffic, typical s)
        default_factory=lambda: {"/orders/:id": (0.6, 0.02), "/cart": (0.3, 0.05)}
    )
    latency_scale: float = 1.0  # this week's latency relative to last week's
    downstreams: dict[str, float] = field(default_factory=dict)  # address -> typical s
    lag_p99: float | None = 0.004  # None: the service exports no event-loop metrics
    lag_spike: float | None = None  # one hour this week with this max lag
    heap_growth: float = 0.0  # over the last week
    rss_growth: float = 0.0
    pool: tuple[int, int] | None = None  # (size, peak used); None: no pool metrics
    pending_hours: int = 0  # hours this week with requests waiting for a connection


def _cycle(t: float) -> float:
    return 1.0 + 0.5 * math.sin(2 * math.pi * t / DAY)


def _cumulative(typical: float, bound: float) -> float:
    return 1.0 if math.isinf(bound) else 1.0 - math.exp(-bound / typical)


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(bound)


class _Writer:
    def __init__(self, out: TextIO, end: int) -> None:
        self.out = out
        self.stamps = list(range(end - SPAN, end + 1, STEP))
        self.end = end

    def series(self, name: str, labels: dict[str, str], values: list[float]) -> None:
        inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
        head = f"{name}{{{inner}}} "
        self.out.writelines(f"{head}{v!r} {t}\n" for t, v in zip(self.stamps, values, strict=True))

    def this_week(self, t: int) -> bool:
        return t > self.end - WEEK

    def counts(self, rate: float) -> list[float]:
        """A counter growing at `rate` per second times the daily cycle."""
        total, out = 0.0, []
        for t in self.stamps:
            total += rate * _cycle(t) * STEP
            out.append(total)
        return out

    def histogram(
        self, name: str, labels: dict[str, str], rate: float, typical: float, scale: float
    ) -> None:
        counts = self.counts(rate)
        increments = [counts[0], *(b - a for a, b in itertools.pairwise(counts))]
        shapes = [typical * (scale if self.this_week(t) else 1.0) for t in self.stamps]
        for bound in BUCKETS:
            # each step's new requests take that step's latency shape: buckets never decrease
            steps = (
                n * _cumulative(shape, bound) for n, shape in zip(increments, shapes, strict=True)
            )
            self.series(
                f"{name}_bucket", {**labels, "le": _le(bound)}, list(itertools.accumulate(steps))
            )
        self.series(f"{name}_count", labels, counts)
        self.series(f"{name}_sum", labels, [c * typical for c in counts])


def write_service(w: _Writer, s: ServiceHistory) -> None:
    for route, (share, typical) in s.routes.items():
        for status, part in (("200", 1 - s.error_share), ("500", s.error_share)):
            labels = {"job": s.job, "route": route, "status_code": status}
            w.histogram(
                "http_request_duration_seconds", labels, s.rps * share * part, typical,
                s.latency_scale,
            )  # fmt: skip
    for address, typical in s.downstreams.items():
        labels = {"job": s.job, "server_address": address, "status_code": "200"}
        w.histogram("http_client_request_duration_seconds", labels, s.rps, typical, 1.0)
    _runtime(w, s)
    _pool(w, s)


def _ramp(w: _Writer, start: float, growth: float) -> list[float]:
    """Flat last week, then a straight climb by `growth` over this week."""
    begin = w.end - WEEK
    return [start * (1 + growth * max(0.0, (t - begin) / WEEK)) for t in w.stamps]


def _runtime(w: _Writer, s: ServiceHistory) -> None:
    instance = {"job": s.job, "instance": f"{s.job}:9000"}
    w.series("nodejs_heap_size_used_bytes", instance, _ramp(w, 80 * MIB, s.heap_growth))
    w.series("process_resident_memory_bytes", instance, _ramp(w, 200 * MIB, s.rss_growth))
    gc_seconds = [0.02 * (t - w.stamps[0]) for t in w.stamps]  # 2% of wall time
    w.series("nodejs_gc_duration_seconds_sum", instance, gc_seconds)
    if s.lag_p99 is None:
        return
    spike_at = w.end - 2 * DAY
    spike = [
        s.lag_spike if s.lag_spike and abs(t - spike_at) < 1800 else s.lag_p99 * 3 for t in w.stamps
    ]
    w.series("nodejs_eventloop_lag_p99_seconds", instance, [s.lag_p99] * len(w.stamps))
    w.series("nodejs_eventloop_lag_max_seconds", instance, spike)


def _pool(w: _Writer, s: ServiceHistory) -> None:
    if s.pool is None:
        return
    size, peak = s.pool
    instance = {"job": s.job, "instance": f"{s.job}:9000"}
    used = [round(peak * (0.5 + 0.5 * math.sin(2 * math.pi * t / DAY))) for t in w.stamps]
    waiting_from = w.end - s.pending_hours * 3600
    pending = [3.0 if t > waiting_from and s.pending_hours else 0.0 for t in w.stamps]
    w.series("db_client_connection_count", {**instance, "state": "used"}, [float(u) for u in used])
    w.series("db_client_connection_max", instance, [float(size)] * len(w.stamps))
    w.series("db_client_connection_pending_requests", instance, pending)


def write_history(path: Path, services: list[ServiceHistory], end: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        writer = _Writer(out, end)
        for service in services:
            write_service(writer, service)
        out.write("# EOF\n")


@contextlib.contextmanager
def backfilled_prometheus(services: list[ServiceHistory], end: int) -> Iterator[str]:
    """A Prometheus serving the services' two weeks up to `end`; yields its base URL."""
    data_dir = Path(tempfile.mkdtemp(prefix="digest-prom-"))
    try:
        source = data_dir / "history.om"
        write_history(source, services, end)
        tsdb = data_dir / "tsdb"
        subprocess.run(
            [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
             "--max-block-duration=96h", str(source), str(tsdb)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        source.unlink()
        with _prometheus(data_dir, tsdb) as url:
            yield url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def _prometheus(data_dir: Path, tsdb: Path) -> Iterator[str]:
    config = data_dir / "prometheus.yml"
    config.write_text(scrape_config({}), encoding="utf-8")
    port = free_port()
    log = (data_dir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [str(PROMETHEUS_BINARY), f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
         "--storage.tsdb.retention.time=60d", f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Prometheus at {url} did not become ready")
