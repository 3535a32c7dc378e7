"""Chat Completions and Anthropic recordings over real HTTP (the replay server on 127.0.0.1)."""

import asyncio
import json
from typing import Any

import msgspec
import pytest
from rxresponses import responses
from rxresponses.http import http_source
from rxresponses.server import ReplayServer

from .wire_checks import FIXTURES, blank, check, run

WAIT = 20.0
CASES = [
    ("chat", "chat/vercel_ai/deepseek-tool-call.sse"),
    ("chat", "chat/openai_python/test_parse_pydantic_model_refusal.173417d55340.sse"),
    ("anthropic", "anthropic/vercel_ai/anthropic-web-search-tool.1.sse"),
    ("auto", "anthropic/pydantic_ai/test_anthropic_model_thinking_part_stream.0.sse"),
    ("auto", "chat/vercel_ai/openai-text.sse"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("wire", "name"), CASES)
async def test_a_recording_served_over_http_gives_the_items_of_its_bytes(
    wire: str, name: str
) -> None:
    data = (FIXTURES / name).read_bytes()
    async with ReplayServer([data], events_per_second=None) as server:
        source = http_source({"model": "m", "input": "hi"}, base_url=server.base_url)
        items: list[Any] = []
        finished = asyncio.get_running_loop().create_future()
        responses(source, wire=wire).subscribe(  # type: ignore[arg-type]
            items.append,
            finished.set_exception,
            lambda: finished.set_result(None),
        )
        await asyncio.wait_for(finished, WAIT)
    objects = [json.loads(msgspec.json.encode(item)) for item in items]
    check(objects)
    assert blank(objects) == blank(run(data, wire))
    assert objects[-1]["type"] == "done"
