"""Who may press incident buttons and run on-call commands.

The catalog's `permissions` section names, per command or button, `owners` (the service's
owners' user group plus the admins), `admins` or `everyone`:

    decision = await permissions.check(user_id, "ack", owners_group=service.owners)
    if not decision.allowed:
        print(f"Only {decision.who_may} can do that")
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from slack_sdk.errors import SlackApiError

from bot.catalog import CommandPermissions
from bot.slack.client import BotWebClient
from bot.slack.render.text import group_mention, mention

log = structlog.get_logger(__name__)

GROUP_CACHE_SECONDS = 300.0
GROUP_CACHE_MAX = 512


@dataclass(frozen=True)
class Decision:
    allowed: bool
    who_may: str = ""


class Permissions:
    def __init__(
        self,
        client: BotWebClient,
        admins: Sequence[str],
        rules: CommandPermissions | None = None,
    ) -> None:
        self._client = client
        self._admins = frozenset(admins)
        self._rules = rules or CommandPermissions()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def check(self, user_id: str, action: str, owners_group: str | None) -> Decision:
        """Apply the catalog's rule for `action` (e.g. "ack", "triage", "incident_note")."""
        rule = self._rules.required(action)
        if rule == "everyone":
            return Decision(True)
        if rule == "admins":
            return self._admins_only(user_id)
        return await self.may_act(user_id, owners_group)

    def _admins_only(self, user_id: str) -> Decision:
        if not self._admins or user_id in self._admins:
            return Decision(True)
        return Decision(False, self._describe(None))

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
        who = [f"members of {group_mention(owners_group)}"] if owners_group else []
        if self._admins:
            who.append("the admins " + ", ".join(mention(a) for a in sorted(self._admins)))
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
