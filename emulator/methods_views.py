"""views.open, views.publish and views.update."""

from __future__ import annotations

from typing import Any

from emulator.blocks import block_errors
from emulator.calls import ApiError, CallContext
from emulator.ids import make_view_hash, trigger_issued_at
from emulator.limits import Limits
from emulator.records import JsonObject, View
from emulator.state import EmulatorState

VIEW_TYPES = frozenset({"modal", "home"})
MAX_TITLE_CHARS = 24
MAX_PRIVATE_METADATA_CHARS = 3000


def open_view(ctx: CallContext) -> JsonObject:
    trigger_id = ctx.args.required("trigger_id")
    view_json = _view_argument(ctx, expected_type="modal")
    _exchange_trigger(ctx.state, trigger_id)
    view = View(ctx.state.next_id("V"), view_json, _hash(ctx), trigger_id=trigger_id)
    ctx.state.views[view.id] = view
    return {"view": view.to_slack(ctx.state.team_id, ctx.state.bot_id)}


def publish_view(ctx: CallContext) -> JsonObject:
    user_id = ctx.args.required("user_id")
    if user_id not in ctx.state.users:
        raise ApiError("user_not_found")
    view_json = _view_argument(ctx, expected_type="home")
    existing = next((v for v in ctx.state.views.values() if v.user_id == user_id), None)
    if existing is None:
        existing = View(ctx.state.next_id("V"), view_json, _hash(ctx), user_id=user_id)
        ctx.state.views[existing.id] = existing
    else:
        _replace(ctx, existing, view_json)
    return {"view": existing.to_slack(ctx.state.team_id, ctx.state.bot_id)}


def update_view(ctx: CallContext) -> JsonObject:
    view_id, external_id = ctx.args.text("view_id"), ctx.args.text("external_id")
    if view_id is None and external_id is None:
        raise ApiError("invalid_arguments", "view_id or external_id is required")
    view_json = _view_argument(ctx, expected_type=None)
    found = ctx.state.views.get(view_id) if view_id else _by_external_id(ctx.state, external_id)
    if found is None:
        raise ApiError("not_found")
    _replace(ctx, found, view_json)
    return {"view": found.to_slack(ctx.state.team_id, ctx.state.bot_id)}


def _replace(ctx: CallContext, view: View, view_json: JsonObject) -> None:
    expected_hash = ctx.args.text("hash")
    if expected_hash is not None and expected_hash != view.hash:
        raise ApiError("hash_conflict")
    view.history.append(view.view)
    view.view = view_json
    view.hash = _hash(ctx)


def _by_external_id(state: EmulatorState, external_id: str | None) -> View | None:
    return next((v for v in state.views.values() if v.view.get("external_id") == external_id), None)


def _exchange_trigger(state: EmulatorState, trigger_id: str) -> None:
    issued_at = trigger_issued_at(trigger_id)
    if issued_at is None:
        raise ApiError("invalid_trigger_id")
    if trigger_id in state.used_trigger_ids:
        raise ApiError("exchanged_trigger_id")
    if state.clock() - issued_at > state.limits.trigger_id_ttl_seconds:
        raise ApiError("expired_trigger_id")
    state.used_trigger_ids.add(trigger_id)


def _view_argument(ctx: CallContext, *, expected_type: str | None) -> JsonObject:
    view = ctx.args.json("view", "invalid_arguments")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", "view must be an object [json-pointer:/view]")
    errors = view_errors(view, ctx.state.limits)
    if expected_type is not None and view.get("type") != expected_type:
        errors.append(f"must be {expected_type} [json-pointer:/view/type]")
    if errors:
        raise ApiError("invalid_arguments", *errors)
    return view


def view_errors(view: dict[str, Any], limits: Limits) -> list[str]:
    """Problems with a modal or Home tab view, as Slack reports them."""
    if view.get("type") not in VIEW_TYPES:
        return ["must be modal or home [json-pointer:/view/type]"]
    errors: list[str] = []
    if view["type"] == "modal":
        errors.extend(_title_errors(view.get("title")))
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > MAX_PRIVATE_METADATA_CHARS:
        errors.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*errors, "must be an array [json-pointer:/view/blocks]"]
    found = block_errors(blocks, limits, max_blocks=limits.max_blocks_per_view)
    errors.extend(e.replace("[json-pointer:/blocks", "[json-pointer:/view/blocks") for e in found)
    return errors


def _title_errors(title: Any) -> list[str]:
    pointer = "[json-pointer:/view/title]"
    if not isinstance(title, dict) or title.get("type") != "plain_text":
        return [f"must be a plain_text object {pointer}"]
    text = title.get("text")
    if not isinstance(text, str) or not text or len(text) > MAX_TITLE_CHARS:
        return [f"must be 1 to {MAX_TITLE_CHARS} characters {pointer}"]
    return []


def _hash(ctx: CallContext) -> str:
    return make_view_hash(ctx.state.clock())
