"""Kubernetes signals for a service: cAdvisor and kube-state-metrics series of its own pods.

Those series are not selected by the service's matchers: they come from the kubelet and from
kube-state-metrics, labelled `namespace` and `pod`. They are joined to the service through
the pods its own series name (`namespace_label` / `pod_label` in the catalog, e.g.
`kubernetes_namespace` / `kubernetes_pod_name` for plain Prometheus service discovery):

    sum by (namespace, pod) (container_memory_working_set_bytes{container!="",container!="POD"})
      and on (namespace, pod) <the service's own runtime series, labels copied to those names>

and the answer carries the pod's name under `pod_label` again, so per-instance readings line
up with the service's own series. Nothing here inserts a value into PromQL except through
the builder (the HPA's name, from the catalog, is quoted by it). Where the series do not
exist the queries return nothing and the checks that read them are not measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.sources.promql import (
    Expr,
    Matcher,
    Selector,
    aggregate,
    binary,
    copied_label,
    duration,
    matching,
    rate,
    sum_by,
)
from bot.sources.signals import Signal

POD = ("namespace", "pod")
# The service's own series that say which pods it runs in (runtime metrics every convention has).
RUNTIME_NAMES = "up|process_.+|nodejs_.+|v8js_.+"
APP_CONTAINERS = (Matcher.ne("container", ""), Matcher.ne("container", "POD"))


@dataclass(frozen=True)
class PodScope:
    matchers: tuple[Matcher, ...]
    window: str
    namespace_label: str = "namespace"
    pod_label: str = "pod"
    hpa: str | None = None  # the HorizontalPodAutoscaler's name, if it differs from the service


def kubernetes_expressions(scope: PodScope) -> Mapping[Signal, str]:
    """PromQL per Kubernetes signal, joined to the service's pods."""
    per_pod: dict[Signal, Expr] = {
        Signal.CPU_THROTTLED_RATIO: binary(
            _container_rate("container_cpu_cfs_throttled_periods_total", scope),
            "/",
            _container_rate("container_cpu_cfs_periods_total", scope),
        ),
        Signal.CPU_LIMIT_CORES: sum_by(
            binary(
                _container("container_spec_cpu_quota"), "/", _container("container_spec_cpu_period")
            ),
            POD,
        ),
        Signal.CONTAINER_CPU_CORES: _container_rate("container_cpu_usage_seconds_total", scope),
        Signal.MEMORY_WORKING_SET: sum_by(_container("container_memory_working_set_bytes"), POD),
        Signal.MEMORY_LIMIT: sum_by(_container("container_spec_memory_limit_bytes"), POD),
        Signal.POD_RESTARTS: sum_by(Selector("kube_pod_container_status_restarts_total"), POD),
        Signal.POD_OOM_KILLED: _reason(
            "kube_pod_container_status_last_terminated_reason", "OOMKilled"
        ),
        Signal.POD_CRASH_LOOP: _reason(
            "kube_pod_container_status_waiting_reason", "CrashLoopBackOff"
        ),
        Signal.POD_READY: aggregate(
            "max", Selector("kube_pod_status_ready", (Matcher.eq("condition", "true"),)), POD
        ),
        Signal.POD_IMAGE: aggregate(
            "max", Selector("kube_pod_container_info", APP_CONTAINERS), (*POD, "image")
        ),
    }
    found = {signal: str(_of_service_pods(expr, scope)) for signal, expr in per_pod.items()}
    found |= {signal: str(expr) for signal, expr in _workload(scope).items()}
    return found


def _container(metric: str) -> Selector:
    return Selector(metric, APP_CONTAINERS)


def _container_rate(metric: str, scope: PodScope) -> Expr:
    return sum_by(rate(_container(metric), scope.window), POD)


def _reason(metric: str, reason: str) -> Expr:
    return aggregate("max", Selector(metric, (Matcher.eq("reason", reason),)), POD)


def service_pods(scope: PodScope) -> Expr:
    """The service's own runtime series, with its namespace and pod also under the names the
    Kubernetes exporters use."""
    own = Selector(
        None,
        (
            *scope.matchers,
            Matcher.regex("__name__", RUNTIME_NAMES),
            Matcher.ne(scope.pod_label, ""),
        ),
    ).expr()
    named = copied_label(
        copied_label(own, "namespace", scope.namespace_label), "pod", scope.pod_label
    )
    return aggregate("max", named, POD)


def _of_service_pods(expr: Expr, scope: PodScope) -> Expr:
    joined = matching(expr, "and", service_pods(scope), POD)
    return copied_label(joined, scope.pod_label, "pod")


def _service_namespaces(scope: PodScope) -> Expr:
    return aggregate("max", service_pods(scope), ("namespace",))


def _workload(scope: PodScope) -> dict[Signal, Expr]:
    """The HPA (by name, in the service's namespaces) and the ReplicaSets owning its pods."""
    hpa: Sequence[Matcher] = ()
    if scope.hpa:
        hpa = (Matcher.eq("horizontalpodautoscaler", scope.hpa),)
    in_namespace = ("namespace",)

    def autoscaler(metric: str) -> Expr:
        return matching(
            Selector(metric, tuple(hpa)), "and", _service_namespaces(scope), in_namespace
        )

    owners = Selector("kube_pod_owner", (Matcher.eq("owner_kind", "ReplicaSet"),))
    owned = copied_label(
        matching(owners, "and", service_pods(scope), POD), "replicaset", "owner_name"
    )
    return {
        Signal.HPA_CURRENT_REPLICAS: autoscaler(
            "kube_horizontalpodautoscaler_status_current_replicas"
        ),
        Signal.HPA_MAX_REPLICAS: autoscaler("kube_horizontalpodautoscaler_spec_max_replicas"),
        Signal.REPLICASET_CREATED: matching(
            Selector("kube_replicaset_created"), "and", owned, ("namespace", "replicaset")
        ),
    }


def pod_scope(
    matchers: Sequence[Matcher],
    window: str | float,
    namespace_label: str,
    pod_label: str,
    hpa: str | None,
) -> PodScope:
    return PodScope(tuple(matchers), duration(window), namespace_label, pod_label, hpa)
