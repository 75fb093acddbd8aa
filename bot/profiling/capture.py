"""When and how a triage takes a profile, and the shared limits around it.

    capture = ProfileCapture(store, http_session, tokens={"CHECKOUT_AGENT_TOKEN": SecretStr(...)})
    evidence = await capture.capture(service, "cpu", find_instance)

A CPU-type diagnosis (event loop blocked, CPU saturated, GC pressure) gets a short CPU profile
of the worst instance; a heap leak gets two heap readings some seconds apart. Every replica
shares the limits through the store: one capture per service at a time (a lock) and at most
`RATE_RUNS` per `RATE_SECONDS` (a rate slot). Never raises: what went wrong is the evidence's
`reason`, and the rest of the triage is unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import aiohttp
import structlog
from pydantic import SecretStr

from bot.catalog import Service
from bot.models import Cause
from bot.profiling.agent_client import AgentClient, AgentProblem
from bot.profiling.config import AgentConfig
from bot.profiling.culprits import cpu_evidence, heap_evidence
from bot.profiling.evidence import ProfileEvidence, ProfileKind
from bot.profiling.instances import NoInstance, host_of
from bot.sources.signals import Signal
from bot.store import keys
from bot.store.base import LeaseStore, StoreUnavailable, ValueStore

log = structlog.get_logger(__name__)

# The signal whose worst instance is profiled, per diagnosis that calls for a profile.
CPU_CAUSES: dict[Cause, Signal] = {
    "event_loop_blocked": Signal.EVENTLOOP_LAG_P99,
    "cpu_saturated": Signal.CPU_CORES,
    "gc_pressure": Signal.GC_TIME_RATIO,
}
HEAP_CAUSES: dict[Cause, Signal] = {"heap_leak": Signal.HEAP_USED}
RATE_RUNS = 3
RATE_SECONDS = 600.0
LOCK_MARGIN_SECONDS = 15.0

InstanceFinder = Callable[[Signal], Awaitable[str]]


class CaptureStore(ValueStore, LeaseStore, Protocol):
    """Rate slots and locks shared by every replica."""


def profile_for(cause: Cause) -> tuple[ProfileKind, Signal] | None:
    """The profile a diagnosis calls for, and the signal that picks the instance."""
    if cause in CPU_CAUSES:
        return "cpu", CPU_CAUSES[cause]
    if cause in HEAP_CAUSES:
        return "heap", HEAP_CAUSES[cause]
    return None


class ProfileCapture:
    def __init__(
        self,
        store: CaptureStore,
        session: Callable[[], aiohttp.ClientSession],
        tokens: Mapping[str, SecretStr],
    ) -> None:
        self._store = store
        self._session = session
        self._tokens = dict(tokens)

    async def capture(
        self, service: Service, kind: ProfileKind, signal: Signal, find_instance: InstanceFinder
    ) -> ProfileEvidence:
        try:
            return await self._capture(service, kind, signal, find_instance)
        except (AgentProblem, NoInstance, StoreUnavailable) as problem:
            return ProfileEvidence(kind=kind, captured=False, reason=str(problem))
        except Exception as error:  # a bug in the evidence must not end the triage
            log.exception("profile_capture_crashed", service=service.name)
            reason = f"the capture failed ({type(error).__name__})"
            return ProfileEvidence(kind=kind, captured=False, reason=reason)

    async def _capture(
        self, service: Service, kind: ProfileKind, signal: Signal, find_instance: InstanceFinder
    ) -> ProfileEvidence:
        config = service.agent
        if config is None:
            raise AgentProblem(
                f"{service.name} has no agent in the service catalog: load agent/register.js "
                "in the service and add agent: {port: 9230, token_env: …} to its entry"
            )
        token = self._token(config)
        seconds = config.cpu_seconds if kind == "cpu" else config.heap_seconds
        lock = keys.profile_capture(service.name)
        held = await self._store.acquire_lock(lock, seconds + LOCK_MARGIN_SECONDS)
        if held is None:
            raise AgentProblem(f"another profile of {service.name} is being taken")
        try:
            await self._take_rate_slot(service.name)
            instance = await find_instance(signal)
            client = AgentClient(
                self._session(),
                config.base_url(host_of(instance)),
                token,
                token_env=config.token_env,
            )
            if kind == "cpu":
                return cpu_evidence(await client.cpu_profile(seconds), instance)
            return heap_evidence(await client.heap_profile(seconds), instance)
        finally:
            await self._store.release_lock(lock, held)

    def _token(self, config: AgentConfig) -> SecretStr:
        token = self._tokens.get(config.token_env)
        if token is None:
            raise AgentProblem(
                f"{config.token_env} is not set: give the bot the token the service's agent "
                "was started with (TRIAGE_AGENT_TOKEN there)"
            )
        return token

    async def _take_rate_slot(self, service: str) -> None:
        wait = await self._store.take_rate_slot(keys.profile_rate(service), RATE_RUNS, RATE_SECONDS)
        if wait > 0:
            raise AgentProblem(
                f"{service} was profiled {RATE_RUNS} times in the last {RATE_SECONDS / 60:g} "
                f"minutes; the next profile is allowed in {wait:.0f} s"
            )
