"""Telling the wire and the framing from the stream itself (SPEC §3.4)."""

import json
from typing import Any

import pytest
from rxresponses import from_bytes
from rxresponses.operators import AutoFramer, detect_wire, frame

from .wire_checks import FIXTURES, blank, kinds, of, run, run_all_sizes


def data(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        ({"id": "c", "choices": []}, "chat"),
        ({"choices": None}, "chat"),
        ({"id": "c", "object": "chat.completion.chunk"}, "chat"),
        ({"object": "chat.completion"}, "chat"),
        ({"type": "message_start", "message": {}}, "anthropic"),
        ({"type": "content_block_start"}, "anthropic"),
        ({"type": "content_block_delta"}, "anthropic"),
        ({"type": "content_block_stop"}, "anthropic"),
        ({"type": "message_delta"}, "anthropic"),
        ({"type": "message_stop"}, "anthropic"),
        ({"type": "ping"}, "anthropic"),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "m"}}, "anthropic"),
        ({"type": "error", "error": {"type": "x"}, "code": "c"}, "responses"),
        ({"type": "error", "error": {"type": "x", "code": "c"}}, "responses"),
        ({"type": "error", "error": {"type": "x"}, "sequence_number": 3}, "responses"),
        ({"type": "error", "error": {"type": "x", "sequence_number": 3}}, "responses"),
        ({"type": "error", "error": {"type": "x", "code": None}, "code": None}, "anthropic"),
        ({"type": "error", "error": {"type": 5}}, "responses"),
        ({"type": "error", "code": "c", "message": "m"}, "responses"),
        ({"error": {"message": "m"}}, "chat"),
        ({"type": None, "error": {"message": "m"}}, "chat"),
        ({"type": "response.created", "response": {}}, "responses"),
        ({"type": "anything.else"}, "responses"),
        ({"foo": 1}, "responses"),
    ],
)
def test_the_first_json_object_tells_the_wire(event: dict[str, Any], wire: str) -> None:
    assert detect_wire(data(event)) == wire


@pytest.mark.parametrize("text", [b"[1]", b'"x"', b"{broken", b"[DONE]"])
def test_data_that_is_not_a_json_object_tells_nothing(text: bytes) -> None:
    assert detect_wire(text) is None


CHAT = (
    b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
    b'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)
ANTHROPIC = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"c"}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"hi"}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
RESPONSES = (
    b'data: {"type":"response.created","response":{"id":"resp_1","model":"m"}}\n\n'
    b'data: {"type":"response.output_text.delta","output_index":0,"delta":"hi"}\n\n'
    b'data: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'
)


@pytest.mark.parametrize(
    ("body", "wire"), [(CHAT, "chat"), (ANTHROPIC, "anthropic"), (RESPONSES, "responses")]
)
def test_auto_reads_each_wire_as_that_wire(body: bytes, wire: str) -> None:
    parts = wire != "responses"  # part_start on the Responses wire comes with its own change
    auto = run_all_sizes(body, "auto", parts=parts)
    assert auto == blank(run(body, wire, parts=parts))
    assert of(auto, "metadata")[0]["response_id"] in ("c1", "msg_1", "resp_1")
    assert of(auto, "error") == []


def test_done_and_broken_events_before_the_decision_do_not_decide() -> None:
    body = b"data: [DONE]\n\ndata: {broken\n\n" + ANTHROPIC
    items = run_all_sizes(body, "auto")
    assert [e["kind"] for e in of(items, "error")] == ["decode_error"]
    assert of(items, "text") == [{"type": "text", "chunk": "hi"}]
    assert items[-1]["stop_reason"] is None or items[-1]["type"] == "done"


def test_done_after_the_decision_is_ignored_on_the_responses_wire() -> None:
    items = run_all_sizes(
        RESPONSES.replace(
            b'\n\ndata: {"type":"response.completed',
            b'\n\ndata: [DONE]\n\ndata: {"type":"response.completed',
        ),
        "auto",
        parts=False,
    )
    assert of(items, "error") == []
    assert items[-1]["stop_reason"] == "end_turn"


def test_an_anthropic_error_first_decides_anthropic() -> None:
    body = (
        b"event: error\n"
        b'data: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n'
        + ANTHROPIC
    )
    items = run_all_sizes(body, "auto")
    assert [(e["kind"], e["code"]) for e in of(items, "error")] == [
        ("server_error", "overloaded_error")
    ]
    assert of(items, "text") == [{"type": "text", "chunk": "hi"}]


def test_the_recorded_streams_of_every_wire_are_told_apart() -> None:
    for wire in ("chat", "anthropic"):
        for path in sorted((FIXTURES / wire).rglob("*.sse"))[:4]:
            body = path.read_bytes()
            assert blank(run(body, "auto")) == blank(run(body, wire)), path.name


# ---- framing -----------------------------------------------------------------


def _frames(body: bytes, size: int) -> list[Any]:
    got: list[Any] = []
    from_bytes(body, size).pipe(frame("auto")).subscribe(got.extend)
    return got


@pytest.mark.parametrize("size", [1, 3, 65536])
def test_auto_framing_reads_json_lines_when_the_first_byte_is_a_brace(size: int) -> None:
    body = b'\xef\xbb\xbf \r\n\t\n{"a":1}\n{"b":2}\n'
    assert [f[1] for f in _frames(body, size)] == [b'{"a":1}', b'{"b":2}']


@pytest.mark.parametrize("size", [1, 3, 65536])
def test_auto_framing_reads_sse_otherwise(size: int) -> None:
    body = b'\xef\xbb\xbf\n: comment\ndata: {"a":1}\n\n'
    assert [f[1] for f in _frames(body, size)] == [b'{"a":1}']


def test_auto_framing_holds_little_of_a_long_blank_start() -> None:
    framer = AutoFramer()
    assert framer.decode(b"\n" * 200_000) == []
    assert framer.format is None
    assert framer.decode(b'{"a":1}\n') == [(None, b'{"a":1}', False)]
    assert framer.format == "jsonl"


def test_a_chat_stream_in_json_lines_is_told_by_both_rules() -> None:
    lines = b'{"id":"c1","choices":[{"index":0,"delta":{"content":"hi"}}]}\n[DONE]\n'
    items = run_all_sizes(lines, "auto", format="auto")
    assert kinds(items) == ["start", "metadata", "part_start", "text", "done"]
    assert items[-1]["stop_reason"] == "end_turn"
