"""Asking one agent for a profile over HTTP, with a deadline and a bounded answer.

    client = AgentClient(session, "http://10.0.0.5:9230", token, token_env="CHECKOUT_AGENT_TOKEN")
    summary = await client.cpu_profile(seconds=5)     # raises AgentProblem with the reason

Every failure becomes one `AgentProblem` whose message says what happened and what to do;
the token never appears in it.
"""

from __future__ import annotations

import json
from typing import TypeVar

import aiohttp
from pydantic import BaseModel, SecretStr, ValidationError

from bot.profiling.summaries import CpuSummary, HeapSummary

MAX_ANSWER_BYTES = 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 2.0
# On top of the capture itself: the agent reduces the profile and sends it.
ANSWER_MARGIN_SECONDS = 5.0

Answer = TypeVar("Answer", bound=BaseModel)


class AgentProblem(Exception):
    """The agent could not give a profile; the message is safe to show."""


class AgentClient:
    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: SecretStr, *, token_env: str
    ) -> None:
        self._session = session
        self._base_url = base_url
        self._token = token
        self._token_env = token_env

    async def cpu_profile(self, seconds: float) -> CpuSummary:
        return await self._capture("/v1/cpu-profile", seconds, CpuSummary)

    async def heap_profile(self, seconds: float) -> HeapSummary:
        return await self._capture("/v1/heap-profile", seconds, HeapSummary)

    async def _capture(self, path: str, seconds: float, model: type[Answer]) -> Answer:
        timeout = aiohttp.ClientTimeout(
            total=seconds + ANSWER_MARGIN_SECONDS, sock_connect=CONNECT_TIMEOUT_SECONDS
        )
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        url = f"{self._base_url}{path}"
        try:
            async with self._session.post(
                url,
                params={"seconds": f"{seconds:g}"},
                headers=headers,
                timeout=timeout,
                allow_redirects=False,  # the token goes to the agent and nowhere else
            ) as response:
                self._refuse_by_status(response.status)
                body = await _read_bounded(response.content, MAX_ANSWER_BYTES)
        except TimeoutError:
            raise AgentProblem(
                f"the agent at {self._base_url} did not answer within "
                f"{seconds + ANSWER_MARGIN_SECONDS:g} s"
            ) from None
        except aiohttp.ClientError as error:
            raise AgentProblem(
                f"cannot reach the agent at {self._base_url} ({type(error).__name__}): is the "
                "service started with --require agent/register.js and TRIAGE_AGENT_HOST set "
                "to an address the bot can reach?"
            ) from None
        return _parse(body, model, self._base_url)

    def _refuse_by_status(self, status: int) -> None:
        if status == 200:
            return
        if status == 401:
            raise AgentProblem(
                f"the agent at {self._base_url} refused the token in {self._token_env}: give "
                "the bot and the service the same TRIAGE_AGENT_TOKEN value"
            )
        if status == 429:
            raise AgentProblem(f"the agent at {self._base_url} is busy with another capture")
        raise AgentProblem(f"the agent at {self._base_url} answered HTTP {status}")


async def _read_bounded(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """At most `limit` + 1 bytes: one more than allowed tells the answer was too long."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _parse(body: bytes, model: type[Answer], base_url: str) -> Answer:
    if len(body) > MAX_ANSWER_BYTES:
        raise AgentProblem(f"the agent at {base_url} sent more than {MAX_ANSWER_BYTES} bytes")
    try:
        return model.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise AgentProblem(f"the agent at {base_url} sent an answer the bot cannot read") from None
