"""`/triage SERVICE profile [cpu|heap]`: take a profile of the service's worst instance now.

The answer is one channel message (the culprits, or why no profile could be taken) with the
flame graph in its thread. The capture obeys the same shared limits as the triage's own: one
per service at a time, a few per ten minutes.
"""

from __future__ import annotations

import base64
import uuid

from bot.catalog import Service
from bot.outbox.ops import Post, Upload
from bot.profiling.evidence import ProfileEvidence, ProfileKind
from bot.profiling.flame import flame_spec, render_flame_async
from bot.slack.commands.base import Accepted
from bot.slack.commands.common import Invalid, Invocation, authorized, known_service, tell
from bot.slack.deps import Deps
from bot.slack.render.profile import profile_note
from bot.slack.render.text import code, escape
from bot.sources.base import MetricsUnavailable

PROFILE_WORD = "profile"
KINDS: dict[str, ProfileKind] = {"cpu": "cpu", "heap": "heap"}
USAGE = (
    "*`/triage SERVICE profile [cpu|heap]`* takes a profile of the service's busiest instance "
    "through its agent: a CPU profile (default) or two heap readings, then names the functions "
    "or allocation sites behind it. Example: `/triage checkout profile heap`"
)


def wants_profile(call: Invocation) -> bool:
    return len(call.words) >= 2 and call.words[1].lower() == PROFILE_WORD


def parse(deps: Deps, call: Invocation) -> tuple[Service, ProfileKind]:
    if len(call.words) > 3:
        raise Invalid(f"`/triage SERVICE profile` takes `cpu` or `heap` at most.\n\n{USAGE}")
    service = known_service(deps, call.words[0], USAGE)
    kind = KINDS.get(call.words[2].lower() if len(call.words) == 3 else "cpu")
    if kind is not None:
        return service, kind
    raise Invalid(
        f"{code(call.words[2], 20)} is not a profile kind: use `cpu` or `heap`.\n\n{USAGE}"
    )


def accept(deps: Deps, call: Invocation) -> Accepted:
    """`SERVICE profile [cpu|heap]`, checked before the acknowledgement (raises Invalid)."""
    service, kind = parse(deps, call)
    return Accepted(
        f":hourglass_flowing_sand: Taking a {kind} profile of {code(service.name)}… "
        "the result will appear in this channel.",
        f"The profile of {service.name}",
        lambda: profile_for_channel(deps, call, service, kind),
    )


async def profile_for_channel(
    deps: Deps, call: Invocation, service: Service, kind: ProfileKind
) -> None:
    if not await authorized(deps, call, "triage", service.owners):
        return
    verdict = await deps.rate_limiter.take("triage", call.user)
    if not verdict.allowed:
        await tell(call.respond, f":stopwatch: Try again in {verdict.retry_after_seconds} s.")
        return
    try:
        evidence = await deps.runner.profile_now(service.name, kind)
    except MetricsUnavailable as error:
        await tell(call.respond, f":x: No profile of {code(service.name)}: {escape(str(error))}")
        return
    key = f"profile:{call.channel}:{service.name}:{uuid.uuid4().hex[:12]}"
    await deps.outbox.send(*await profile_ops(key, call.channel, None, evidence))


async def profile_ops(
    key: str, channel: str, thread: str | None, evidence: ProfileEvidence | None
) -> list[Post | Upload]:
    """The profile's note (in `thread`, or as a channel message), then its flame graph under
    the note's thread; `key` makes both safe to repeat."""
    if evidence is None:
        return []
    note = Post(
        op_id=key, channel=channel, text=profile_note(evidence), thread=thread, label="a profile"
    )
    spec = flame_spec(evidence)
    if spec is None:
        return [note]
    png = await render_flame_async(spec)
    flame = Upload(
        op_id=f"{key}:flame",
        channel=channel,
        thread=thread or key,
        filename=f"{evidence.kind}-flame.png",
        title=spec.title,
        png_base64=base64.b64encode(png).decode("ascii"),
        label="a flame graph",
    )
    return [note, flame]
