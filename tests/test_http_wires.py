"""The HTTP sources of Chat Completions and Anthropic Messages, against a local replay server."""

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from reactivex import Observable
from rxresponses import Done, Error, Item, Start, from_bytes, responses
from rxresponses.http import (
    ANTHROPIC_VERSION,
    build_anthropic_request,
    build_chat_request,
    stream_anthropic,
    stream_chat,
)
from rxresponses.server import ReplayServer

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHAT = FIXTURES / "chat" / "pydantic_ai" / "test_openrouter_streaming_reasoning.0.sse"
ANTHROPIC = FIXTURES / "anthropic" / "vercel_ai" / "anthropic-text.sse"
ANTHROPIC_TOOLS = FIXTURES / "anthropic" / "llm_anthropic" / "test_tools.0.sse"
KEY = "sk-ant-test-Zq81SECRET0071"
WAIT = 30.0


async def _items(observable: Observable[Item]) -> list[Item]:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    items: list[Item] = []
    observable.subscribe(items.append, finished.set_exception, lambda: finished.set_result(None))
    await asyncio.wait_for(finished, WAIT)
    return items


def _plain(items: list[Item]) -> list[Any]:
    return [msgspec.to_builtins(item) for item in items if not isinstance(item, Start)]


def _errors(items: list[Item]) -> list[Error]:
    return [item for item in items if isinstance(item, Error)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("wire", "recording"),
    [("chat", CHAT), ("anthropic", ANTHROPIC), ("anthropic", ANTHROPIC_TOOLS)],
)
async def test_over_http_the_items_equal_those_of_the_same_bytes(
    wire: str, recording: Path
) -> None:
    local = _plain(
        list_of(responses(from_bytes(recording.read_bytes()), wire=wire))  # type: ignore[arg-type]
    )
    async with ReplayServer([recording], events_per_second=None) as server:
        if wire == "chat":
            items = await _items(
                stream_chat(build_chat_request("m", "hi"), base_url=server.base_url)
            )
        else:
            body = build_anthropic_request("m", "hi")
            items = await _items(stream_anthropic(body, base_url=server.base_url, api_key=""))

    assert _plain(items) == local
    assert _errors(items) == []


def list_of(observable: Observable[Item]) -> list[Item]:
    items: list[Item] = []
    observable.subscribe(items.append)
    return items


@pytest.mark.asyncio
async def test_chat_posts_to_chat_completions_with_a_bearer_key_and_asks_for_usage() -> None:
    async with ReplayServer([CHAT], events_per_second=None) as server:
        body = build_chat_request("m", "hi", max_tokens=7)
        await _items(stream_chat(body, base_url=server.base_url, api_key=KEY))
        request = server.stats.received[0]

    sent = request.json()
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in request.headers
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 7


@pytest.mark.asyncio
async def test_anthropic_sends_its_key_as_x_api_key_with_a_version_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with ReplayServer([ANTHROPIC], events_per_second=None) as server:
        await _items(stream_anthropic(build_anthropic_request("m", "hi"), base_url=server.base_url))
        request = server.stats.received[0]

    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == ANTHROPIC_VERSION
    assert "Authorization" not in request.headers
    assert request.json()["max_tokens"] > 0


@pytest.mark.asyncio
async def test_anthropic_overloaded_529_is_a_retryable_server_error_with_its_type_as_code() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    async with ReplayServer([ANTHROPIC], status=529, error_body=body) as server:
        items = await _items(
            stream_anthropic(
                build_anthropic_request("m", "hi"), base_url=server.base_url, api_key=""
            )
        )

    [error] = _errors(items)
    assert error.kind == "server_error"
    assert error.status == 529
    assert error.code == "overloaded_error"
    assert error.message == "Overloaded"
    assert error.retryable


@pytest.mark.asyncio
async def test_anthropic_rate_limit_429_honours_retry_after() -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}
    async with ReplayServer([ANTHROPIC], status=429, error_body=body, retry_after=3.0) as server:
        items = await _items(
            stream_anthropic(
                build_anthropic_request("m", "hi"), base_url=server.base_url, api_key=""
            )
        )

    [error] = _errors(items)
    assert error.kind == "rate_limited"
    assert error.retry_after == 3.0


@pytest.mark.asyncio
async def test_an_error_body_echoing_the_anthropic_key_is_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    body = {"type": "error", "error": {"type": "authentication_error", "message": f"bad {KEY}"}}
    async with ReplayServer([ANTHROPIC], status=401, error_body=body) as server:
        items = await _items(
            stream_anthropic(build_anthropic_request("m", "hi"), base_url=server.base_url)
        )

    [error] = _errors(items)
    assert KEY not in json.dumps(msgspec.to_builtins(items))
    assert error.kind == "http_error"
    assert not error.retryable


@pytest.mark.asyncio
@pytest.mark.parametrize("wire", ["chat", "anthropic"])
async def test_a_connection_dropped_mid_stream_is_an_interruption(wire: str) -> None:
    recording = CHAT if wire == "chat" else ANTHROPIC
    async with ReplayServer([recording], events_per_second=None, close_after=3) as server:
        if wire == "chat":
            source = stream_chat(build_chat_request("m", "hi"), base_url=server.base_url)
        else:
            body = build_anthropic_request("m", "hi")
            source = stream_anthropic(body, base_url=server.base_url, api_key="")
        items = await _items(source)

    assert [e.kind for e in _errors(items)] == ["stream_interrupted"]
    assert isinstance(items[-1], Done)
    assert items[-1].stop_reason is None


@pytest.mark.asyncio
@pytest.mark.parametrize("wire", ["chat", "anthropic"])
async def test_a_stall_past_the_idle_timeout_is_a_timeout(wire: str) -> None:
    recording = CHAT if wire == "chat" else ANTHROPIC
    async with ReplayServer(
        [recording], events_per_second=None, stall_after=2, stall_seconds=2.0
    ) as server:
        if wire == "chat":
            source = stream_chat(
                build_chat_request("m", "hi"), base_url=server.base_url, idle_timeout=0.3
            )
        else:
            source = stream_anthropic(
                build_anthropic_request("m", "hi"),
                base_url=server.base_url,
                api_key="",
                idle_timeout=0.3,
            )
        items = await _items(source)

    assert [e.kind for e in _errors(items)] == ["timeout"]
