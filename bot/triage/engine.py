"""Run a playbook against one service: every step at once, results in checklist order.

    report = await run_triage(TriageRequest(service="checkout", window=window,
                                            playbook=playbook, source=source))

Steps are packed into at most four fetches (the per-caller concurrency cap); each fetch is
one call to the source, which sends it as one batched query where PromQL allows. A step is
evaluated, and reported through the progress callback, as soon as its fetch returns.
A failed query or a check that cannot tell makes that check `unknown` with the reason; the
other checks and steps carry on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from bot.models import Change, Finding, MetricsDetected, Status, StepResult, TriageReport
from bot.sources.apm.base import ApmBackend, ApmTarget, ApmUnavailable
from bot.sources.signals import Signal
from bot.triage.change_onset import Evaluated, blamed_change, scope_since, with_changes
from bot.triage.checks.base import (
    ApmView,
    CheckContext,
    CheckSkipped,
    CheckUnknown,
    Targets,
    finding,
)
from bot.triage.database_once import DatabaseOnce, DatabaseSource
from bot.triage.diagnosis import diagnose
from bot.triage.instances import scoped
from bot.triage.playbook import CheckSpec, Playbook, StepSpec
from bot.triage.scope import with_scope
from bot.triage.source import Failure, Fetched, SignalSource
from bot.triage.window import Window

ProgressCallback = Callable[[StepResult], Awaitable[None]]
APM_TIMEOUT_SECONDS = 15.0
APM_LIMIT = 10
DEFAULT_QUERY_GROUPS = 4  # the per-caller concurrency cap

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
    database: DatabaseSource | None = None
    metrics: MetricsDetected | None = None
    pod_label: str = "pod"
    deploys: tuple[Change, ...] = ()  # deploy events sent to the bot for this service
    change_window_s: float = 15 * 60  # a problem starting this soon after a change is blamed on it


@dataclass
class _StepRun:
    result: StepResult
    fetched: Fetched
    evaluated: Evaluated


async def run_triage(
    request: TriageRequest,
    *,
    on_step: ProgressCallback | None = None,
    max_queries: int = DEFAULT_QUERY_GROUPS,
) -> TriageReport:
    """Run every step concurrently; `on_step` is awaited as each step finishes.

    Steps are packed into at most `max_queries` fetches (one batched query each), so with the
    per-caller cap of 4 all of a triage's queries are in flight at once.
    """
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    apm_view = _ApmOnce(request)
    database = DatabaseOnce(request.database, request.window.seconds)
    groups = pack_steps(request.playbook.steps, max_queries)
    grouped = await asyncio.gather(
        *(_run_group(group, request, (apm_view, database), on_step) for group in groups)
    )
    by_id = {run.result.id: run for runs in grouped for run in runs}
    runs = [by_id[step.id] for step in request.playbook.steps]
    steps = tuple(run.result for run in runs)
    unreachable = _unreachable_reasons(runs)
    diagnosis = diagnose(
        steps,
        has_data=any(run.fetched.has_data() for run in runs),
        selector=request.source.selector,
        backend_errors=unreachable,
    )
    evaluated = [run.evaluated for run in runs]
    trigger = blamed_change(diagnosis, steps, evaluated, request.change_window_s)
    since = None
    if trigger is not None:
        since = scope_since(trigger, diagnosis.supporting[0], steps, evaluated)
    diagnosis = with_scope(diagnosis, steps, since)
    diagnosis = with_changes(diagnosis, steps, trigger, request.change_window_s)
    return TriageReport(
        service=request.service,
        window=request.window.text,
        started_at=started_at,
        duration_ms=round((time.monotonic() - clock) * 1000),
        steps=steps,
        diagnosis=diagnosis,
        backend_errors=tuple(unreachable),
        metrics=request.metrics,
    )


def pack_steps(steps: Sequence[StepSpec], groups: int) -> list[list[StepSpec]]:
    """Spread steps over at most `groups` fetches, balancing the number of queries in each."""
    bins: list[list[StepSpec]] = [[] for _ in range(max(1, min(groups, len(steps))))]
    weights = [0] * len(bins)
    for step in sorted(steps, key=lambda s: -_weight(s)):
        lightest = weights.index(min(weights))
        bins[lightest].append(step)
        weights[lightest] += _weight(step)
    return [group for group in bins if group]


def _weight(step: StepSpec) -> int:
    signals, custom = _needs([step])
    return len(signals) + len(custom)


def _needs(steps: Sequence[StepSpec]) -> tuple[set[Signal], dict[str, str]]:
    signals: set[Signal] = set()
    custom: dict[str, str] = {}
    for step in steps:
        for spec in step.checks:
            signals |= spec.kind.signals(spec.params)
            custom.update(spec.kind.custom_queries(spec.params))
    return signals, custom


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
        except Exception as error:  # a backend bug must not end the whole triage
            log.exception("APM backend failed", backend=apm.name)
            return ApmView(problem=f"{apm.name} failed: {type(error).__name__}")
        return ApmView(endpoints=endpoints, downstreams=downstreams)


async def _run_group(
    steps: list[StepSpec],
    request: TriageRequest,
    evidence: tuple[_ApmOnce, DatabaseOnce],
    on_step: ProgressCallback | None,
) -> list[_StepRun]:
    apm, database = evidence
    specs = [spec for step in steps for spec in step.checks]
    wants_apm = any(spec.kind.uses_apm(spec.params) for spec in specs)
    wants_database = any(spec.kind.uses_database(spec.params) for spec in specs)
    fetched, apm_view, database_view = await asyncio.gather(
        _fetch(steps, request),
        apm.get() if wants_apm else _nothing(),
        database.get() if wants_database else _nothing(),
    )
    context = CheckContext(
        service=request.service,
        window=request.window,
        data=fetched,
        targets=request.targets,
        apm=apm_view,
        database=database_view,
        pod_label=request.pod_label,
        deploys=request.deploys,
    )
    runs = []
    for step in steps:
        await asyncio.sleep(0)  # let other work run between steps' evaluations
        evaluated = Evaluated(step.id, step.checks, context)
        run = _StepRun(_evaluate_step(step, context), fetched, evaluated)
        if on_step is not None:
            await _notify(on_step, run.result)
        runs.append(run)
    return runs


def _evaluate_step(step: StepSpec, context: CheckContext) -> StepResult:
    results = [_evaluate(spec, context) for spec in step.checks]
    return StepResult(
        id=step.id,
        title=step.title,
        status=_step_status(results),
        findings=tuple(f for result in results for f in result.findings),
    )


async def _nothing() -> None:
    return None


async def _fetch(steps: list[StepSpec], request: TriageRequest) -> Fetched:
    signals, custom = _needs(steps)
    if not signals and not custom:
        return Fetched()
    try:
        return await request.source.fetch(signals, request.window, custom)
    except Exception as error:
        # One fetch failing must not end the triage: its checks become unknown.
        log.warning("triage_fetch_failed", steps=[s.id for s in steps], error=str(error))
        failure = Failure(str(error) or type(error).__name__, unreachable=True)
        return Fetched(failures=dict.fromkeys([*map(str, signals), *custom], failure))


@dataclass(frozen=True)
class CheckResult:
    state: Status | None  # None: not measured for this service
    findings: tuple[Finding, ...]


def _evaluate(spec: CheckSpec, context: CheckContext) -> CheckResult:
    kind = spec.kind.kind
    try:
        found = tuple(spec.kind.evaluate(spec.params, context))
    except CheckSkipped as skipped:
        return CheckResult(None, (_note("not_measured", kind, f"not measured ({skipped})"),))
    except CheckUnknown as unknown:
        return CheckResult("unknown", (_note("check_failed", kind, f"could not tell ({unknown})"),))
    except Exception as error:
        log.exception("triage_check_crashed", kind=kind)
        reason = f"failed with {type(error).__name__}"
        return CheckResult("unknown", (_note("check_failed", kind, reason),))
    found = tuple(scoped(spec, context, found))
    worst: Status = "ok"
    for one in found:
        if one.severity == "crit" or (one.severity == "warn" and worst == "ok"):
            worst = one.severity
    return CheckResult(worst, found)


def _note(code: str, kind: str, reason: str) -> Finding:
    return finding(code, "info", f"{kind}: {reason}", observed={"check": kind})


def _step_status(results: list[CheckResult]) -> Status:
    states = [result.state for result in results]
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
