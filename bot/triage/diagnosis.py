"""From findings to a primary cause, its share of the symptom, and what else was found.

Every rule below that recognises its cause yields a candidate; bot/triage/ranking.py weighs
them by how much of the user-visible symptom each explains (bot/triage/impact.py). The rule
order still encodes confounders: a cause that inflates other measurements comes before the
measurements it inflates, and each rule's docstring says why it outranks the rules after it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Cause, Diagnosis, StepResult
from bot.triage.conclusion import candidate_onset, conclude
from bot.triage.db_rules import DATABASE_EVIDENCE_RULES
from bot.triage.facts import Facts
from bot.triage.impact import (
    Symptom,
    failing_dependency_in_background,
    share_of,
    slow_dependency_off_path,
)
from bot.triage.ranking import Candidate, rank
from bot.triage.verdict import Rule, Verdict

GC_PAUSE_SHARE_OF_LAG = 0.5


def diagnose(
    steps: Sequence[StepResult],
    *,
    has_data: bool,
    selector: str,
    backend_errors: Sequence[str] = (),
) -> Diagnosis:
    """One primary cause for the triage, with a confidence between 0 and 1."""
    if not has_data:
        return _no_data(selector, backend_errors)
    facts = Facts(steps)
    symptom = Symptom.of(facts)
    return conclude(facts, symptom, rank(candidates(facts, symptom)), fallback)


def candidates(facts: Facts, symptom: Symptom) -> list[Candidate]:
    found = []
    for order, rule in enumerate(RULES):
        verdict = rule(facts)
        if verdict is not None:
            share = share_of(verdict.cause, facts, symptom)
            found.append(Candidate(verdict, share, order, candidate_onset(verdict, facts)))
    return found


def _no_data(selector: str, backend_errors: Sequence[str]) -> Diagnosis:
    if backend_errors:
        summary = f"No metrics could be read: {backend_errors[0]}"
    else:
        summary = (
            f"No series matched {selector} in the window. Check that the service is scraped "
            "and that its labels in the service catalog match what it exports."
        )
    return Diagnosis(cause="insufficient_data", confidence=0.9, summary=summary)


def unbounded_concurrency(facts: Facts) -> Verdict | None:
    """Many outbound calls per request (with handles piling up) beats everything after it:
    the flood slows the dependency, fills memory with sockets and buffers, and lags the loop
    while thousands of responses are processed; those are consequences, not causes."""
    fanout = facts.number("outbound_fanout", "calls_per_request")
    if not facts.flagged("outbound_fanout"):
        return None
    climbing = facts.flagged("active_handles")
    if not (facts.critical("outbound_fanout") or climbing):
        return None
    summary = f"Each inbound request fires about {fanout:.0f} outbound calls at once"
    summary += ", and open handles keep climbing." if climbing else "."
    summary += " The dependency slowdown and memory use that follow are side effects."
    supporting = ("outbound_fanout", "active_handles") if climbing else ("outbound_fanout",)
    return Verdict("unbounded_concurrency", 0.85 if climbing else 0.8, summary, supporting)


def heap_leak(facts: Facts) -> Verdict | None:
    """A steadily rising post-GC heap outranks GC pressure and lag: a growing live set makes
    every major collection longer, so GC time and loop lag follow from the leak."""
    if not facts.flagged("heap_growth"):
        return None
    summary = f"The JavaScript heap keeps growing: {facts.summary('heap_growth')}."
    if facts.flagged("gc_time") or facts.flagged("eventloop_lag"):
        summary += " The GC time and loop lag seen alongside are the leak's cost."
    return Verdict("heap_leak", 0.85, summary, ("heap_growth",))


def native_memory_growth(facts: Facts) -> Verdict | None:
    """RSS or external memory rising under a flat heap outranks GC pressure: external memory
    also triggers collections, so GC activity rises with it."""
    if not facts.flagged("rss_growth"):
        return None
    summary = f"Memory outside the JavaScript heap keeps growing: {facts.summary('rss_growth')}."
    return Verdict("native_memory_growth", 0.8, summary, ("rss_growth",))


def gc_pressure(facts: Facts) -> Verdict | None:
    """A high GC time share outranks a blocked loop and a busy CPU: every pause stops the
    loop and burns CPU, so GC pressure reads as lag and CPU load too. But GC is blamed for
    lag only when its pauses are about as long as the lag: synchronous work that allocates
    (hashing, JSON, templating) keeps GC busy with short pauses while it holds the loop."""
    if not facts.flagged("gc_time"):
        return None
    if facts.flagged("eventloop_lag") and not gc_explains_lag(facts):
        return None
    summary = f"Garbage collection is eating the process: {facts.summary('gc_time')}."
    supporting: tuple[str, ...] = ("gc_time",)
    # The GC share alone was right a third of the time on the scorecard (harmless GC looks
    # like this too): a lead, not a verdict, until the loop or the CPU shows its cost.
    confidence = 0.6
    if facts.flagged("eventloop_lag") or facts.flagged("cpu_busy"):
        summary += " The loop lag and CPU load come from the collection pauses."
        supporting += ("eventloop_lag",)
        confidence = 0.85
    return Verdict("gc_pressure", confidence, summary, supporting)


def gc_explains_lag(facts: Facts) -> bool:
    """Pauses at least half the lag p99; without pause figures, only a critical GC share."""
    pause = facts.number("gc_time", "pause_p99_ms")
    lag = facts.number("eventloop_lag", "p99_ms")
    if pause is None or lag is None:
        return facts.critical("gc_time")
    return pause >= GC_PAUSE_SHARE_OF_LAG * lag


def event_loop_blocked(facts: Facts) -> Verdict | None:
    """Lag at or above the warn level (or rare blocks past the crit level) outranks a busy
    CPU and every latency measured after it. A pinned core running short callbacks keeps p99
    lag moderate; p99 of 100 ms or more means callbacks that hold the loop, and while the loop
    is held every measured latency (database, dependencies) is inflated too."""
    if not facts.flagged("eventloop_lag"):
        return None
    spiky = facts.text("eventloop_lag", "spiky") == "yes"
    summary = f"The event loop is blocked: {facts.summary('eventloop_lag')}."
    summary += " Every request on the process waits for it, so database and dependency"
    summary += " timings taken here are inflated as well."
    if facts.flagged("gc_time"):
        summary += f" GC is busy too ({facts.summary('gc_time')}), as it is under synchronous"
        summary += " work that allocates, but its pauses are far shorter than the lag."
    confidence = 0.9 if spiky or facts.critical("eventloop_lag") else 0.75
    return Verdict("event_loop_blocked", confidence, summary, ("eventloop_lag",))


def cpu_saturated(facts: Facts) -> Verdict | None:
    """One core busy almost all the time, with lag only moderate (the rule above did not
    fire), outranks database and dependency findings: a pinned core delays the callbacks
    that time those calls."""
    if not facts.flagged("cpu_busy"):
        return None
    summary = f"The process has no CPU headroom: {facts.summary('cpu_busy')}."
    lag = facts.summary("eventloop_lag")
    if lag:
        summary += f" Lag stays moderate ({lag.split(':')[0]}), so this is steady load, not"
        summary += " one blocking call."
    # Busy at moderate lag is also what honest load near capacity looks like (scorecard).
    return Verdict("cpu_saturated", 0.7, summary, ("cpu_busy",))


def db_pool_saturated(facts: Facts) -> Verdict | None:
    """Requests queueing for a connection outrank slow queries: waiting is not query time.
    When the queue is longer than the pool, the pool (or whatever holds connections) is the
    bottleneck even if the held operations are slow as well."""
    waiting = facts.number("db_pool_waiting", "waiting") or 0.0
    size = facts.number("db_pool_usage", "size")
    queue_beats_pool = size is not None and waiting >= size
    slow_ops = facts.flagged("db_op_latency")
    if facts.flagged("db_pool_waiting") and (not slow_ops or queue_beats_pool):
        summary = (
            f"Requests are queueing for database connections: {facts.summary('db_pool_waiting')}"
        )
        summary += f"; {facts.summary('db_pool_usage')}."
        return Verdict("db_pool_saturated", 0.85, summary, ("db_pool_waiting", "db_pool_usage"))
    if facts.flagged("db_pool_usage") and not slow_ops:
        summary = f"The connection pool is at its limit: {facts.summary('db_pool_usage')}."
        return Verdict("db_pool_saturated", 0.6, summary, ("db_pool_usage",))
    return None


def slow_queries(facts: Facts) -> Verdict | None:
    """Slow operations with the pool keeping up outrank dependency findings: the database is
    checked first on the checklist because it is the most common cause of a slow service."""
    if not facts.flagged("db_op_latency"):
        return None
    summary = f"Database operations are slow: {facts.summary('db_op_latency')}, "
    summary += "while the pool is not the bottleneck."
    confidence = 0.7 if facts.flagged("downstream_latency") else 0.85
    return Verdict("slow_queries", confidence, summary, ("db_op_latency",))


def downstream_errors(facts: Facts) -> Verdict | None:
    """A failing dependency outranks a slow one (failures often arrive as timeouts) and the
    service's own error ratio (its 5xx are usually the dependency's failures passed on)."""
    if not facts.flagged("downstream_errors"):
        return None
    slow_more = facts.critical("downstream_latency") and not facts.critical("downstream_errors")
    if slow_more:
        return None
    summary = f"A dependency is failing: {facts.summary('downstream_errors')}."
    if failing_dependency_in_background(facts):
        summary += " No request fails with it, so these calls are made outside requests (a"
        summary += " background job or a telemetry exporter) or their failures are absorbed."
    elif facts.flagged("service_errors"):
        summary += f" The service's own errors ({facts.summary('service_errors')}) follow."
    return Verdict("downstream_errors", 0.85, summary, ("downstream_errors",))


def slow_downstream(facts: Facts) -> Verdict | None:
    """A slow dependency (with a healthy loop, as the rules above established) outranks the
    service's error ratio and a slow route: it is the reason the route is slow."""
    dominant = facts.text("downstream_latency", "dominates") == "yes"
    if facts.flagged("downstream_latency"):
        summary = f"A dependency is slow: {facts.summary('downstream_latency')}."
        if slow_dependency_off_path(facts):
            summary += " It is slower than the service's own p99, so no request waits for it:"
            summary += " the calls are made in the background."
        else:
            summary += " The event loop is healthy, so the time is spent waiting on it."
        return Verdict(
            "slow_downstream", 0.85 if dominant else 0.7, summary, ("downstream_latency",)
        )
    if facts.flagged("slowest_downstream"):
        summary = f"A dependency is slow: {facts.summary('slowest_downstream')}."
        return Verdict("slow_downstream", 0.65, summary, ("slowest_downstream",))
    return None


def error_spike(facts: Facts) -> Verdict | None:
    """Server errors with no failing dependency outrank a slow route: failed requests cost
    more than slow ones, and nothing above explains them."""
    if not facts.flagged("service_errors"):
        return None
    summary = f"The service is failing requests on its own: {facts.summary('service_errors')},"
    summary += " with no dependency failing and no resource exhausted."
    return Verdict("error_spike", 0.8, summary, ("service_errors",))


def slow_endpoint(facts: Facts) -> Verdict | None:
    """Last: a slow route (or latency over objective) with nothing else wrong."""
    if facts.flagged("slowest_endpoint"):
        summary = f"One route is slow on its own: {facts.summary('slowest_endpoint')}."
        return Verdict("slow_endpoint", 0.75, summary, ("slowest_endpoint",))
    if facts.flagged("service_latency"):
        summary = f"Latency is over the objective ({facts.summary('service_latency')}) "
        summary += "with no resource or dependency to blame; look at the slowest routes."
        return Verdict("slow_endpoint", 0.5, summary, ("service_latency",))
    return None


_STEP_GUESS: dict[str, Cause] = {
    "apm": "slow_endpoint",
    "event_loop": "event_loop_blocked",
    "database": "slow_queries",
    "downstreams": "slow_downstream",
    "memory": "heap_leak",
}


def fallback(facts: Facts) -> Verdict:
    """Something is flagged that no rule recognises: name the step it came from, weakly."""
    flagged = facts.flagged_findings()
    if not flagged:
        return Verdict("healthy", 0.5, "Nothing stands out.", ())
    step_id, worst = flagged[0]
    cause = _STEP_GUESS.get(step_id, "slow_endpoint")
    summary = f"Only one signal stands out ({worst.summary}); treat this as a lead, not a verdict."
    return Verdict(cause, 0.3, summary, (worst.code,))


RULES: tuple[Rule, ...] = (
    unbounded_concurrency,
    heap_leak,
    native_memory_growth,
    gc_pressure,
    event_loop_blocked,
    cpu_saturated,
    *DATABASE_EVIDENCE_RULES,  # leaks, locks, missing indexes and N+1 explain the pool and latency
    db_pool_saturated,
    slow_queries,
    downstream_errors,
    slow_downstream,
    error_spike,
    slow_endpoint,
)
