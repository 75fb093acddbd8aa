"""views.* and the lookups: conversations.info, users.info, usergroups.users.list."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator
from emulator.ids import make_trigger_id

BLOCKS = [{"type": "section", "text": {"type": "plain_text", "text": "Pick a service"}}]
MODAL = {
    "type": "modal",
    "callback_id": "triage",
    "title": {"type": "plain_text", "text": "Triage"},
    "blocks": BLOCKS,
}
HOME = {"type": "home", "blocks": BLOCKS}


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_open_modal(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    response = await client.views_open(trigger_id=make_trigger_id(), view=MODAL)
    view = response["view"]
    assert view["callback_id"] == "triage"
    assert view["hash"]
    assert emulator.state.views[view["id"]].view["title"]["text"] == "Triage"


async def test_trigger_ids_are_single_use(client: AsyncWebClient) -> None:
    trigger_id = make_trigger_id()
    await client.views_open(trigger_id=trigger_id, view=MODAL)
    assert await error_of(client.views_open(trigger_id=trigger_id, view=MODAL)) == (
        "exchanged_trigger_id"
    )


async def test_trigger_ids_expire_after_three_seconds(client: AsyncWebClient) -> None:
    stale = make_trigger_id(time.time() - 3.5)
    assert await error_of(client.views_open(trigger_id=stale, view=MODAL)) == ("expired_trigger_id")


async def test_made_up_trigger_id(client: AsyncWebClient) -> None:
    assert await error_of(client.views_open(trigger_id="nope", view=MODAL)) == (
        "invalid_trigger_id"
    )


async def test_modal_title_over_24_characters(client: AsyncWebClient) -> None:
    view = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id=make_trigger_id(), view=view)
    assert raised.value.response["error"] == "invalid_arguments"
    assert "/view/title" in raised.value.response["response_metadata"]["messages"][0]


async def test_publish_home_then_republish_in_place(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    first = await client.views_publish(user_id="U0ALICE", view=HOME)
    second = await client.views_publish(
        user_id="U0ALICE", view={**HOME, "private_metadata": "v2"}, hash=first["view"]["hash"]
    )
    assert second["view"]["id"] == first["view"]["id"]
    assert second["view"]["private_metadata"] == "v2"
    assert len(emulator.state.views[first["view"]["id"]].history) == 1


async def test_publish_for_unknown_user(client: AsyncWebClient) -> None:
    assert await error_of(client.views_publish(user_id="U0NOBODY", view=HOME)) == ("user_not_found")


async def test_update_with_stale_hash_conflicts(client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=make_trigger_id(), view=MODAL)
    view_id, old_hash = opened["view"]["id"], opened["view"]["hash"]
    updated = await client.views_update(view_id=view_id, view=MODAL, hash=old_hash)
    assert updated["view"]["hash"] != old_hash
    call = client.views_update(view_id=view_id, view=MODAL, hash=old_hash)
    assert await error_of(call) == "hash_conflict"


async def test_update_unknown_view(client: AsyncWebClient) -> None:
    assert await error_of(client.views_update(view_id="V0NONE", view=MODAL)) == "not_found"


async def test_conversations_info(client: AsyncWebClient) -> None:
    channel = (await client.conversations_info(channel="C0INCIDENTS"))["channel"]
    assert (channel["id"], channel["name"], channel["is_member"]) == (
        "C0INCIDENTS",
        "incidents",
        True,
    )
    assert await error_of(client.conversations_info(channel="C0NONE")) == "channel_not_found"


async def test_users_info(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    emulator.state.add_user("U0CAROL", "carol", real_name="Carol Example")
    user = (await client.users_info(user="U0CAROL"))["user"]
    assert (user["name"], user["real_name"], user["team_id"]) == (
        "carol",
        "Carol Example",
        "T0EMULATED",
    )
    assert await error_of(client.users_info(user="U0NOBODY")) == "user_not_found"


async def test_usergroup_members(emulator: RunningEmulator, client: AsyncWebClient) -> None:
    emulator.state.add_usergroup("S0PAYMENTS", "payments-oncall", ["U0BOB", "U0ALICE"])
    response = await client.usergroups_users_list(usergroup="S0PAYMENTS")
    assert response["users"] == ["U0BOB", "U0ALICE"]
    assert await error_of(client.usergroups_users_list(usergroup="S0NONE")) == "no_such_subteam"
