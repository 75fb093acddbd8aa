"""Write the recordings of services that run as several instances (pods), for the scope,
Kubernetes and what-changed tests (run from the repository root).

    .venv/bin/python -m tests.triage.recordings.generate_fleet

Process-level signals get one series per pod (labelled as the triage fetches them:
job, instance, namespace, pod); service-level ones (traffic, latency, dependencies) stay one
series for the service. Each scenario starts from the healthy service of `generate.py` and
changes some pods, all of them, or the service. Seeds are fixed.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

from tests.triage.recordings.generate import (
    HERE,
    TIMES,
    Shape,
    flat,
    healthy,
    sawtooth,
    spiky,
)

PODS = ("shop-6d8f9-a1", "shop-6d8f9-b2", "shop-6d8f9-c3")
PER_POD = frozenset(
    {
        "eventloop_lag_p99",
        "eventloop_lag_max",
        "cpu_cores",
        "heap_used",
        "heap_total",
        "rss",
        "external_memory",
        "gc_time_ratio",
        "active_handles",
        "db_pool_used",
        "db_pool_max",
        "db_pool_pending",
        *("eventloop_utilization", "cpu_throttled_ratio", "cpu_limit_cores"),
        *("container_cpu_cores", "memory_working_set", "memory_limit", "pod_restarts"),
        *("pod_oom_killed", "pod_crash_loop", "pod_ready"),
    }
)
MIB = 1_048_576
POINT = re.compile(r"\[\s+(-?[\d.e+-]+),\s+(-?[\d.e+-]+)\s+\]")  # one [t, v] per line


def kubernetes() -> dict[str, Shape]:
    """A healthy pod as cAdvisor and kube-state-metrics see it (2-core, 512 MiB limits)."""
    return {
        "cpu_throttled_ratio": flat(0.01, 0.5),
        "cpu_limit_cores": flat(2, 0),
        "container_cpu_cores": flat(0.27, 0.2),
        "memory_working_set": flat(150 * MIB, 0.02),
        "memory_limit": flat(512 * MIB, 0),
        "pod_restarts": flat(0, 0),
        "pod_oom_killed": flat(0, 0),
        "pod_crash_loop": flat(0, 0),
        "pod_ready": flat(1, 0),
    }


def autoscaler(current: float, most: float) -> dict[str, list[dict[str, Any]]]:
    labels = {"namespace": "prod", "horizontalpodautoscaler": "shop"}
    return {
        "hpa_current_replicas": [{"labels": labels, "points": [[t, current] for t in TIMES]}],
        "hpa_max_replicas": [{"labels": labels, "points": [[t, most] for t in TIMES]}],
    }


def steps(*at: float) -> Shape:
    """A counter that goes up by one at each of `at` (seconds before the window's end)."""
    return lambda t, _rng: float(sum(1 for when in at if t >= when))


Changes = dict[str, Shape]


def pod_labels(index: int, pod: str) -> dict[str, str]:
    return {"job": "shop", "instance": f"10.1.0.{index + 10}:3000", "namespace": "prod", "pod": pod}


def from_time(start: float, before: Shape, after: Shape) -> Shape:
    """`before` until `start` seconds (relative to the window's end), then `after`."""
    return lambda t, rng: after(t, rng) if t >= start else before(t, rng)


def points(shape: Shape, rng: random.Random) -> list[list[float]]:
    return [[t, round(shape(t, rng), 6)] for t in TIMES]


def build(spec: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    base: dict[str, Any] = healthy() | (kubernetes() if spec.get("kubernetes") else {})
    service: Changes = spec.get("service", {})
    pods: dict[str, Changes] = spec.get("pods", {})
    signals: dict[str, list[dict[str, Any]]] = {}
    for changes in pods.values():  # pod-only signals (utilisation) the base service lacks
        base |= {key: shape for key, shape in changes.items() if key not in base}
    for signal, shape in base.items():
        if signal in PER_POD:
            signals[signal] = [
                {
                    "labels": pod_labels(index, pod),
                    "points": points(pods.get(pod, {}).get(signal, shape), rng),
                }
                for index, pod in enumerate(PODS)
            ]
        elif isinstance(shape, dict):
            signals[signal] = [
                {"labels": {"server_address": dep}, "points": points(dep_shape, rng)}
                for dep, dep_shape in (service.get(signal) or shape).items()  # type: ignore[union-attr]
            ]
        else:
            signals[signal] = [{"labels": {}, "points": points(service.get(signal, shape), rng)}]
    recording: dict[str, Any] = {
        "service": "shop",
        "selector": '{job="shop"}',
        "expect": spec["expect"],
        "signals": signals,
    }
    for extra in ("expect_scope", "custom", "note"):
        if extra in spec:
            recording[extra] = spec[extra]
    signals |= spec.get("extra_signals", {})
    return recording


def start_times(restart_at: float | None) -> list[dict[str, Any]]:
    """Each pod's process start time; with `restart_at`, every pod restarts then."""
    old = -3600.0
    return [
        {
            "labels": pod_labels(index, pod),
            "values_relative_to_end": True,
            "points": [
                [t, restart_at if restart_at is not None and t >= restart_at else old]
                for t in TIMES
            ],
        }
        for index, pod in enumerate(PODS)
    ]


def versions(switch_at: float, old: str, new: str) -> list[dict[str, Any]]:
    """`target_info` per pod: `old` until `switch_at`, `new` from then on."""
    found = []
    spans: tuple[tuple[str, Callable[[float], bool]], ...] = (
        (old, lambda t: t < switch_at),
        (new, lambda t: t >= switch_at),
    )
    for index, pod in enumerate(PODS):
        for version, keep in spans:
            labels = pod_labels(index, pod) | {"service_version": version}
            found.append({"labels": labels, "points": [[t, 1] for t in TIMES if keep(t)]})
    return found


DEPLOY_AT = -300.0
BLOCKED: Changes = {
    "eventloop_lag_p99": flat(0.34),
    "eventloop_lag_max": spiky(0.4, 0.9),
    "cpu_cores": flat(0.55),
}
THROTTLED: Changes = {
    "eventloop_lag_p99": flat(0.24),
    "eventloop_lag_max": flat(0.3, 0.2),
    "cpu_cores": flat(0.46, 0.05),
    "eventloop_utilization": flat(0.5, 0.1),
    "cpu_throttled_ratio": flat(0.62, 0.1),
    "cpu_limit_cores": flat(0.5, 0),
    "container_cpu_cores": flat(0.49, 0.02),
}
SATURATED: Changes = {
    "cpu_cores": flat(0.95, 0.03),
    "container_cpu_cores": flat(0.97, 0.03),
    "eventloop_lag_p99": flat(0.06),
}
BEFORE: dict[str, Any] = healthy()
HEALTHY_POD: Changes = {key: BEFORE[key] for key in BLOCKED}
SLOW_SERVICE: Changes = {"latency_p99": flat(0.9), "latency_p95": flat(0.5)}

BLOCKED_AFTER_DEPLOY: Changes = {
    key: from_time(DEPLOY_AT, base, BLOCKED[key]) for key, base in HEALTHY_POD.items()
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "event_loop_blocked_one_pod": {
        "expect": "event_loop_blocked",
        "expect_scope": {"instances_total": 3, "instances_affected": [PODS[1]]},
        "pods": {PODS[1]: BLOCKED},
        "service": SLOW_SERVICE,
    },
    "event_loop_blocked_after_deploy": {
        "expect": "event_loop_blocked",
        "expect_scope": {"instances_total": 3, "instances_affected": list(PODS)},
        "pods": dict.fromkeys(PODS, BLOCKED_AFTER_DEPLOY),
        "service": {k: from_time(DEPLOY_AT, BEFORE[k], v) for k, v in SLOW_SERVICE.items()},
        "custom": {
            "changes:start": start_times(DEPLOY_AT),
            "changes:target_info": versions(DEPLOY_AT, "1.4.2", "1.5.0"),
        },
    },
    "event_loop_blocked_before_restart": {
        "expect": "event_loop_blocked",
        "pods": dict.fromkeys(PODS, BLOCKED),
        "service": SLOW_SERVICE,
        "custom": {
            "changes:start": start_times(DEPLOY_AT),
            "changes:target_info": versions(DEPLOY_AT, "1.4.2", "1.5.0"),
        },
    },
    "healthy_on_kubernetes": {
        "expect": "healthy",
        "kubernetes": True,
        "extra_signals": autoscaler(3, 10),
    },
    "event_loop_blocked_not_throttled": {
        "expect": "event_loop_blocked",
        "kubernetes": True,
        "pods": dict.fromkeys(PODS, BLOCKED | {"container_cpu_cores": flat(0.56)}),
        "service": SLOW_SERVICE,
        "extra_signals": autoscaler(3, 10),
    },
    "cpu_throttled": {
        "expect": "cpu_throttled",
        "expect_scope": {"instances_total": 3, "instances_affected": list(PODS)},
        "kubernetes": True,
        "pods": dict.fromkeys(PODS, THROTTLED),
        "service": SLOW_SERVICE,
        "extra_signals": autoscaler(3, 10),
    },
    "cpu_throttled_busy_sub_core": {
        "expect": "cpu_throttled",
        "kubernetes": True,
        "pods": dict.fromkeys(PODS, THROTTLED | {"eventloop_utilization": flat(0.97, 0.02)}),
        "service": SLOW_SERVICE,
        "extra_signals": autoscaler(3, 10),
    },
    "oom_killed": {
        "expect": "oom_killed",
        "expect_scope": {"instances_total": 3, "instances_affected": [PODS[1]]},
        "kubernetes": True,
        "pods": {
            PODS[1]: {
                "pod_restarts": steps(-420, -180),
                "pod_oom_killed": steps(-420),
                "memory_working_set": sawtooth(flat(300 * MIB, 0.01), 200 * MIB),
            }
        },
        "service": {"error_ratio": flat(0.03, 0.2)},
        "extra_signals": autoscaler(3, 10),
    },
    "crash_looping": {
        "expect": "crash_looping",
        "expect_scope": {"instances_total": 3, "instances_affected": [PODS[2]]},
        "kubernetes": True,
        "pods": {
            PODS[2]: {
                "pod_restarts": steps(-540, -480, -390, -240, -30),
                "pod_crash_loop": from_time(-480, flat(0, 0), flat(1, 0)),
                "pod_ready": flat(0, 0),
            }
        },
        "service": {"error_ratio": flat(0.04, 0.2)},
        "extra_signals": autoscaler(3, 10),
    },
    "capacity_exhausted": {
        "expect": "capacity_exhausted",
        "expect_scope": {"instances_total": 3, "instances_affected": list(PODS)},
        "kubernetes": True,
        "pods": dict.fromkeys(PODS, SATURATED),
        "service": {"request_rate": flat(95), "latency_p99": flat(0.7), "latency_p95": flat(0.35)},
        "extra_signals": autoscaler(10, 10),
    },
    "cpu_starved": {
        "expect": "cpu_starved",
        "expect_scope": {"instances_total": 3, "instances_affected": [PODS[0]]},
        "kubernetes": True,
        "pods": {
            PODS[0]: {
                "eventloop_lag_p99": flat(0.22),
                "eventloop_lag_max": flat(0.4, 0.2),
                "cpu_cores": flat(0.12, 0.2),
                "container_cpu_cores": flat(0.13, 0.2),
            }
        },
        "service": SLOW_SERVICE,
        "extra_signals": autoscaler(3, 10),
    },
    "event_loop_blocked_all_pods": {
        "expect": "event_loop_blocked",
        "expect_scope": {"instances_total": 3, "instances_affected": list(PODS)},
        "pods": dict.fromkeys(PODS, BLOCKED),
        "service": SLOW_SERVICE,
    },
}


def main() -> None:
    for seed, (name, spec) in enumerate(SCENARIOS.items(), start=100):
        text = POINT.sub(r"[\1, \2]", json.dumps(build(spec, seed), indent=1)) + "\n"
        (HERE / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
