"""Every check kind the playbooks may name, keyed by `kind`.

Adding a kind: write one module with a `CheckKind` subclass and add it to `_KINDS` below.
"""

from __future__ import annotations

from typing import Any

from bot.triage.checks.active_handles import ActiveHandles
from bot.triage.checks.base import CheckKind
from bot.triage.checks.cpu_saturation import CpuSaturation
from bot.triage.checks.cpu_starvation import CpuStarvation
from bot.triage.checks.db_calls import DbCallsPerRequest
from bot.triage.checks.db_latency import DbLatency
from bot.triage.checks.db_pool import DbPool
from bot.triage.checks.db_pool_held import DbPoolHeld
from bot.triage.checks.downstream_errors import DownstreamErrors
from bot.triage.checks.downstream_latency import DownstreamLatency
from bot.triage.checks.eventloop_lag import EventLoopLag
from bot.triage.checks.gc_time import GcTime
from bot.triage.checks.heap_growth import HeapGrowth
from bot.triage.checks.k8s_capacity import Capacity
from bot.triage.checks.k8s_cpu_throttling import CpuThrottling
from bot.triage.checks.k8s_restarts import PodRestarts
from bot.triage.checks.native_memory import NativeMemory
from bot.triage.checks.outbound_fanout import OutboundFanout
from bot.triage.checks.pg_locks import PgLocks
from bot.triage.checks.pg_plans import PgPlans
from bot.triage.checks.pg_sessions import PgSessions
from bot.triage.checks.pg_statements import PgStatements
from bot.triage.checks.promql_threshold import PromqlThreshold
from bot.triage.checks.recent_changes import RecentChanges
from bot.triage.checks.scrape_targets import ScrapeTargets
from bot.triage.checks.slo_errors import SloErrors
from bot.triage.checks.slo_latency import SloLatency
from bot.triage.checks.slowest_downstream import SlowestDownstream
from bot.triage.checks.slowest_endpoint import SlowestEndpoint

_KINDS: tuple[CheckKind[Any], ...] = (
    SloLatency(),
    SloErrors(),
    SlowestEndpoint(),
    SlowestDownstream(),
    ScrapeTargets(),
    EventLoopLag(),
    CpuSaturation(),
    DbPool(),
    DbLatency(),
    DbCallsPerRequest(),
    DbPoolHeld(),
    PgStatements(),
    PgPlans(),
    PgLocks(),
    PgSessions(),
    DownstreamLatency(),
    DownstreamErrors(),
    OutboundFanout(),
    HeapGrowth(),
    NativeMemory(),
    GcTime(),
    ActiveHandles(),
    PromqlThreshold(),
    RecentChanges(),
    CpuThrottling(),
    PodRestarts(),
    Capacity(),
    CpuStarvation(),
)

REGISTRY: dict[str, CheckKind[Any]] = {kind.kind: kind for kind in _KINDS}
