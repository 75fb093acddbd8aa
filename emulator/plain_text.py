"""Block Kit rendered as plain text, for the readable page and for assertions in tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def blocks_to_text(blocks: list[Any] | None) -> str:
    """One line per block: section text and fields, headers, context, buttons, images."""
    if not blocks:
        return ""
    lines = [_block_text(block) for block in blocks if isinstance(block, dict)]
    return "\n".join(line for line in lines if line)


def _block_text(block: dict[str, Any]) -> str:
    render = _RENDERERS.get(str(block.get("type")))
    return render(block) if render else _text(block.get("text"))


def _section(block: dict[str, Any]) -> str:
    parts = [_text(block.get("text"))]
    parts.extend(_text(field) for field in block.get("fields") or [])
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        parts.append(_element_text(accessory))
    return "\n".join(part for part in parts if part)


def _elements(block: dict[str, Any]) -> str:
    elements = block.get("elements") or []
    return "  ".join(_element_text(e) for e in elements if isinstance(e, dict))


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "divider": lambda _block: "----",
    "section": _section,
    "image": lambda block: f"[image: {block.get('alt_text', '')}]",
    "context": _elements,
    "actions": _elements,
    "rich_text": lambda block: _rich_text(block.get("elements") or []),
    "markdown": lambda block: str(block.get("text", "")),
}


def _element_text(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("plain_text", "mrkdwn"):
        return _text(element)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    label = _text(element.get("placeholder")) or str(kind)
    return f"[{label}]"


def _rich_text(elements: list[Any]) -> str:
    pieces: list[str] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        if "elements" in element:
            pieces.append(_rich_text(element["elements"]))
        elif element.get("type") == "text":
            pieces.append(str(element.get("text", "")))
        elif element.get("type") == "link":
            pieces.append(str(element.get("text") or element.get("url", "")))
        elif element.get("type") in ("user", "channel", "usergroup"):
            pieces.append(f"<{element.get('user_id') or element.get('channel_id') or ''}>")
    return "".join(pieces)


def _text(text: Any) -> str:
    if isinstance(text, dict):
        return str(text.get("text", ""))
    return ""
