"""Causes Kubernetes signals tell apart: a CPU limit, a starved pod, OOM kills, crash loops
and a service out of capacity, each against the cause it would otherwise be mistaken for."""

from __future__ import annotations

from tests.triage.helpers import finding_codes, recording, triage_data, triage_recording


async def test_healthy_pods_raise_no_kubernetes_finding() -> None:
    report = await triage_recording("healthy_on_kubernetes")
    assert report.diagnosis.cause == "healthy"
    assert finding_codes(report, "warn", "crit") == set()
    assert {"cpu_throttled", "pod_restarts", "capacity"} <= finding_codes(report, "info")


async def test_throttled_lag_is_blamed_on_the_limit_not_on_sync_code() -> None:
    report = await triage_recording("cpu_throttled")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "cpu_throttled"
    assert "waiting for CPU, not code holding the thread" in diagnosis.summary
    assert "Raise the CPU limit" in diagnosis.advice
    assert "synchronous work" not in diagnosis.advice


async def test_a_blocked_loop_with_no_throttling_stays_blocked() -> None:
    report = await triage_recording("event_loop_blocked_not_throttled")
    assert "cpu_throttled" in finding_codes(report, "info")
    assert report.diagnosis.cause == "event_loop_blocked"


async def test_busy_javascript_under_a_sub_core_limit_says_both() -> None:
    report = await triage_recording("cpu_throttled_busy_sub_core")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "cpu_throttled"
    assert diagnosis.supporting == ("cpu_throttled", "cpu_busy")
    assert "busy running JavaScript" in diagnosis.summary
    assert "below one core" in diagnosis.summary
    assert "Raise the CPU limit" in diagnosis.advice
    assert "Profile to find the hot code" in diagnosis.advice


async def test_oom_kills_show_the_working_set_against_the_limit() -> None:
    report = await triage_recording("oom_killed")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "oom_killed"
    assert "2 container restart(s)" in diagnosis.summary
    assert "of a 512 MiB limit" in diagnosis.summary
    assert "--max-old-space-size" in diagnosis.advice


async def test_restarts_without_an_oom_are_a_crash_loop() -> None:
    report = await triage_recording("crash_looping")
    assert report.diagnosis.cause == "crash_looping"
    assert "CrashLoopBackOff" in report.diagnosis.summary
    assert "kubectl logs --previous" in report.diagnosis.advice


async def test_saturated_everywhere_with_the_autoscaler_at_max_is_capacity() -> None:
    report = await triage_recording("capacity_exhausted")
    assert report.diagnosis.cause == "capacity_exhausted"
    assert "autoscaler is at its maximum" in report.diagnosis.summary
    assert report.diagnosis.advice.startswith("Every instance is affected")
    assert "Raise the autoscaler's maximum" in report.diagnosis.advice


async def test_the_same_load_with_room_to_grow_is_only_cpu_saturation() -> None:
    data = recording("capacity_exhausted")
    for one in data["signals"]["hpa_current_replicas"]:
        one["points"] = [[t, 4] for t, _ in one["points"]]
    report = await triage_data(data)
    assert report.diagnosis.cause == "cpu_saturated"


async def test_an_idle_lagging_pod_is_starved_not_blocked() -> None:
    report = await triage_recording("cpu_starved")
    diagnosis = report.diagnosis
    assert diagnosis.cause == "cpu_starved"
    assert "not given the CPU" in diagnosis.summary
    assert "steal" in diagnosis.advice


async def test_an_idle_lagging_pod_under_throttling_is_throttled() -> None:
    data = recording("cpu_starved")
    for one in data["signals"]["cpu_throttled_ratio"]:
        if one["labels"]["pod"] == "shop-6d8f9-a1":
            one["points"] = [[t, 0.7] for t, _ in one["points"]]
    report = await triage_data(data)
    assert report.diagnosis.cause == "cpu_throttled"


async def test_a_process_too_young_for_a_cpu_reading_is_not_called_starved() -> None:
    data = recording("cpu_starved")
    for one in data["signals"]["cpu_cores"]:
        one["points"] = one["points"][-3:]
    report = await triage_data(data)
    assert report.diagnosis.cause == "event_loop_blocked"


async def test_a_minute_of_lag_on_an_idle_pod_is_not_starvation_when_the_loop_is_fine() -> None:
    """A busy CI machine (load above 6 on two cores) stalls a healthy, idle pod for a minute
    or two: the lag check, which needs a quarter of the window, rightly calls the loop fine,
    and a stretch that short must not make the service starved either."""
    data = recording("healthy_on_kubernetes")
    burst = range(-300, -195)  # seven 15 s samples, 105 s of a 10 min window
    for signal, level in (("eventloop_lag_p99", 0.15), ("eventloop_lag_max", 0.2)):
        for one in data["signals"][signal]:
            if one["labels"]["pod"] == "shop-6d8f9-a1":
                one["points"] = [[t, level if t in burst else v] for t, v in one["points"]]
    for one in data["signals"]["cpu_cores"]:
        one["points"] = [[t, 0.03] for t, _ in one["points"]]
    report = await triage_data(data)
    assert "eventloop_lag" in finding_codes(report, "info")
    assert "cpu_starved" in finding_codes(report, "info")
    assert report.diagnosis.cause == "healthy"


async def test_idle_pods_lagging_everywhere_are_starved_not_out_of_capacity() -> None:
    """Lag on every pod is not saturation when the pods are idle: they wait for CPU that
    neighbours take (the lab saw it with every pod on one busy core), and raising the
    autoscaler's maximum is the wrong advice for that."""
    data = recording("cpu_starved")
    for signal, level in (("eventloop_lag_p99", 0.22), ("eventloop_lag_max", 0.4)):
        for one in data["signals"][signal]:
            one["points"] = [[t, level] for t, _ in one["points"]]
    for signal in ("cpu_cores", "container_cpu_cores"):
        for one in data["signals"][signal]:
            one["points"] = [[t, 0.03] for t, _ in one["points"]]
    for signal in ("hpa_current_replicas", "hpa_max_replicas"):
        for one in data["signals"][signal]:
            one["points"] = [[t, 3] for t, _ in one["points"]]
    report = await triage_data(data)
    assert report.diagnosis.cause == "cpu_starved"
    assert report.diagnosis.scope is not None
    assert report.diagnosis.scope.everywhere
