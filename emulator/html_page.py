"""A plain HTML page showing each channel's messages and threads, refreshed every few seconds.

Uploaded images (the bot's charts) are shown inline from /_emulator/files/ID, and an edited
message lists its earlier versions under the current one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from emulator.plain_text import blocks_to_text
from emulator.records import Message
from emulator.state import EmulatorState

STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 60em; color: #1d1c1d; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.message { margin: .8em 0; padding: .5em .8em; background: #f8f8f8; border-radius: 4px; }
.thread { margin-left: 2em; border-left: 3px solid #ccc; padding-left: .8em; }
.meta { color: #616061; font-size: .85em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: .3em 0; font-family: inherit; }
.ephemeral { background: #fff8e1; }
img.upload { display: block; max-width: 100%; margin: .4em 0; border: 1px solid #ddd; }
details.edits { color: #616061; font-size: .85em; }
details.edits pre { border-left: 2px solid #ddd; padding-left: .6em; }
"""
FILES_PATH = "/_emulator/files/"


def render_page(state: EmulatorState) -> str:
    sections = [_channel_section(state, channel_id) for channel_id in state.channels]
    sections.append(_ephemeral_section(state))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='refresh' content='5'>"
        f"<title>Slack emulator: {escape(state.team_name)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{escape(state.team_name)}</h1>{''.join(sections)}</body></html>"
    )


def _channel_section(state: EmulatorState, channel_id: str) -> str:
    channel = state.channels[channel_id]
    items = []
    for message in state.channel_messages(channel_id):
        replies = "".join(
            _message_html(state, reply) for reply in state.thread_replies(channel_id, message.ts)
        )
        thread = f"<div class='thread'>{replies}</div>" if replies else ""
        items.append(_message_html(state, message) + thread)
    body = "".join(items) or "<p class='meta'>No messages yet.</p>"
    return f"<h2>#{escape(channel.name)} <span class='meta'>{escape(channel.id)}</span></h2>{body}"


def _message_html(state: EmulatorState, message: Message) -> str:
    user = state.users.get(message.user)
    author = user.name if user else message.user
    details = [_when(message.ts)]
    if message.edits:
        details.append(f"edited {len(message.edits)}×")
    if message.deleted:
        details.append("deleted")
    content = blocks_to_text(message.blocks) or message.text
    reactions = [f":{name}: {len(users)}" for name, users in message.reactions.items()]
    return (
        f"<div class='message' data-ts='{escape(message.ts)}'><strong>{escape(author)}</strong> "
        f"<span class='meta'>{escape(' · '.join(details))} · ts {escape(message.ts)}</span>"
        f"<pre class='content'>{escape(content)}</pre>"
        f"{''.join(_file_html(f) for f in message.files)}{_edits_html(message)}"
        f"<div class='meta'>{escape('  '.join(reactions))}</div></div>"
    )


def _file_html(file: dict[str, object]) -> str:
    name = escape(str(file.get("name") or "file"))
    url = escape(FILES_PATH + str(file.get("id")))
    if str(file.get("mimetype", "")).startswith("image/"):
        alt = escape(str(file.get("alt_txt") or file.get("title") or name))
        return f"<img class='upload' src='{url}' alt='{alt}' title='{name}'>"
    return f"<div class='meta'><a href='{url}'>[file: {name}]</a></div>"


def _edits_html(message: Message) -> str:
    if not message.edits:
        return ""
    versions = "".join(
        f"<pre>{escape(blocks_to_text(edit.blocks) or edit.text)}</pre>"
        for edit in reversed(message.edits)
    )
    count = len(message.edits)
    return (
        f"<details class='edits'><summary>{count} earlier version(s)</summary>{versions}</details>"
    )


def _ephemeral_section(state: EmulatorState) -> str:
    if not state.ephemerals:
        return ""
    items = [
        f"<div class='message ephemeral'><span class='meta'>only visible to "
        f"{escape(e.user)} in {escape(e.channel)}</span>"
        f"<pre>{escape(blocks_to_text(e.blocks) or e.text)}</pre></div>"
        for e in state.ephemerals
    ]
    return "<h2>Ephemeral replies</h2>" + "".join(items)


def _when(ts: str) -> str:
    return datetime.fromtimestamp(float(ts), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
