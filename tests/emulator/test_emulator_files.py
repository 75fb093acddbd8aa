"""The external upload flow, end to end through slack_sdk's files_upload_v2."""

from __future__ import annotations

import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from emulator import RunningEmulator

PNG_BYTES = b"\x89PNG\r\n\x1a\nnot-really-an-image"


async def test_upload_lands_as_a_file_share_in_the_thread(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel="C0INCIDENTS", text="incident")
    response = await client.files_upload_v2(
        channel="C0INCIDENTS",
        thread_ts=parent["ts"],
        content=PNG_BYTES,
        filename="x.png",
        title="Latency",
    )
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Latency"
    assert emulator.state.files[file_id].content == PNG_BYTES
    [share] = emulator.state.thread_replies("C0INCIDENTS", parent["ts"])
    assert [f["id"] for f in share.files] == [file_id]
    assert share.files[0]["mimetype"] == "image/png"
    assert share.files[0]["size"] == len(PNG_BYTES)
    assert response["file"]["shares"]["public"]["C0INCIDENTS"][0]["thread_ts"] == parent["ts"]


async def test_upload_without_channel_stays_private(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    response = await client.files_upload_v2(content=b"log", filename="log.txt")
    assert response["file"]["channels"] == []
    assert emulator.state.channel_messages("C0GENERAL") == []


async def test_complete_unknown_file(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": "F0NOPE"}], channel_id="C0GENERAL")
    assert raised.value.response["error"] == "file_not_found"


async def test_complete_before_the_bytes_arrive(client: AsyncWebClient) -> None:
    issued = await client.files_getUploadURLExternal(filename="x.png", length=3)
    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": issued["file_id"]}])
    assert raised.value.response["error"] == "file_not_found"


async def test_upload_url_needs_a_length(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("files.getUploadURLExternal", params={"filename": "x.png"})
    assert raised.value.response["error"] == "invalid_arguments"


async def test_upload_to_a_url_never_issued(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    url = emulator.url.replace("/api/", "/_emulator/upload/F0NEVER")
    async with http.post(url, data=b"bytes") as response:
        assert response.status == 404


async def test_upload_accepts_multipart_too(
    emulator: RunningEmulator, client: AsyncWebClient, http: aiohttp.ClientSession
) -> None:
    issued = await client.files_getUploadURLExternal(filename="x.txt", length=5)
    form = aiohttp.FormData()
    form.add_field("file", b"hello", filename="x.txt")
    async with http.post(issued["upload_url"], data=form) as response:
        assert await response.text() == "OK - 5"
    completed = await client.files_completeUploadExternal(
        files=[{"id": issued["file_id"], "title": "greeting"}], channels=["C0GENERAL"]
    )
    assert json.loads(json.dumps(completed["files"]))[0]["title"] == "greeting"
    assert emulator.state.files[issued["file_id"]].content == b"hello"


async def test_failed_upload_step_surfaces_in_the_client(
    emulator: RunningEmulator, client: AsyncWebClient
) -> None:
    emulator.state.faults.fail_next("upload", status=500)
    with pytest.raises(SlackRequestError):
        await client.files_upload_v2(channel="C0GENERAL", content=b"x", filename="x.png")
    assert emulator.state.channel_messages("C0GENERAL") == []
