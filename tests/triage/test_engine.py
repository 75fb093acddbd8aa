from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from bot.models import StepResult
from bot.sources.signals import Signal
from bot.triage.engine import TriageRequest, pack_steps, run_triage
from bot.triage.recorded import RecordedSignalSource
from bot.triage.source import Failure, Fetched
from bot.triage.window import Window, parse_window
from tests.triage.helpers import END, nodejs_playbook, recording

CHECKLIST = ["apm", "event_loop", "database", "downstreams", "memory", "changes"]


class SlowSource:
    """Replays a recording, answering each fetch after a delay that depends on its content."""

    def __init__(self, name: str, fail: set[Signal] | None = None) -> None:
        self._inner = RecordedSignalSource.from_dict(recording(name))
        self._fail = fail or set()
        self.selector = self._inner.selector
        self.in_flight = 0
        self.max_in_flight = 0
        self.fetches = 0

    async def fetch(
        self, signals: Collection[Signal], window: Window, custom: Mapping[str, str] | None = None
    ) -> Fetched:
        self.fetches += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # the memory step answers first, so completion order differs from checklist order
            await asyncio.sleep(0.001 if Signal.HEAP_USED in signals else 0.03)
            result = await self._inner.fetch(signals, window, custom)
        finally:
            self.in_flight -= 1
        for signal in self._fail & set(signals):
            result.series.pop(signal.value, None)
            result.failures[signal.value] = Failure("timed out after 10s")
        return result


def request_for(source: object) -> TriageRequest:
    return TriageRequest(
        service="checkout",
        window=parse_window("10m", end=END),
        playbook=nodejs_playbook(),
        source=source,  # type: ignore[arg-type]
    )


async def test_steps_are_reported_in_checklist_order_and_progress_as_they_finish() -> None:
    source = SlowSource("event_loop_blocked")
    finished: list[str] = []

    async def progress(step: StepResult) -> None:
        finished.append(step.id)

    report = await run_triage(request_for(source), on_step=progress)
    assert [step.id for step in report.steps] == CHECKLIST
    assert sorted(finished) == sorted(CHECKLIST)
    assert finished[0] == "memory"


async def test_fetches_run_together_and_never_more_than_the_cap() -> None:
    source = SlowSource("healthy")
    report = await run_triage(request_for(source))
    assert source.fetches == 4  # five steps packed into four batched fetches
    assert source.max_in_flight == 4
    assert report.duration_ms < 200  # concurrent: about one delay, not the sum


async def test_a_failed_query_makes_its_check_unknown_and_the_rest_carry_on() -> None:
    source = SlowSource("event_loop_blocked", fail={Signal.DB_OP_P99})
    report = await run_triage(request_for(source))
    database = next(step for step in report.steps if step.id == "database")
    failed = [f for f in database.findings if f.code == "check_failed"]
    assert len(failed) == 1
    assert "db_op_p99" in failed[0].summary
    assert "timed out" in failed[0].summary
    assert any(f.code == "db_pool_waiting" for f in database.findings)
    assert report.diagnosis.cause == "event_loop_blocked"
    assert report.backend_errors == ()  # a failing query is not an unreachable backend


async def test_a_source_that_raises_gives_unknown_steps_and_backend_errors() -> None:
    class Down:
        selector = '{service="checkout"}'

        async def fetch(self, *args: object, **kwargs: object) -> Fetched:
            raise ConnectionError("Could not connect to Prometheus at 127.0.0.1:1")

    report = await run_triage(request_for(Down()))
    assert all(step.status == "unknown" for step in report.steps)
    assert report.backend_errors == ("Could not connect to Prometheus at 127.0.0.1:1",)
    assert report.diagnosis.cause == "insufficient_data"
    assert "Could not connect" in report.diagnosis.summary


async def test_a_failing_progress_callback_does_not_stop_the_triage() -> None:
    async def broken(step: StepResult) -> None:
        raise RuntimeError("slack is down")

    report = await run_triage(request_for(SlowSource("healthy")), on_step=broken)
    assert len(report.steps) == len(CHECKLIST)


async def test_unknown_step_lowers_confidence() -> None:
    healthy = await run_triage(request_for(SlowSource("event_loop_blocked")))
    degraded = await run_triage(
        request_for(
            SlowSource(
                "event_loop_blocked",
                fail={Signal.HEAP_USED, Signal.RSS, Signal.GC_TIME_RATIO, Signal.ACTIVE_HANDLES},
            )
        )
    )
    memory = next(step for step in degraded.steps if step.id == "memory")
    assert memory.status == "unknown"
    assert degraded.diagnosis.confidence < healthy.diagnosis.confidence


def test_packing_balances_steps_over_the_cap() -> None:
    steps = nodejs_playbook().steps
    groups = pack_steps(steps, 4)
    assert len(groups) == 4
    assert sorted(s.id for group in groups for s in group) == sorted(CHECKLIST)
    assert len(pack_steps(steps, 1)) == 1
    assert len(pack_steps(steps, 10)) == len(CHECKLIST)


def test_evidence_series_are_cut_to_sixty_points() -> None:
    from bot.triage.checks.base import finding

    points = [(float(t), float(t % 7)) for t in range(500)]
    made = finding("x", "info", "x", charts={"s": points})
    assert len(made.evidence.series["s"]) <= 60
    assert max(p.v for p in made.evidence.series["s"]) == 6.0  # spikes survive
