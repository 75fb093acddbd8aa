"""A profile in the triage report: culprits in `diagnosis`, the terminal lines, the thread's
escaped note and the flame graph image."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.catalog import Service, parse_catalog
from bot.models import Diagnosis, TriageReport
from bot.profiling.attach import TriageProfiles
from bot.profiling.capture import ProfileCapture
from bot.profiling.evidence import Culprit, FlameStack, ProfiledFunction, ProfileEvidence
from bot.profiling.flame import flame_spec, merge
from bot.profiling.flame_drawing import render_flame_png
from bot.profiling.instances import NoInstance, host_of, per_instance_expr
from bot.profiling.text import profile_lines
from bot.slack.render.profile import profile_note
from bot.sources.base import InstantSample, RangeSeries
from bot.sources.signals import Signal
from bot.store.memory import MemoryStore
from bot.triage.text import render_report
from tests.profiling.conftest import AgentProcess
from tests.slack_safety import unsafe_sequences

HOSTILE = "<!channel> `x` <https://evil.example|click>"


def report_with(cause: str) -> TriageReport:
    return TriageReport(
        service="checkout",
        window="10m",
        started_at=datetime(2026, 11, 30, tzinfo=UTC),
        duration_ms=12,
        steps=(),
        diagnosis=Diagnosis(cause=cause, confidence=0.8, summary="CPU is pinned"),
    )


def service(port: int) -> Service:
    entry = {
        "selector": {"job": "checkout"},
        "agent": {"port": port, "token_env": "CHECKOUT_AGENT_TOKEN", "cpu_seconds": 1},
    }
    found = parse_catalog(json.dumps({"services": {"checkout": entry}})).get("checkout")
    assert found is not None
    return found


class OneInstance:
    """Prometheus's answer to the worst-instance query: one series, on `instance`."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.asked: list[str] = []

    async def query(self, expr: str, *, at: float | None = None) -> list[InstantSample]:
        self.asked.append(expr)
        return [InstantSample(labels={"instance": self.instance, "job": "checkout"}, value=0.97)]

    async def query_range(
        self, expr: str, start: float, end: float, step: float | None = None
    ) -> list[RangeSeries]:
        raise AssertionError("not used")

    async def series_names(self, selector: dict[str, str]) -> set[str]:
        raise AssertionError("not used")


async def test_a_cpu_diagnosis_gets_its_culprit_in_the_json(cpu_agent: AgentProcess) -> None:
    prometheus = OneInstance(f"127.0.0.1:{cpu_agent.port}")
    async with aiohttp.ClientSession() as session:
        capture = ProfileCapture(
            MemoryStore(), lambda: session, {"CHECKOUT_AGENT_TOKEN": SecretStr(cpu_agent.token)}
        )
        names = frozenset({"process_cpu_seconds_total", "nodejs_eventloop_lag_p99_seconds"})
        report = await TriageProfiles(capture).attach(
            report_with("cpu_saturated"), service(cpu_agent.port), prometheus, names, at=1.0
        )
    assert prometheus.asked == [
        'topk(1, sum by (instance) (rate(process_cpu_seconds_total{job="checkout"}[1m])))'
    ]
    document = json.loads(report.model_dump_json())
    top = document["diagnosis"]["culprits"][0]
    line = cpu_agent.line_of("spinPricing starts here")
    assert top["kind"] == "function"
    assert top["name"] == "spinPricing"
    assert top["location"] == f"{cpu_agent.script}:{line}"
    assert "bytes" not in top
    assert top["share"] > 0.5
    assert document["profile"]["instance"] == f"127.0.0.1:{cpu_agent.port}"
    assert "spinPricing" in render_report(report)


async def test_other_diagnoses_are_left_alone() -> None:
    capture = ProfileCapture(MemoryStore(), aiohttp.ClientSession, {})
    report = report_with("slow_downstream")
    assert (
        await TriageProfiles(capture).attach(
            report, service(9230), OneInstance("x:1"), frozenset(), at=1.0
        )
        is report
    )


async def test_an_unreachable_agent_leaves_the_diagnosis_and_says_why() -> None:
    async with aiohttp.ClientSession() as session:
        capture = ProfileCapture(
            MemoryStore(), lambda: session, {"CHECKOUT_AGENT_TOKEN": SecretStr("t" * 20)}
        )
        before = report_with("event_loop_blocked")
        after = await TriageProfiles(capture).attach(
            before, service(9), OneInstance("127.0.0.1:9"), frozenset(), at=1.0
        )
    assert after.diagnosis == before.diagnosis
    assert after.profile is not None
    assert not after.profile.captured
    assert "cannot reach the agent at http://127.0.0.1:9" in after.profile.reason
    assert "CPU profile: not captured: cannot reach the agent" in render_report(after)


def hostile_evidence() -> ProfileEvidence:
    return ProfileEvidence(
        kind="cpu",
        captured=True,
        instance="10.0.0.5:9464",
        seconds=5,
        samples=5000,
        gc_share=0.02,
        top_self=(
            ProfiledFunction(
                name=HOSTILE, location="/srv/<b>.js:3", self_share=0.5, total_share=0.6
            ),
        ),
        culprits=(Culprit(kind="function", name=HOSTILE, location="/srv/<b>.js:3", share=0.5),),
        flame=(
            FlameStack(frames=("main app.js:1", f"{HOSTILE} a.js:3", "$x^2$ b.js:9"), weight=80),
        ),
    )


def test_names_from_the_process_are_inert_in_the_thread() -> None:
    note = profile_note(hostile_evidence())
    assert "<!channel>" not in note
    assert "<https://" not in note
    assert "&lt;!channel&gt;" in note
    assert "/srv/&lt;b&gt;.js:3" in note
    assert "50% of samples" in note


def test_terminal_lines_name_culprit_and_share() -> None:
    lines = profile_lines(hostile_evidence())
    assert lines[0] == "CPU profile of 10.0.0.5:9464, 5 s"
    assert f"  {HOSTILE} at /srv/<b>.js:3: 50% of samples" in lines


def test_a_heap_culprit_has_bytes_and_no_share() -> None:
    culprit = Culprit(kind="allocation", name="remember", location="a.js:3", bytes=2 * 1024 * 1024)
    assert json.loads(culprit.model_dump_json()) == {
        "kind": "allocation",
        "name": "remember",
        "location": "a.js:3",
        "bytes": 2 * 1024 * 1024,
    }


def test_the_flame_graph_is_drawn_from_merged_stacks() -> None:
    stacks = (FlameStack(frames=("a", "b"), weight=3), FlameStack(frames=("a", "c"), weight=1))
    root = merge(stacks)
    assert root.weight == 4
    assert root.children["a"].weight == 4
    assert {name: node.weight for name, node in root.children["a"].children.items()} == {
        "b": 3,
        "c": 1,
    }
    spec = flame_spec(hostile_evidence())
    assert spec is not None
    png = render_flame_png(spec)  # names with $ and < must not break the drawing
    assert png.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("instance", "host"),
    [
        ("10.0.0.5:9464", "10.0.0.5"),
        ("[fd00::5]:9464", "fd00::5"),
        ("web-1.internal", "web-1.internal"),
    ],
)
def test_the_host_comes_from_the_instance_label(instance: str, host: str) -> None:
    assert host_of(instance) == host


@pytest.mark.parametrize("instance", ["evil/../x:1", "a b:1", "http://x:1", "", "x" * 300])
def test_odd_instance_labels_are_refused(instance: str) -> None:
    with pytest.raises(NoInstance):
        host_of(instance)


def test_per_instance_queries_follow_the_convention() -> None:
    otel = frozenset({"v8js_memory_heap_used", "nodejs_eventloop_delay_p99"})
    expr = per_instance_expr(otel, service(9230), Signal.HEAP_USED, "1m")
    assert expr is not None
    assert expr.text == 'sum by (instance) (v8js_memory_heap_used{job="checkout"})'
    missing: Sequence[str] = ()
    assert per_instance_expr(frozenset(missing), service(9230), Signal.HEAP_USED, "1m") is None


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=120), script=st.text(max_size=120), instance=st.text(max_size=60))
def test_no_text_from_the_process_becomes_a_slack_control_sequence(
    name: str, script: str, instance: str
) -> None:
    row = ProfiledFunction(name=name, location=f"{script}:1", self_share=0.5, total_share=0.5)
    culprit = Culprit(kind="function", name=name, location=f"{script}:1", share=0.5)
    captured = ProfileEvidence(
        kind="cpu",
        captured=True,
        instance=instance,
        seconds=1,
        top_self=(row,),
        culprits=(culprit,),
    )
    refused = ProfileEvidence(kind="heap", captured=False, reason=f"cannot reach {instance}")
    for evidence in (captured, refused):
        assert unsafe_sequences(profile_note(evidence)) == []
