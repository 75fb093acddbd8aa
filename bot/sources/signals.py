"""Names of the service-level signals the checks read, in one normalised unit each.

Conventions (prom-client, OpenTelemetry with and without unit suffixes) and per-service
overrides map each signal to a PromQL expression; checks only ever ask for signals by name.
"""

from __future__ import annotations

from enum import StrEnum


class Signal(StrEnum):
    REQUEST_RATE = "request_rate"  # requests per second
    ERROR_RATIO = "error_ratio"  # share of 5xx answers, 0..1
    LATENCY_P50 = "latency_p50"  # seconds
    LATENCY_P95 = "latency_p95"  # seconds
    LATENCY_P99 = "latency_p99"  # seconds
    INFLIGHT_REQUESTS = "inflight_requests"  # count
    EVENTLOOP_LAG_P99 = "eventloop_lag_p99"  # seconds
    EVENTLOOP_LAG_MAX = "eventloop_lag_max"  # seconds
    EVENTLOOP_UTILIZATION = "eventloop_utilization"  # 0..1
    CPU_CORES = "cpu_cores"  # cores busy (rate of CPU seconds)
    HEAP_USED = "heap_used"  # bytes
    HEAP_TOTAL = "heap_total"  # bytes
    EXTERNAL_MEMORY = "external_memory"  # bytes
    RSS = "rss"  # bytes
    GC_TIME_RATIO = "gc_time_ratio"  # share of wall time spent in GC, 0..1
    GC_PAUSE_P99 = "gc_pause_p99"  # seconds, the 99th percentile of one collection's pause
    ACTIVE_HANDLES = "active_handles"  # count
    DB_POOL_USED = "db_pool_used"  # connections in use
    DB_POOL_MAX = "db_pool_max"  # pool size
    DB_POOL_PENDING = "db_pool_pending"  # requests waiting for a connection
    DB_OP_P99 = "db_op_p99"  # seconds
    DB_OP_RATE = "db_op_rate"  # database operations per second, the service's total
    DOWNSTREAM_P99 = "downstream_p99"  # seconds, one series per downstream
    DOWNSTREAM_RATE = "downstream_rate"  # calls per second, one series per downstream
    DOWNSTREAM_ERROR_RATIO = "downstream_error_ratio"  # 0..1, one series per downstream
    # Prometheus's own `up` for the service's scrape targets: 1 scraped, 0 the scrape failed.
    TARGET_UP = "target_up"
    # Kubernetes, per pod of the service (cAdvisor and kube-state-metrics; see
    # bot/sources/kubernetes.py). Empty where those series do not exist.
    CPU_THROTTLED_RATIO = "cpu_throttled_ratio"  # share of CFS periods throttled, 0..1
    CPU_LIMIT_CORES = "cpu_limit_cores"  # the container's CPU quota in cores
    CONTAINER_CPU_CORES = "container_cpu_cores"  # CPU the container used, cores
    MEMORY_WORKING_SET = "memory_working_set"  # bytes
    MEMORY_LIMIT = "memory_limit"  # bytes (0: no limit)
    POD_RESTARTS = "pod_restarts"  # container restarts so far (a counter)
    POD_OOM_KILLED = "pod_oom_killed"  # 1 while the last termination was an OOM kill
    POD_CRASH_LOOP = "pod_crash_loop"  # 1 while a container waits in CrashLoopBackOff
    POD_READY = "pod_ready"  # 1 while the pod is ready
    HPA_CURRENT_REPLICAS = "hpa_current_replicas"  # one series per HPA
    HPA_MAX_REPLICAS = "hpa_max_replicas"  # one series per HPA
    REPLICASET_CREATED = "replicaset_created"  # unix time, one series per ReplicaSet
    POD_IMAGE = "pod_image"  # 1 per (pod, image)
