"""The replay server on its own, read with a plain aiohttp client on 127.0.0.1."""

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer
from rxresponses._http_cli import demo_recording_path
from rxresponses.server import ReplayServer, make_app, split_events, stats_of

DEMO = Path(demo_recording_path())
ONE = b'event: a\ndata: {"n":1}\n\n'
TWO = b'data: {"n":2}\r\n\r\ndata: {"n":3}\r\n\r\n'
WAIT = 10.0


async def read_body(base_url: str) -> bytes:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/responses", json={}) as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        return await response.read()


async def drain(response: aiohttp.ClientResponse, into: bytearray) -> None:
    async for chunk in response.content.iter_any():
        into += chunk


def test_split_events_cuts_after_each_blank_line_and_loses_nothing() -> None:
    data = b"data: 1\n\ndata: 2\r\n\r\n: comment\rdata: 3\r\rdata: tail"
    events = split_events(data)
    assert events == [b"data: 1\n\n", b"data: 2\r\n\r\n", b": comment\rdata: 3\r\r", b"data: tail"]
    assert b"".join(events) == data
    assert b"".join(split_events(DEMO.read_bytes())) == DEMO.read_bytes()


@pytest.mark.asyncio
async def test_serves_the_recording_byte_for_byte() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert await read_body(server.base_url) == DEMO.read_bytes()
        assert server.stats.requests == 1
        assert await server.stats.wait_for(lambda s: s.completed == 1, WAIT)


@pytest.mark.asyncio
async def test_recordings_are_served_round_robin() -> None:
    async with ReplayServer([ONE, TWO], events_per_second=None) as server:
        bodies = [await read_body(server.base_url) for _ in range(3)]
    assert bodies == [ONE, TWO, ONE]


@pytest.mark.asyncio
async def test_paced_events_are_spread_over_the_given_rate() -> None:
    events = split_events(TWO * 3)
    async with (
        ReplayServer([TWO * 3], events_per_second=20) as server,
        aiohttp.ClientSession() as session,
    ):
        started = time.monotonic()
        async with session.post(f"{server.base_url}/responses") as response:
            chunks = [chunk async for chunk in response.content.iter_any()]
        elapsed = time.monotonic() - started
    assert b"".join(chunks) == TWO * 3
    assert elapsed >= (len(events) - 1) / 20  # a load can only make it slower
    assert len(chunks) > 1


@pytest.mark.asyncio
async def test_status_answer_has_a_json_error_body_and_retry_after() -> None:
    async with ReplayServer([DEMO], status=429, retry_after=2.5) as server:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.base_url}/responses") as response,
        ):
            body = await response.json()
            headers = response.headers
        assert await server.stats.wait_for(lambda s: s.completed == 1, WAIT)
    assert response.status == 429
    assert headers["Retry-After"] == "2.5"
    assert body["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.asyncio
async def test_close_after_drops_the_connection_after_that_many_events() -> None:
    events = split_events(DEMO.read_bytes())
    async with ReplayServer([DEMO], events_per_second=None, close_after=5) as server:
        received = bytearray()
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.base_url}/responses") as response,
        ):
            with pytest.raises(aiohttp.ClientPayloadError):
                await drain(response, received)
        assert await server.stats.wait_for(lambda s: s.dropped == 1, WAIT)
        assert server.stats.disconnects == 0
    assert bytes(received) == b"".join(events[:5])


@pytest.mark.asyncio
async def test_client_leaving_early_is_counted_as_a_disconnect() -> None:
    async with ReplayServer([DEMO], events_per_second=20) as server:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{server.base_url}/responses") as response,
        ):
            await response.content.readuntil(b"\n\n")
            response.close()
        assert await server.stats.wait_for_disconnect(timeout=WAIT)
        assert server.stats.completed == 0
        assert await server.stats.wait_idle(WAIT)


@pytest.mark.asyncio
async def test_make_app_runs_under_the_pytest_aiohttp_server(
    aiohttp_server: AiohttpServer,
) -> None:
    app = make_app([ONE], events_per_second=None)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        async with session.post(server.make_url("/v1/responses"), data=b"{}") as response:
            assert await response.read() == ONE
        async with session.get(server.make_url("/v1/responses")) as response:
            assert response.status == 405
    stats = stats_of(app)
    assert stats.requests == 1
    assert json.loads(stats.received[0].body) == {}


@pytest.mark.asyncio
async def test_stall_then_the_rest_of_the_stream() -> None:
    async with ReplayServer([TWO], events_per_second=None, stall_after=1, stall_seconds=0.2) as s:
        assert await read_body(s.base_url) == TWO


def test_base_url_needs_a_started_server_and_recordings_are_required() -> None:
    with pytest.raises(RuntimeError):
        _ = ReplayServer([ONE]).base_url
    with pytest.raises(ValueError, match="recording"):
        make_app([])
    with pytest.raises(ValueError, match="events_per_second"):
        make_app([ONE], events_per_second=0)


@pytest.mark.asyncio
async def test_closing_the_server_ends_a_connection_held_open() -> None:
    server = ReplayServer([ONE], events_per_second=None, keep_open_after_end=True)
    await server.start()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base_url}/responses") as response:
            assert await response.content.readuntil(b"\n\n") == ONE
            await asyncio.wait_for(server.close(), WAIT)
        assert server.stats.disconnects == 0  # shutting down is not a client leaving
