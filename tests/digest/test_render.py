"""Rendering within Slack's limits, thread layout, keys, and incident figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from bot.digest.figures import (
    Availability,
    Chart,
    EventLoop,
    Growth,
    Incidents,
    Latency,
    LatencyQuantile,
    Memory,
    Missing,
    Pool,
    Ranked,
    ServiceFigures,
    Throughput,
)
from bot.digest.incidents import NO_HISTORY, incident_figures, incidents_by_service
from bot.digest.lines import flags, level_of
from bot.digest.period import DigestPeriod
from bot.incidents.model import Incident, SlackThread
from bot.outbox.ops import Post, Upload
from bot.slack.render.blocks import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.slack.render.digest import ChannelDigest, channel_blocks, digest_ops, service_blocks

PERIOD = DigestPeriod("C0TEAM0001", "2026-W23", datetime(2026, 6, 1, 9, tzinfo=UTC))
MIB = 1024 * 1024


def busy_service(name: str) -> ServiceFigures:
    """A service with every section filled in and long names wherever names appear."""
    long = "/api/v2/" + "very-long-segment/" * 8
    return ServiceFigures(
        service=name,
        throughput=Throughput(120.0, 480.0, 400.0),
        availability=Availability(0.004, 99.9),
        latency=Latency(
            (
                LatencyQuantile("p50", 0.04, 0.03, 0.05),
                LatencyQuantile("p95", 0.3, 0.2, 0.2),
                LatencyQuantile("p99", 1.9, 0.8, 0.8),
            )
        ),
        event_loop=EventLoop(0.004, 0.2, 0.9, 7),
        gc_ratio=0.12,
        memory=Memory(
            Growth(80 * MIB, 140 * MIB, 0.75, True), Growth(200 * MIB, 260 * MIB, 0.3, True)
        ),
        pool=Pool(20, 20, 9, 14),
        endpoints=Ranked(tuple((f"{long}{i}", 2.0 - i / 10) for i in range(3))),
        downstreams=Ranked(tuple((f"dependency-{i}.internal.example:8443", 0.9) for i in range(3))),
        incidents=Incidents(4, 240.0, 5400.0, (("slow_downstream", 2), ("heap_leak", 1))),
        chart=Chart(p99=[(0.0, 1.0)]),
    )


def empty_service(name: str) -> ServiceFigures:
    gap = Missing("throughput", 'Prometheus holds no series under {job="x"}')
    return ServiceFigures(name, gap, gap, gap, gap, gap, gap, gap, gap, gap, NO_HISTORY)


def within_limits(blocks: Sequence[Block] | list[dict[str, object]]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        payload = block if isinstance(block, dict) else block.to_dict()
        text = payload.get("text")
        if isinstance(text, dict):
            assert len(str(text["text"])) <= MAX_SECTION_TEXT
        for element in payload.get("elements", []) or []:  # type: ignore[union-attr]
            assert len(str(element["text"])) <= MAX_SECTION_TEXT


def test_fifty_services_fit_slack_limits_with_a_reply_each() -> None:
    digest = ChannelDigest(
        PERIOD,
        tuple(busy_service(f"service-with-a-rather-long-name-{i:02d}") for i in range(50)),
        charts={f"service-with-a-rather-long-name-{i:02d}": b"png" for i in range(50)},
    )
    ops = digest_ops(digest)
    top, *rest = ops
    assert isinstance(top, Post)
    assert top.thread is None
    within_limits(top.blocks)
    summary = "\n".join(str(b["text"]["text"]) for b in top.blocks if "text" in b)
    assert all(f"long-name-{i:02d}*" in summary for i in range(50))  # every service listed
    replies = [op for op in rest if isinstance(op, Post)]
    files = [op for op in rest if isinstance(op, Upload)]
    assert len(replies) == len(files) == 50
    assert all(op.thread == PERIOD.key for op in rest)
    for reply in replies:
        within_limits(reply.blocks)
    keys = [op.op_id for op in ops]
    assert len(set(keys)) == len(keys)


def test_three_services_stay_in_one_message() -> None:
    digest = ChannelDigest(PERIOD, tuple(busy_service(f"s{i}") for i in range(3)))
    ops = digest_ops(digest)
    assert len(ops) == 1  # no replies; no charts were rendered
    blocks = channel_blocks(digest)
    within_limits(blocks)
    texts = "\n".join(str(b.to_dict()["text"]["text"]) for b in blocks if "text" in b.to_dict())
    assert "*Latency*" in texts
    assert "*Incidents* 4 opened" in texts


def test_a_huge_service_is_split_into_sections_within_the_limit() -> None:
    long_error = "Prometheus rejected the query: " + "parse error near token " * 40
    gaps = {
        topic: Missing(topic, long_error)
        for topic in ("throughput", "availability", "latency", "event_loop", "pool")
    }
    figures = ServiceFigures(**{**vars(busy_service("x")), **gaps})
    blocks = service_blocks(figures)
    assert len(blocks) >= 2
    within_limits(blocks)


def test_flags_and_levels() -> None:
    busy = busy_service("busy")
    found = {text: level for level, text in flags(busy)}
    assert found["p99 1.90 s over its 800 ms target"] == "crit"
    assert found["error budget overspent (4.0× burn)"] == "crit"
    assert found["loop lag up to 900 ms"] == "crit"
    assert found["heap leak suspected"] == "warn"
    assert level_of(busy) == "crit"
    assert level_of(empty_service("quiet")) == "none"


def incident(service: str, opened: datetime, ack_min: float | None, fix_min: float | None,
             cause: str | None) -> Incident:  # fmt: skip
    return Incident(
        id=f"inc-{opened.timestamp():.0f}-{service}",
        group_key=service,
        service=service,
        alertname="HighLatency",
        opened_at=opened,
        updated_at=opened,
        acknowledged_at=opened + timedelta(minutes=ack_min) if ack_min is not None else None,
        resolved_at=opened + timedelta(minutes=fix_min) if fix_min is not None else None,
        diagnosis=cause,
        slack=SlackThread(channel="C0TEAM0001"),
    )


def test_incident_figures_medians_and_top_causes() -> None:
    t = datetime(2026, 5, 28, tzinfo=UTC)
    figures = incident_figures(
        [
            incident("a", t, 2, 30, "slow_downstream"),
            incident("a", t, 4, 90, "slow_downstream"),
            incident("a", t, 10, None, "heap_leak"),
            incident("a", t, None, None, None),
        ]
    )
    assert figures.count == 4
    assert figures.median_ack_s == pytest.approx(4 * 60)
    assert figures.median_resolve_s == pytest.approx(60 * 60)
    assert figures.top_causes[0] == ("slow_downstream", 2)
    assert {cause for cause, _ in figures.top_causes} == {
        "slow_downstream",
        "heap_leak",
        "undiagnosed",
    }


class ListHistory:
    def __init__(self, incidents: list[Incident]) -> None:
        self.incidents = incidents

    async def opened_between(self, start: datetime, end: datetime) -> list[Incident]:
        return [i for i in self.incidents if start <= i.opened_at < end]


async def test_incidents_by_service_counts_only_the_week_and_the_service() -> None:
    history = ListHistory(
        [
            incident("a", PERIOD.end - timedelta(days=1), 3, 20, "slow_queries"),
            incident("a", PERIOD.end - timedelta(days=9), 3, 20, "slow_queries"),  # last week
            incident("b", PERIOD.end - timedelta(days=2), 1, 5, "error_spike"),
        ]
    )
    found = await incidents_by_service(history, ["a", "b", "c"], PERIOD.start, PERIOD.end)
    assert isinstance(found["a"], Incidents)
    assert isinstance(found["c"], Incidents)
    assert (found["a"].count, found["c"].count) == (1, 0)
    without = await incidents_by_service(None, ["a"], PERIOD.start, PERIOD.end)
    assert isinstance(without["a"], Missing)
    assert "set REDIS_URL" in without["a"].reason


def test_names_from_labels_cannot_mention_or_link_and_are_shortened() -> None:
    figures = busy_service("x")
    hostile = Ranked((("<!channel> & `x`", 1.0), ("/a" * 100, 0.5)))
    figures = ServiceFigures(**{**vars(figures), "endpoints": hostile})
    text = "\n".join(str(b.to_dict()["text"]["text"]) for b in service_blocks(figures))
    assert "<!channel>" not in text
    assert "`&lt;!channel&gt; &amp; 'x'`" in text
    assert "/a" * 100 not in text
    assert "…" in text
