"""Run a playbook against one service: every step at once, results in checklist order.

    report = await run_triage(TriageRequest(service="checkout", window=window,
                                            playbook=playbook, source=source))

Each step fetches its checks' signals in one call to the source (which batches and caps
concurrency), then evaluates its checks. A failed query or a check that cannot tell makes
that check `unknown` with the reason; the other checks and steps carry on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from bot.models import Finding, Status, StepResult, TriageReport
from bot.sources.apm.base import ApmBackend, ApmTarget, ApmUnavailable
from bot.sources.signals import Signal
from bot.triage.checks.base import (
    ApmView,
    CheckContext,
    CheckSkipped,
    CheckUnknown,
    Targets,
    finding,
)
from bot.triage.diagnosis import diagnose
from bot.triage.playbook import CheckSpec, Playbook, StepSpec
from bot.triage.source import Failure, Fetched, SignalSource
from bot.triage.window import Window

ProgressCallback = Callable[[StepResult], Awaitable[None]]
APM_TIMEOUT_SECONDS = 15.0
APM_LIMIT = 10

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TriageRequest:
    service: str
    window: Window
    playbook: Playbook
    source: SignalSource
    targets: Targets = field(default_factory=Targets)
    apm: ApmBackend | None = None
    apm_target: ApmTarget | None = None


@dataclass
class _StepRun:
    result: StepResult
    fetched: Fetched


async def run_triage(
    request: TriageRequest, *, on_step: ProgressCallback | None = None
) -> TriageReport:
    """Run every step concurrently; `on_step` is awaited as each step finishes."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    apm_view = _ApmOnce(request)
    runs = await asyncio.gather(
        *(_run_step(step, request, apm_view, on_step) for step in request.playbook.steps)
    )
    steps = tuple(run.result for run in runs)
    unreachable = _unreachable_reasons(runs)
    diagnosis = diagnose(
        steps,
        has_data=any(run.fetched.has_data() for run in runs),
        selector=request.source.selector,
        backend_errors=unreachable,
    )
    return TriageReport(
        service=request.service,
        window=request.window.text,
        started_at=started_at,
        duration_ms=round((time.monotonic() - clock) * 1000),
        steps=steps,
        diagnosis=diagnosis,
        backend_errors=tuple(unreachable),
    )


class _ApmOnce:
    """Asks the APM backend once, on first use, whichever step needs it."""

    def __init__(self, request: TriageRequest) -> None:
        self._request = request
        self._task: asyncio.Task[ApmView] | None = None

    async def get(self) -> ApmView | None:
        if self._request.apm is None:
            return None
        if self._task is None:
            self._task = asyncio.ensure_future(self._ask(self._request.apm))
        return await asyncio.shield(self._task)

    async def _ask(self, apm: ApmBackend) -> ApmView:
        target = self._request.apm_target or ApmTarget(service=self._request.service)
        seconds = self._request.window.seconds
        try:
            async with asyncio.timeout(APM_TIMEOUT_SECONDS):
                endpoints, downstreams = await asyncio.gather(
                    apm.slowest_endpoints(target, seconds, APM_LIMIT),
                    apm.slowest_downstreams(target, seconds, APM_LIMIT),
                )
        except ApmUnavailable as error:
            return ApmView(problem=f"{apm.name}: {error}")
        except TimeoutError:
            return ApmView(problem=f"{apm.name} did not answer within {APM_TIMEOUT_SECONDS:g}s")
        return ApmView(endpoints=endpoints, downstreams=downstreams)


async def _run_step(
    step: StepSpec,
    request: TriageRequest,
    apm: _ApmOnce,
    on_step: ProgressCallback | None,
) -> _StepRun:
    wants_apm = any(spec.kind.uses_apm(spec.params) for spec in step.checks)
    fetched, apm_view = await asyncio.gather(
        _fetch(step, request), apm.get() if wants_apm else _nothing()
    )
    context = CheckContext(
        service=request.service,
        window=request.window,
        data=fetched,
        targets=request.targets,
        apm=apm_view,
    )
    outcomes = [_evaluate(spec, context) for spec in step.checks]
    result = StepResult(
        id=step.id,
        title=step.title,
        status=_step_status(outcomes),
        findings=tuple(f for outcome in outcomes for f in outcome.findings),
    )
    if on_step is not None:
        await _notify(on_step, result)
    return _StepRun(result, fetched)


async def _nothing() -> None:
    return None


async def _fetch(step: StepSpec, request: TriageRequest) -> Fetched:
    signals: set[Signal] = set()
    custom: dict[str, str] = {}
    for spec in step.checks:
        signals |= spec.kind.signals(spec.params)
        custom.update(spec.kind.custom_queries(spec.params))
    if not signals and not custom:
        return Fetched()
    try:
        return await request.source.fetch(signals, request.window, custom)
    except Exception as error:
        log.warning("triage_fetch_failed", step=step.id, error=str(error))
        failure = Failure(str(error) or type(error).__name__, unreachable=True)
        return Fetched(failures=dict.fromkeys([*map(str, signals), *custom], failure))


@dataclass(frozen=True)
class _Outcome:
    state: Status | None  # None: not measured for this service
    findings: tuple[Finding, ...]


def _evaluate(spec: CheckSpec, context: CheckContext) -> _Outcome:
    kind = spec.kind.kind
    try:
        found = tuple(spec.kind.evaluate(spec.params, context))
    except CheckSkipped as skipped:
        return _Outcome(None, (_note("not_measured", kind, f"not measured ({skipped})"),))
    except CheckUnknown as unknown:
        return _Outcome("unknown", (_note("check_failed", kind, f"could not tell ({unknown})"),))
    except Exception as error:
        log.exception("triage_check_crashed", kind=kind)
        reason = f"failed with {type(error).__name__}"
        return _Outcome("unknown", (_note("check_failed", kind, reason),))
    worst: Status = "ok"
    for one in found:
        if one.severity == "crit" or (one.severity == "warn" and worst == "ok"):
            worst = one.severity
    return _Outcome(worst, found)


def _note(code: str, kind: str, reason: str) -> Finding:
    return finding(code, "info", f"{kind}: {reason}", observed={"check": kind})


def _step_status(outcomes: list[_Outcome]) -> Status:
    states = [outcome.state for outcome in outcomes]
    for status in ("crit", "warn", "unknown", "ok"):
        if status in states:
            return status
    return "unknown"


def _unreachable_reasons(runs: list[_StepRun]) -> list[str]:
    reasons: list[str] = []
    for run in runs:
        for failure in run.fetched.failures.values():
            if failure.unreachable and failure.reason not in reasons:
                reasons.append(failure.reason)
    return reasons


async def _notify(on_step: ProgressCallback, result: StepResult) -> None:
    try:
        await on_step(result)
    except Exception:
        log.exception("triage_progress_callback_failed", step=result.id)
