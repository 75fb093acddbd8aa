"""Block Kit checks Slack applies before it accepts a message or a view.

Each problem is reported like Slack does, as text ending in a JSON pointer to the bad field,
e.g. "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
"""

from __future__ import annotations

from typing import Any

from emulator.limits import Limits

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_ID_CHARS = 255
MAX_BUTTON_TEXT_CHARS = 75
MAX_BUTTON_VALUE_CHARS = 2000
MAX_MARKDOWN_CHARS = 12_000
MAX_ALT_TEXT_CHARS = 2000


def block_errors(blocks: list[Any], limits: Limits, *, max_blocks: int) -> list[str]:
    """Every problem in a blocks array; empty when Slack would accept it."""
    if len(blocks) > max_blocks:
        return [f"no more than {max_blocks} items allowed [json-pointer:/blocks]"]
    errors: list[str] = []
    for index, block in enumerate(blocks):
        errors.extend(_block_errors(block, f"/blocks/{index}", limits))
    return errors


def _block_errors(block: Any, pointer: str, limits: Limits) -> list[str]:
    if not isinstance(block, dict):
        return [_problem("must be an object", pointer)]
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        return [_problem("unsupported type", f"{pointer}/type")]
    errors = _id_errors(block, "block_id", pointer)
    checker = _CHECKERS.get(str(kind))
    if checker is not None:
        errors.extend(checker(block, pointer, limits))
    return errors


def _section(block: dict[str, Any], pointer: str, limits: Limits) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return [_problem("must provide either text or fields", pointer)]
    errors: list[str] = []
    if text is not None:
        errors.extend(_text_errors(text, f"{pointer}/text", limits.max_section_text_chars))
    if fields is not None:
        errors.extend(_fields_errors(fields, f"{pointer}/fields", limits))
    return errors


def _fields_errors(fields: Any, pointer: str, limits: Limits) -> list[str]:
    if not isinstance(fields, list) or not fields:
        return [_problem("must be a non-empty array", pointer)]
    if len(fields) > MAX_FIELDS:
        return [_problem(f"no more than {MAX_FIELDS} items allowed", pointer)]
    errors: list[str] = []
    for index, field in enumerate(fields):
        errors.extend(_text_errors(field, f"{pointer}/{index}", limits.max_section_field_chars))
    return errors


def _header(block: dict[str, Any], pointer: str, limits: Limits) -> list[str]:
    text = block.get("text")
    errors = _text_errors(text, f"{pointer}/text", limits.max_header_text_chars)
    if not errors and isinstance(text, dict) and text.get("type") != "plain_text":
        errors.append(_problem("must be plain_text", f"{pointer}/text/type"))
    return errors


def _context(block: dict[str, Any], pointer: str, _limits: Limits) -> list[str]:
    return _elements_errors(block.get("elements"), f"{pointer}/elements", MAX_CONTEXT_ELEMENTS)


def _actions(block: dict[str, Any], pointer: str, _limits: Limits) -> list[str]:
    elements = block.get("elements")
    errors = _elements_errors(elements, f"{pointer}/elements", MAX_ACTION_ELEMENTS)
    if errors or not isinstance(elements, list):
        return errors
    for index, element in enumerate(elements):
        errors.extend(_element_errors(element, f"{pointer}/elements/{index}"))
    return errors


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [_problem("must be an element with a type", pointer)]
    errors = _id_errors(element, "action_id", pointer)
    if element["type"] == "button":
        errors.extend(_text_errors(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT_CHARS))
        value = element.get("value")
        if value is not None and (
            not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE_CHARS
        ):
            errors.append(_problem(_too_long(MAX_BUTTON_VALUE_CHARS), f"{pointer}/value"))
    return errors


def _markdown(block: dict[str, Any], pointer: str, _limits: Limits) -> list[str]:
    return _string_errors(block.get("text"), f"{pointer}/text", MAX_MARKDOWN_CHARS)


def _image(block: dict[str, Any], pointer: str, _limits: Limits) -> list[str]:
    errors = _string_errors(block.get("alt_text"), f"{pointer}/alt_text", MAX_ALT_TEXT_CHARS)
    if not block.get("image_url") and not block.get("slack_file"):
        errors.append(_problem("must provide either image_url or slack_file", pointer))
    return errors


def _elements_errors(elements: Any, pointer: str, most: int) -> list[str]:
    if not isinstance(elements, list) or not elements:
        return [_problem("must be a non-empty array", pointer)]
    if len(elements) > most:
        return [_problem(f"no more than {most} items allowed", pointer)]
    return []


def _text_errors(text: Any, pointer: str, most: int) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in TEXT_TYPES:
        return [_problem("must be a text object (plain_text or mrkdwn)", pointer)]
    return _string_errors(text.get("text"), f"{pointer}/text", most)


def _string_errors(value: Any, pointer: str, most: int) -> list[str]:
    if not isinstance(value, str) or not value:
        return [_problem("must be more than 0 characters", pointer)]
    if len(value) > most:
        return [_problem(_too_long(most), pointer)]
    return []


def _id_errors(item: dict[str, Any], key: str, pointer: str) -> list[str]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        return [_problem(f"must be 1 to {MAX_ID_CHARS} characters", f"{pointer}/{key}")]
    return []


def _too_long(most: int) -> str:
    return f"must be less than {most + 1} characters"


def _problem(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


_CHECKERS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "markdown": _markdown,
    "image": _image,
}
