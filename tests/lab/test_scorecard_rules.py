"""How the scorecard judges an answer: compound faults, faults users do not feel, calibration."""

from __future__ import annotations

from tests.lab.scorecard import (
    CULPRIT_TRIES,
    Scenario,
    ScenarioOutcome,
    Verdict,
    calibration_rows,
    is_correct,
)


def verdict(
    cause: str,
    secondary: tuple[str, ...] = (),
    crit: tuple[str, ...] = (),
    confidence: float = 0.8,
    flagged: tuple[str, ...] = (),
) -> Verdict:
    return Verdict(
        cause=cause,
        confidence=confidence,
        crit_steps=crit,
        flagged=flagged,
        summary="",
        secondary=tuple((other, 0.3) for other in secondary),
    )


def test_two_faults_need_one_named_and_the_other_beside_it() -> None:
    scenario = Scenario("otel", "slow_downstream+heap_leak", "svc-01")
    assert is_correct(scenario, verdict("slow_downstream", ("heap_leak",)))
    assert is_correct(scenario, verdict("heap_leak", ("slow_downstream", "gc_pressure")))
    assert not is_correct(scenario, verdict("slow_downstream"))
    assert not is_correct(scenario, verdict("gc_pressure", ("heap_leak", "slow_downstream")))


def test_a_loud_fault_users_do_not_feel_is_healthy_with_the_finding_beside_it() -> None:
    scenario = Scenario("promclient", "background_dependency_failing", "svc-02")
    assert scenario.expected == "healthy"
    assert is_correct(scenario, verdict("healthy", ("downstream_errors",), crit=("downstreams",)))
    assert not is_correct(scenario, verdict("healthy"))
    assert not is_correct(scenario, verdict("downstream_errors"))
    assert not is_correct(Scenario("otel", "healthy", "svc-03"), verdict("healthy", crit=("apm",)))


def test_a_metric_style_does_not_change_the_expected_cause() -> None:
    scenario = Scenario("promclient", "event_loop_blocked@prefixed", "svc-04")
    assert scenario.expected == "event_loop_blocked"
    assert is_correct(scenario, verdict("event_loop_blocked"))


def test_calibration_counts_right_answers_per_band() -> None:
    right = ScenarioOutcome(
        Scenario("otel", "heap_leak", "a"), verdict("heap_leak", confidence=0.9), 30.0
    )
    wrong = ScenarioOutcome(
        Scenario("otel", "gc_pressure", "b"), verdict("healthy", confidence=0.88)
    )
    low = ScenarioOutcome(
        Scenario("otel", "error_spike", "c"), verdict("error_spike", confidence=0.4), 5.0
    )
    assert calibration_rows([right, wrong, low]) == [
        ("0.00-0.50", 1, 1, 0.4),
        ("0.85-1.00", 2, 1, 0.89),
    ]


def test_harmless_gc_and_honest_load_must_show_what_makes_them_loud() -> None:
    gc = Scenario("otel", "gc_harmless", "svc-05")
    assert not is_correct(gc, verdict("healthy", flagged=("gc_time=warn",)))
    assert is_correct(gc, verdict("healthy", ("gc_pressure",), flagged=("gc_time=warn",)))
    assert not is_correct(gc, verdict("gc_pressure", flagged=("gc_time=warn",)))
    busy = Scenario("otel", "near_capacity", "svc-06")
    assert not is_correct(busy, verdict("healthy", flagged=("cpu_busy=warn",)))
    noted = Verdict(
        "healthy", 0.75, (), ("cpu_busy=warn",), "Capacity: the process is busy (0.9 cores)."
    )
    assert is_correct(busy, noted)


def test_a_healthy_service_named_sick_after_being_right_is_a_false_alarm() -> None:
    outcome = ScenarioOutcome(Scenario("otel", "gc_harmless", "svc-07"))
    assert outcome.pending(0.0)
    outcome.record(3.0, verdict("healthy"))
    assert outcome.correct
    assert outcome.pending(10.0)  # still watched
    outcome.record(20.0, verdict("gc_pressure", flagged=("gc_time=warn",)))
    assert outcome.false_alarm
    assert not outcome.correct
    assert not outcome.pending(30.0)
    sick = ScenarioOutcome(Scenario("otel", "slow_queries", "svc-08"))
    sick.record(30.0, verdict("slow_queries"))
    assert sick.correct
    assert not sick.pending(31.0)  # a fault is done once named


def test_a_fault_with_a_culprit_stays_pending_until_a_profile_names_it_or_tries_run_out() -> None:
    leak = ScenarioOutcome(Scenario("otel", "heap_leak", "svc-09"))
    leak.record(5.0, verdict("heap_leak"))
    assert leak.wants_culprit
    assert leak.pending(6.0)
    leak.culprit, leak.culprit_tries = "", 1
    assert leak.pending(10.0)
    leak.culprit_tries = CULPRIT_TRIES
    assert not leak.pending(14.0)
    found = ScenarioOutcome(Scenario("otel", "heap_leak", "svc-10"))
    found.record(5.0, verdict("heap_leak"))
    found.culprit, found.culprit_tries = "growCache lab/node/faults.js:1", 1
    assert not found.pending(6.0)
