"""The bot's client against the real agent in a Node.js process, and against peers that
misbehave (silent, oversized, redirecting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import SecretStr

from bot.profiling.agent_client import MAX_ANSWER_BYTES, AgentClient, AgentProblem
from bot.profiling.culprits import cpu_evidence, heap_evidence
from lab.procs import free_port
from tests.profiling.conftest import AgentProcess, wait_until_capturing

TOKEN_ENV = "CHECKOUT_AGENT_TOKEN"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_for(session: aiohttp.ClientSession, url: str, token: str) -> AgentClient:
    return AgentClient(session, url, SecretStr(token), token_env=TOKEN_ENV)


async def test_cpu_profile_names_the_burning_function(
    cpu_agent: AgentProcess, session: aiohttp.ClientSession
) -> None:
    summary = await client_for(session, cpu_agent.url, cpu_agent.token).cpu_profile(1)
    evidence = cpu_evidence(summary, "127.0.0.1:1")
    top = evidence.culprits[0]
    line = cpu_agent.line_of("spinPricing starts here")
    assert (top.kind, top.name, top.location) == (
        "function",
        "spinPricing",
        f"{cpu_agent.script}:{line}",
    )
    assert top.share is not None
    assert top.share > 0.5
    assert any(
        "spinPricing hot_service.js" in frame for stack in evidence.flame for frame in stack.frames
    )


async def test_heap_profile_names_the_growing_allocation_site(
    leak_agent: AgentProcess, session: aiohttp.ClientSession
) -> None:
    summary = await client_for(session, leak_agent.url, leak_agent.token).heap_profile(2)
    evidence = heap_evidence(summary, "127.0.0.1:1")
    top = evidence.culprits[0]
    line = leak_agent.line_of("rememberSessions starts here")
    assert (top.kind, top.name, top.location) == (
        "allocation",
        "rememberSessions",
        f"{leak_agent.script}:{line}",
    )
    assert top.bytes is not None
    assert top.bytes > 0


async def test_a_wrong_token_names_the_variable_never_the_token(
    idle_agent: AgentProcess, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(AgentProblem) as refused:
        await client_for(session, idle_agent.url, "not-the-token-at-all-0000").cpu_profile(1)
    assert TOKEN_ENV in str(refused.value)
    assert "not-the-token-at-all" not in str(refused.value)


async def test_a_busy_agent_is_reported_as_busy(
    idle_agent: AgentProcess, session: aiohttp.ClientSession
) -> None:
    client = client_for(session, idle_agent.url, idle_agent.token)
    first = asyncio.ensure_future(client.cpu_profile(2))
    await wait_until_capturing(session, idle_agent)
    with pytest.raises(AgentProblem, match="busy with another capture"):
        await client.heap_profile(1)
    assert (await first).seconds == 2


async def test_an_unreachable_agent_says_how_to_load_it(session: aiohttp.ClientSession) -> None:
    with pytest.raises(
        AgentProblem, match=r"cannot reach the agent .*--require agent/register\.js"
    ):
        await client_for(session, f"http://127.0.0.1:{free_port()}", "x" * 20).cpu_profile(1)


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_a_silent_agent_times_out(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.profiling.agent_client.ANSWER_MARGIN_SECONDS", 0.3)
    stop = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        await stop.wait()
        return web.Response()

    runner, url = await serve(silent)
    try:
        with pytest.raises(AgentProblem, match=r"did not answer within 0\.4 s"):
            await client_for(session, url, "x" * 20).cpu_profile(0.1)
    finally:
        stop.set()
        await runner.cleanup()


async def test_an_oversized_or_unreadable_answer_is_refused(session: aiohttp.ClientSession) -> None:
    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"[" + b"1," * MAX_ANSWER_BYTES + b"1]")

    async def garbage(request: web.Request) -> web.Response:
        return web.json_response({"samples": "many"})

    for handler, problem in ((huge, "more than"), (garbage, "cannot read")):
        runner, url = await serve(handler)
        try:
            with pytest.raises(AgentProblem, match=problem):
                await client_for(session, url, "x" * 20).cpu_profile(0.1)
        finally:
            await runner.cleanup()


async def test_a_redirect_is_not_followed_with_the_token(session: aiohttp.ClientSession) -> None:
    seen: list[str | None] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    target, target_url = await serve(elsewhere)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{target_url}/steal")

    runner, url = await serve(redirect)
    try:
        with pytest.raises(AgentProblem, match="HTTP 302"):
            await client_for(session, url, "x" * 20).cpu_profile(0.1)
        assert seen == []
    finally:
        await runner.cleanup()
        await target.cleanup()
