"""The agent loop, for real: two turns over loopback HTTP, a function run between them.

Turn one's recording (gpt-5.5, ``store: false``) asks for ``get_capital``;
the test runs it, sends the call and its output back with the encrypted
reasoning, and turn two's recording answers.
"""

import json
from typing import Any

import pytest
from rxresponses import ToolCall, call_key, final_response, next_input
from rxresponses.http import FunctionTool, build_request, stream_responses
from rxresponses.server import ReplayServer

from tests.helpers import FIXTURES

RECORDED = FIXTURES / "pydantic_ai"
TURN_ONE = RECORDED / "test_openai_responses_phase_streamed_on_part_start.0.sse"
TURN_TWO = RECORDED / "test_openai_responses_phase_streamed_on_part_start.1.sse"
GET_CAPITAL = FunctionTool(
    "get_capital",
    "The capital of a country.",
    {"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]},
)
QUESTION = {"role": "user", "content": "What is the capital of PotatoLand?"}


def get_capital(call: ToolCall) -> str:
    country = json.loads(call.arguments)["country"]
    return {"PotatoLand": "Potato City"}.get(country, "unknown")


def recorded_reasoning() -> dict[str, Any]:
    """Turn one's reasoning item as the server sent it at ``output_item.done``."""
    for line in TURN_ONE.read_text().splitlines():
        if line.startswith("data: ") and '"response.output_item.done"' in line:
            item = json.loads(line[len("data: ") :])["item"]
            if item["type"] == "reasoning":
                return dict(item)
    raise AssertionError("turn one has no reasoning item")


@pytest.mark.asyncio
async def test_two_turns_carry_the_call_its_output_and_the_reasoning_back() -> None:
    conversation: list[dict[str, Any]] = [QUESTION]
    ran: list[ToolCall] = []
    async with ReplayServer([TURN_ONE, TURN_TWO], events_per_second=None) as server:
        for _ in range(3):  # a bound, should the loop not end
            body = build_request("gpt-5.5", conversation, tools=[GET_CAPITAL])
            response = await final_response(stream_responses(body, base_url=server.base_url))
            if not response.calls_to_run:
                break
            ran += response.calls_to_run
            outputs = {call_key(call): get_capital(call) for call in response.calls_to_run}
            conversation += next_input(response, outputs)
        bodies = [request.json() for request in server.stats.received]

    assert [call.name for call in ran] == ["get_capital"]
    assert response.text == "The capital of PotatoLand is **Potato City**."
    assert response.errors == ()
    assert len(bodies) == 2
    [call] = ran
    assert call.call_id is not None
    sent = bodies[1]["input"]
    assert sent[0] == QUESTION
    types = [item.get("type") for item in sent[1:]]
    assert types == ["reasoning", "message", "function_call", "function_call_output"]
    reasoning, message, function_call, output = sent[1:]
    recorded = recorded_reasoning()
    assert reasoning["id"] == recorded["id"]
    assert reasoning["encrypted_content"] == recorded["encrypted_content"]
    assert message["role"] == "assistant"
    assert "PotatoLand" in message["content"]
    assert message.get("phase") in (None, "commentary")  # "commentary" once the chain says so
    assert function_call == {
        "type": "function_call",
        "id": call.id,
        "call_id": call.call_id,
        "name": "get_capital",
        "arguments": '{"country":"PotatoLand"}',
    }
    assert output == {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": "Potato City",
    }
    # Both turns asked for the reasoning back, unstored, with the tool on offer.
    for sent_body in bodies:
        assert sent_body["store"] is False
        assert sent_body["include"] == ["reasoning.encrypted_content"]
        assert [tool["name"] for tool in sent_body["tools"]] == ["get_capital"]
