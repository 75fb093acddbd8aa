"""`/triage SERVICE [WINDOW]`: run the Node.js checklist for a service now."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.slack.deps import Deps

USAGE = "\n".join(
    [
        "*`/triage SERVICE [WINDOW]`* walks the Node.js checklist for one service",
        "and posts what it finds.",
        "It looks, in order, at the APM (slowest endpoint and dependency), event-loop lag,",
        "the database pool, downstream calls, then memory and garbage collection.",
        "",
        "• `SERVICE`: a name from the service catalog, e.g. `checkout`",
        "• `WINDOW`: how far back to look, from `1m` to `30d` (default `10m`)",
        "",
        "Examples: `/triage checkout`, `/triage checkout 30m`, `/triage help`",
    ]
)


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_triage(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        words = str(command.get("text") or "").split()
        if not words or words[0].lower() in {"help", "-h", "--help"}:
            await ack(response_type="ephemeral", text=USAGE)
            return
        await ack(
            response_type="ephemeral",
            text="Running a triage from Slack is not switched on in this build yet; "
            "use `python -m bot triage SERVICE` meanwhile.",
        )

    app.command("/triage")(on_triage)
