"""Every Web API method the emulator serves, by name, plus the read-only lookups."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from emulator import methods_chat, methods_files, methods_views
from emulator.calls import ApiError, CallContext, MethodHandler
from emulator.records import JsonObject


def auth_test(ctx: CallContext) -> JsonObject:
    state = ctx.state
    return {
        "url": state.team_url,
        "team": state.team_name,
        "user": state.users[state.bot_user_id].name,
        "team_id": state.team_id,
        "user_id": state.bot_user_id,
        "bot_id": state.bot_id,
        "is_enterprise_install": False,
    }


def conversations_info(ctx: CallContext) -> JsonObject:
    channel = methods_chat.channel_for(ctx)
    return {"channel": channel.to_slack()}


def users_info(ctx: CallContext) -> JsonObject:
    user = ctx.state.users.get(ctx.args.text("user") or "")
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user.to_slack(ctx.state.team_id)}


def usergroup_users(ctx: CallContext) -> JsonObject:
    group = ctx.state.usergroups.get(ctx.args.text("usergroup") or "")
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


METHODS: Mapping[str, MethodHandler] = MappingProxyType(
    {
        "auth.test": auth_test,
        "chat.postMessage": methods_chat.post_message,
        "chat.update": methods_chat.update_message,
        "chat.postEphemeral": methods_chat.post_ephemeral,
        "chat.getPermalink": methods_chat.get_permalink,
        "reactions.add": methods_chat.add_reaction,
        "files.getUploadURLExternal": methods_files.get_upload_url,
        "files.completeUploadExternal": methods_files.complete_upload,
        "views.open": methods_views.open_view,
        "views.publish": methods_views.publish_view,
        "views.update": methods_views.update_view,
        "conversations.info": conversations_info,
        "conversations.history": methods_chat.conversation_history,
        "conversations.replies": methods_chat.conversation_replies,
        "users.info": users_info,
        "usergroups.users.list": usergroup_users,
    }
)
