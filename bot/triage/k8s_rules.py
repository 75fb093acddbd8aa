"""Diagnosis rules for what Kubernetes adds: restarts, CPU limits, starved and full pods.

Restart rules come first: a container killed or crashing explains the errors, latency and
lost state around it. The CPU rules come after the memory rules (a leak or GC pauses explain
CPU use) and before `event_loop_blocked`, which they refine: lag under a throttling CPU limit
is the limit's doing, lag with an idle, unthrottled process is starvation, and lag or
saturation on every pod with no room to add pods is a capacity problem.
"""

from __future__ import annotations

from bot.models import Finding
from bot.triage.checks.cpu_saturation import ADVICE as CPU_ADVICE
from bot.triage.checks.k8s_cpu_throttling import ADVICE as THROTTLED_ADVICE
from bot.triage.facts import Facts
from bot.triage.verdict import Rule, Verdict

CAPACITY_ADVICE = (
    "Every instance is saturated and no more can be added. Raise the autoscaler's maximum "
    "(or the replica count, or the CPU limits) to get through the load now; then find what "
    "raised it: a traffic peak, a retry storm from a client, or a change that made each "
    "request cost more."
)


def oom_killed(facts: Facts) -> Verdict | None:
    """Containers killed for memory outrank everything else: each kill drops the requests in
    flight and the restart costs a cold start; the memory growth that led there is the
    detail."""
    if not facts.flagged("pod_restarts") or facts.text("pod_restarts", "reason") != "OOMKilled":
        return None
    summary = f"Containers are being killed for memory: {facts.summary('pod_restarts')}."
    supporting: tuple[str, ...] = ("pod_restarts",)
    if facts.flagged("heap_growth"):
        summary += " The JavaScript heap keeps growing until the limit is reached."
        supporting += ("heap_growth",)
    elif facts.flagged("rss_growth"):
        summary += " Memory outside the JavaScript heap keeps growing until the limit."
        supporting += ("rss_growth",)
    return Verdict("oom_killed", 0.9, summary, supporting)


def crash_looping(facts: Facts) -> Verdict | None:
    """Repeated restarts for any other reason: the process keeps exiting, so nothing it
    measured about itself is worth more than why it stops. One restart per pod is not a loop
    (a rollout or a node drain does that); it is listed under what changed."""
    if not facts.flagged("pod_restarts"):
        return None
    looping = facts.text("pod_restarts", "crash_loop") == "yes"
    if not looping and (facts.number("pod_restarts", "most_on_one_pod") or 0) < 2:
        return None
    summary = f"Containers keep restarting: {facts.summary('pod_restarts')}."
    if looping:
        summary += " Kubernetes now waits longer and longer before each new attempt."
    return Verdict("crash_looping", 0.85 if looping else 0.65, summary, ("pod_restarts",))


def _on_every_instance(found: Finding | None) -> bool:
    return found is not None and found.scope is not None and found.scope.everywhere


def capacity_exhausted(facts: Facts) -> Verdict | None:
    """Saturated everywhere with no room to grow outranks the per-pod CPU rules: the fix is
    more capacity first, whatever else is true of each pod."""
    room = facts.text("capacity", "hpa")
    if room not in {"at_max", "none"}:
        return None
    # Lag is load only when it is steady and the pods are not idle: an idle pod that lags is
    # waiting for CPU its neighbours take, and more pods of it would wait as well.
    lag_is_load = facts.text("eventloop_lag", "spiky") != "yes" and not facts.flagged("cpu_starved")
    saturated = [
        code
        for code in ("cpu_throttled", "cpu_busy", "eventloop_lag")
        if facts.flagged(code)
        and _on_every_instance(facts.finding(code))
        and (code != "eventloop_lag" or lag_is_load)
    ]
    if not saturated:
        return None
    room_text = (
        "the autoscaler is at its maximum" if room == "at_max" else "no autoscaler adds pods"
    )
    summary = f"Every instance is saturated ({facts.summary(saturated[0])}) and {room_text}"
    summary += f" ({facts.summary('capacity')})."
    return Verdict("capacity_exhausted", 0.8, summary, (saturated[0], "capacity"), CAPACITY_ADVICE)


def cpu_throttled(facts: Facts) -> Verdict | None:
    """Throttling under lag or latency outranks `event_loop_blocked`: the loop waits for the
    next CFS period, which reads as lag. When the loop is also busy in JavaScript under a
    limit below one core, both are true and both are said."""
    if not facts.flagged("cpu_throttled"):
        return None
    symptoms = [c for c in ("eventloop_lag", "cpu_busy", "service_latency") if facts.flagged(c)]
    if not symptoms:
        return None
    throttled = facts.summary("cpu_throttled")
    limit = facts.number("cpu_throttled", "limit_cores")
    if facts.flagged("cpu_busy") and limit is not None and limit < 1:
        summary = (
            f"The event loop is busy running JavaScript and a CPU limit below one core "
            f"throttles it ({throttled}): both hold requests up. The code needs more CPU "
            "than the limit gives, and the limit stretches every busy stretch further."
        )
        advice = f"{THROTTLED_ADVICE} Then take a CPU profile: {CPU_ADVICE}"
        return Verdict("cpu_throttled", 0.85, summary, ("cpu_throttled", "cpu_busy"), advice)
    summary = f"The CPU limit throttles the container: {throttled}."
    if facts.flagged("eventloop_lag"):
        summary += f" The loop lag ({facts.summary('eventloop_lag').split(':')[0]}) is time"
        summary += " spent waiting for CPU, not code holding the thread."
    return Verdict("cpu_throttled", 0.85, summary, ("cpu_throttled", symptoms[0]), THROTTLED_ADVICE)


def cpu_starved(facts: Facts) -> Verdict | None:
    """Lag while the process was idle and not throttled outranks `event_loop_blocked`: code
    that holds the loop keeps its core busy, so an idle lagging process is waiting for a CPU
    it is not given."""
    if not facts.flagged("cpu_starved") or facts.flagged("cpu_throttled"):
        return None
    lag = facts.summary("eventloop_lag").split(":")[0]
    summary = (
        f"The event loop lags ({lag}) but the process is idle: {facts.summary('cpu_starved')}."
        " Nothing in it holds the thread; it is not given the CPU, most likely because other"
        " workloads on the same node take it."
    )
    if facts.finding("cpu_throttled") is None:
        summary += " CPU throttling is not measured here, so a CPU limit could be the cause too."
    return Verdict("cpu_starved", 0.65, summary, ("cpu_starved", "eventloop_lag"))


RESTART_RULES: tuple[Rule, ...] = (oom_killed, crash_looping)
CPU_RULES: tuple[Rule, ...] = (capacity_exhausted, cpu_throttled, cpu_starved)
