"""`/digest preview [SERVICE]`: the weekly digest as it would read now, shown only to the caller.

Without SERVICE it covers the services that report to the channel the command is typed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.catalog import Catalog, Service
from bot.digest.compose import DigestComposer
from bot.digest.period import manual_period
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.common import (
    Invalid,
    Invocation,
    authorized,
    known_service,
    tell,
    unknown_subcommand,
)
from bot.slack.deps import Deps
from bot.slack.render.digest import preview_message
from bot.slack.render.text import code

USAGE = "\n".join(
    [
        "*`/digest preview [SERVICE]`* shows the weekly health digest as it would read now,",
        "only to you. Without a service it covers the services that report to this channel.",
        "",
        "Examples: `/digest preview`, `/digest preview checkout`, `/digest help`",
    ]
)
SUBCOMMANDS = ("preview", "help")


def accept(deps: Deps, call: Invocation) -> Accepted:
    service = parse(deps, call)
    scope = code(service.name) if service else "this channel"
    return Accepted(
        f":newspaper: Building the weekly digest for {scope}; only you will see it…",
        "The digest preview",
        lambda: preview(deps, call, service),
    )


def parse(deps: Deps, call: Invocation) -> Service | None:
    verb, args = call.words[0].lower(), call.words[1:]
    if verb != "preview":
        raise unknown_subcommand(verb, SUBCOMMANDS, USAGE)
    if len(args) > 1:
        raise Invalid(f"`/digest preview` takes one service at most.\n\n{USAGE}")
    return known_service(deps, args[0], USAGE) if args else None


async def preview(deps: Deps, call: Invocation, service: Service | None) -> None:
    owners = service.owners if service else None
    if not await authorized(deps, call, "digest_preview", owners):
        return
    if deps.prometheus is None:
        await tell(call.respond, "The digest needs Prometheus: set PROMETHEUS_URL for the bot.")
        return
    channel, catalog = scope_of(deps.catalog, call.channel, service)
    composer = DigestComposer(
        catalog,
        deps.prometheus,
        incidents=deps.incidents.repository,
        charts=False,
        grading=deps.grading,
    )
    if not composer.services_in(channel):
        names = ", ".join(code(n) for n in sorted(deps.catalog.services)[:10]) or "none yet"
        await tell(
            call.respond,
            "No service reports to this channel. Try `/digest preview SERVICE` "
            f"(services: {names}).",
        )
        return
    period = manual_period(channel, deps.catalog.digest_for(channel), datetime.now(UTC))
    digest = await composer.build(period)
    shown = preview_message(digest)
    await tell(call.respond, shown.text, shown.blocks)


def scope_of(catalog: Catalog, here: str, service: Service | None) -> tuple[str, Catalog]:
    """The channel the digest is for, and the catalog to build it from (one service only
    when one is named)."""
    if service is None:
        return here, catalog
    channel = catalog.channel_for(service.name) or here
    only = service.model_copy(update={"channel": channel})
    return channel, catalog.model_copy(update={"services": {service.name: only}})


COMMAND = SlashCommand("/digest", USAGE, accept)
