"""Who may press incident buttons and run on-call commands: the service's owners' user group
and the configured admins."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from slack_sdk.errors import SlackApiError

from bot.slack.client import BotWebClient

log = structlog.get_logger(__name__)

GROUP_CACHE_SECONDS = 300.0
GROUP_CACHE_MAX = 512


@dataclass(frozen=True)
class Decision:
    allowed: bool
    who_may: str = ""


class Permissions:
    def __init__(self, client: BotWebClient, admins: Sequence[str]) -> None:
        self._client = client
        self._admins = frozenset(admins)
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def may_act(self, user_id: str, owners_group: str | None) -> Decision:
        """Admins always may, and members of the service's owners' group. A service without
        owners is the admins' alone; with no admins configured either, anyone may."""
        if user_id in self._admins:
            return Decision(True)
        if owners_group is None:
            return Decision(not self._admins, self._describe(None))
        if user_id in await self._members(owners_group):
            return Decision(True)
        return Decision(False, self._describe(owners_group))

    def _describe(self, owners_group: str | None) -> str:
        who = [f"members of <!subteam^{owners_group}>"] if owners_group else []
        if self._admins:
            who.append("the admins " + ", ".join(f"<@{a}>" for a in sorted(self._admins)))
        return " or ".join(who)

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self._client.usergroups_users_list(usergroup=group)
            members = frozenset(str(u) for u in response.get("users") or [])
        except SlackApiError as error:
            log.warning(
                "could not read the owners' group", group=group, error=error.response.get("error")
            )
            members = frozenset()
        if len(self._groups) >= GROUP_CACHE_MAX:
            self._groups.clear()
        self._groups[group] = (time.monotonic() + GROUP_CACHE_SECONDS, members)
        return members
