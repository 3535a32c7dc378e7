"""Anthropic Messages streams → items (SPEC §3.3), on hand-made and recorded streams."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .wire_checks import (
    FIXTURES,
    JSONObject,
    anthropic_sse,
    blank,
    calls,
    kinds,
    of,
    run,
    run_all_sizes,
    without,
)


def message_start(
    id: str | None = "msg_1",
    model: str = "claude-x",
    usage: dict[str, Any] | None = None,
    content: list[dict[str, Any]] | None = None,
    stop_reason: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content or [],
        "stop_reason": stop_reason,
        "usage": usage if usage is not None else {"input_tokens": 10, "output_tokens": 1},
    }
    if id is not None:
        message["id"] = id
    return {"type": "message_start", "message": message}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": body}


def text(index: int, chunk: str) -> dict[str, Any]:
    return delta(index, {"type": "text_delta", "text": chunk})


def args(index: int, piece: str) -> dict[str, Any]:
    return delta(index, {"type": "input_json_delta", "partial_json": piece})


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(
    stop_reason: str | None = "end_turn", usage: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None, **extra},
        "usage": usage if usage is not None else {"output_tokens": 5},
    }


MESSAGE_STOP = {"type": "message_stop"}


def anthropic(*events: dict[str, Any] | str) -> list[JSONObject]:
    return run_all_sizes(anthropic_sse(*events), "anthropic")


def whole(*events: dict[str, Any] | str, reason: str | None = "end_turn") -> list[JSONObject]:
    """A message: ``message_start``, the events, ``message_delta`` and ``message_stop``."""
    return anthropic(message_start(), *events, message_delta(reason), MESSAGE_STOP)


def body(items: list[JSONObject]) -> list[JSONObject]:
    return without(items, "start", "metadata", "usage", "done")


def tool_block(kind: str = "tool_use", id: str = "toolu_1", name: str = "get", **extra: Any):  # type: ignore[no-untyped-def]
    return {"type": kind, "id": id, "name": name, "input": {}, **extra}


# ---- message_start, metadata, usage, stop reasons -------------------------------


def test_a_text_message_gives_metadata_a_text_part_usage_and_done() -> None:
    items = anthropic(
        message_start(usage={"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 3}),
        block_start(0, {"type": "text", "text": ""}),
        {"type": "ping"},
        text(0, "Hel"),
        text(0, "lo"),
        stop(0),
        message_delta("end_turn", {"output_tokens": 7, "cache_creation_input_tokens": 2}),
        MESSAGE_STOP,
    )
    assert without(items, "start") == [
        {"type": "metadata", "response_id": "msg_1", "model": "claude-x"},
        {"type": "part_start", "kind": "text", "index": 0, "id": None, "phase": None},
        {"type": "text", "chunk": "Hel"},
        {"type": "text", "chunk": "lo"},
        {
            "type": "usage",
            "tokens": {
                "input_tokens": 10,
                "output_tokens": 7,
                "cache_read_tokens": 3,
                "cache_creation_tokens": 2,
                "reasoning_tokens": None,
            },
        },
        {"type": "done", "stop_reason": "end_turn", "last_sequence_number": None},
    ]


def test_usage_counts_missing_or_null_in_message_delta_keep_their_start_value() -> None:
    items = anthropic(
        message_start(usage={"input_tokens": 10, "output_tokens": 1}),
        message_delta("end_turn", {"input_tokens": None, "output_tokens": 9}),
        MESSAGE_STOP,
    )
    assert of(items, "usage")[0]["tokens"]["input_tokens"] == 10
    assert of(items, "usage")[0]["tokens"]["output_tokens"] == 9


def test_no_usage_anywhere_gives_no_usage_item() -> None:
    items = anthropic(message_start(usage={}), message_delta("end_turn", {}), MESSAGE_STOP)
    assert of(items, "usage") == []


@pytest.mark.parametrize(
    ("reason", "stop_reason"),
    [
        ("end_turn", "end_turn"),
        ("stop_sequence", "end_turn"),
        ("tool_use", "tool_use"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause"),
        ("something_new", None),
        (None, None),
    ],
)
def test_stop_reasons_map(reason: str | None, stop_reason: str | None) -> None:
    assert whole(reason=reason)[-1]["stop_reason"] == stop_reason


def test_a_null_stop_reason_in_message_delta_keeps_the_remembered_one() -> None:
    items = anthropic(message_start(stop_reason="max_tokens"), message_delta(None), MESSAGE_STOP)
    assert items[-1]["stop_reason"] == "length"


def test_a_refusal_explanation_comes_as_its_own_refusal_part_before_usage() -> None:
    items = anthropic(
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        text(0, "I"),
        stop(0),
        message_delta("refusal", stop_details={"type": "refusal", "explanation": "Not safe."}),
        MESSAGE_STOP,
    )
    assert kinds(items)[-4:] == ["part_start", "refusal", "usage", "done"]
    assert of(items, "part_start")[-1] == {
        "type": "part_start",
        "kind": "refusal",
        "index": None,
        "id": None,
        "phase": None,
    }
    assert of(items, "refusal") == [{"type": "refusal", "chunk": "Not safe."}]
    assert items[-1]["stop_reason"] == "content_filter"


def test_a_duplicate_message_start_is_ignored_with_its_content() -> None:
    items = anthropic(
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        text(0, "a"),
        message_start(content=[{"type": "text", "text": "again"}]),
        message_start(id=None),
        stop(0),
        message_delta(),
        MESSAGE_STOP,
    )
    assert [i["chunk"] for i in of(items, "text")] == ["a"]
    assert len(of(items, "metadata")) == 1


def test_a_spliced_message_start_of_another_message_starts_over() -> None:
    cite = {"type": "char_location", "cited_text": "q", "document_title": "Doc"}
    items = anthropic(
        message_start(),
        block_start(0, tool_block()),
        args(0, '{"a"'),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, {"type": "citations_delta", "citation": cite}),
        message_start(id="msg_2"),
        block_start(0, tool_block(id="toolu_2")),
        args(0, "{}"),
        stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    assert len(of(items, "metadata")) == 1
    assert [(c["id"], c["arguments"], c["partial"]) for c in calls(items)] == [
        ("toolu_1", '{"a"', True),
        ("toolu_2", "{}", False),
    ]
    assert of(items, "citation")[0]["quote"] == "q"
    assert kinds(items).index("citation") < kinds(items).index("tool_request_start", 3)


def test_blocks_already_in_message_start_are_started_and_stopped() -> None:
    items = anthropic(
        message_start(
            content=[
                {"type": "text", "text": "whole"},
                {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"x": 1}},
            ]
        ),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    assert kinds(body(items)) == [
        "part_start",
        "text",
        "tool_request_start",
        "tool_request_arg",
        "tool_request_complete",
    ]
    assert calls(items)[0]["arguments"] == '{"x": 1}'


# ---- blocks ----------------------------------------------------------------------


def test_every_block_start_begins_a_new_part_and_a_returning_part_gets_another() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": "a"}),
        block_start(1, {"type": "thinking", "thinking": "", "signature": ""}),
        text(0, "b"),
        delta(1, {"type": "thinking_delta", "thinking": "c"}),
        text(0, "d"),
        stop(0),
        stop(1),
        block_start(0, {"type": "text", "text": ""}),
        text(0, "e"),
    )
    assert [(p["kind"], p["index"]) for p in of(items, "part_start")] == [
        ("text", 0),
        ("reasoning", 1),
        ("text", 0),
        ("text", 0),
    ]


def test_a_block_started_again_at_the_index_of_the_current_part_begins_another() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": "a"}),
        text(0, "b"),
        block_start(0, {"type": "text", "text": ""}),
        text(0, "c"),
        block_start(1, {"type": "text", "text": ""}),
        text(0, "d"),
    )
    # A start at another index leaves the current part as it is.
    assert [(p["kind"], p["index"]) for p in of(items, "part_start")] == [("text", 0), ("text", 0)]
    assert [t["chunk"] for t in of(items, "text")] == ["a", "b", "c", "d"]


def test_thinking_with_a_signature_gives_encrypted_reasoning_at_its_stop() -> None:
    items = whole(
        block_start(0, {"type": "thinking", "thinking": "start ", "signature": "s0"}),
        delta(0, {"type": "thinking_delta", "thinking": "more"}),
        delta(0, {"type": "signature_delta", "signature": "s1"}),
        delta(0, {"type": "signature_delta", "signature": "s2"}),
        stop(0),
    )
    assert body(items) == [
        {"type": "part_start", "kind": "reasoning", "index": 0, "id": None, "phase": None},
        {"type": "reasoning", "chunk": "start "},
        {"type": "reasoning", "chunk": "more"},
        {"type": "encrypted_reasoning", "id": "thinking:0", "content": "s2"},
    ]


def test_thinking_without_a_signature_gives_no_encrypted_reasoning() -> None:
    items = whole(block_start(2, {"type": "thinking", "thinking": "x"}), stop(2))
    assert of(items, "encrypted_reasoning") == []


def test_redacted_thinking_gives_encrypted_reasoning_at_once() -> None:
    items = whole(block_start(3, {"type": "redacted_thinking", "data": "blob"}), stop(3))
    assert body(items) == [
        {"type": "encrypted_reasoning", "id": "redacted_thinking:3", "content": "blob"}
    ]


def test_a_tool_use_block_is_a_function_call_completed_at_its_stop() -> None:
    items = whole(
        block_start(1, tool_block()),
        args(1, ""),
        args(1, '{"city"'),
        args(1, ':"Paris"}'),
        stop(1),
        reason="tool_use",
    )
    assert body(items) == [
        {"type": "tool_request_start", "id": "toolu_1", "name": "get", "provider_executed": False},
        {"type": "tool_request_arg", "id": "toolu_1", "chunk": '{"city"'},
        {"type": "tool_request_arg", "id": "toolu_1", "chunk": ':"Paris"}'},
        {
            "type": "tool_request_complete",
            "tool_call": {
                "id": "toolu_1",
                "call_id": "toolu_1",
                "name": "get",
                "arguments": '{"city":"Paris"}',
                "kind": "function",
                "partial": False,
                "provider_executed": False,
                "namespace": None,
                "parent_id": None,
            },
        },
    ]


@pytest.mark.parametrize(
    ("given_input", "arguments"),
    [(None, "{}"), ({}, "{}"), ("{ }", "{}"), ({"player": "p1"}, '{"player":"p1"}')],
)
def test_a_tool_block_with_no_streamed_input_takes_its_start_input(
    given_input: Any, arguments: str
) -> None:
    block = tool_block()
    if given_input is None:
        del block["input"]
    else:
        block["input"] = given_input
    data = (
        anthropic_sse(
            message_start(), block_start(0, block), stop(0), message_delta("tool_use"), MESSAGE_STOP
        )
        .replace(b'"player": "p1"', b'"player":"p1"')
        .replace(b'"{ }"', b"{ }")
    )
    items = run_all_sizes(data, "anthropic")
    assert kinds(body(items)) == ["tool_request_start", "tool_request_arg", "tool_request_complete"]
    assert calls(items)[0]["arguments"] == arguments


def test_server_and_mcp_tool_blocks_are_builtin_calls_the_server_runs() -> None:
    items = whole(
        block_start(0, tool_block("server_tool_use", "srvtoolu_1", "web_search")),
        args(0, '{"query":"x"}'),
        stop(0),
        block_start(1, tool_block("mcp_tool_use", "mcptoolu_1", "lookup", server_name="docs")),
        stop(1),
    )
    assert [(c["kind"], c["provider_executed"], c["namespace"]) for c in calls(items)] == [
        ("builtin", True, None),
        ("builtin", True, "docs"),
    ]
    assert all(s["provider_executed"] for s in of(items, "tool_request_start"))


def test_a_call_issued_by_a_program_names_it_as_parent() -> None:
    items = whole(
        block_start(
            0,
            tool_block("tool_use", caller={"type": "code_execution_20250825", "tool_id": "srv_1"}),
        ),
        stop(0),
        block_start(1, tool_block("tool_use", id="toolu_2", caller={"type": "direct"})),
        stop(1),
    )
    assert [c["parent_id"] for c in calls(items)] == ["srv_1", None]


def test_a_result_block_gives_the_tool_result_of_its_call() -> None:
    result = [{"type": "web_search_result", "url": "https://a.example", "title": "A"}]
    items = whole(
        block_start(0, tool_block("server_tool_use", "srvtoolu_1", "web_search")),
        stop(0),
        block_start(
            1, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": result}
        ),
        stop(1),
    )
    (item,) = of(items, "tool_result")
    assert item["id"] == "srvtoolu_1"
    assert item["name"] == "web_search"
    assert (
        item["output"]
        == '[{"type": "web_search_result", "url": "https://a.example", "title": "A"}]'
    )
    assert item["is_error"] is False
    assert item["preliminary"] is False
    assert kinds(items).index("tool_result") > kinds(items).index("tool_request_complete")


@pytest.mark.parametrize(
    ("block", "is_error"),
    [
        ({"content": {"type": "web_search_tool_result_error", "error_code": "unavailable"}}, True),
        ({"content": [{"type": "text", "text": "x"}], "is_error": True}, True),
        ({"content": {"type": "code_execution_result", "stdout": ""}}, False),
    ],
)
def test_a_result_is_an_error_by_its_flag_or_its_content_type(
    block: dict[str, Any], is_error: bool
) -> None:
    items = whole(
        block_start(0, {"type": "code_execution_tool_result", "tool_use_id": "srv_1", **block}),
        stop(0),
    )
    assert of(items, "tool_result")[0]["is_error"] is is_error


def test_a_result_naming_no_call_of_this_stream_is_named_by_its_block_type() -> None:
    items = whole(
        block_start(0, {"type": "mcp_tool_result", "tool_use_id": "old", "content": []}),
        stop(0),
        block_start(1, {"type": "web_fetch_tool_result", "tool_use_id": "old2", "content": {}}),
        stop(1),
    )
    assert [(r["id"], r["name"]) for r in of(items, "tool_result")] == [
        ("old", "mcp"),
        ("old2", "web_fetch"),
    ]


def test_a_call_gets_at_most_one_result_and_client_calls_none() -> None:
    items = whole(
        block_start(0, tool_block("server_tool_use", "srv_1", "web_search")),
        stop(0),
        block_start(1, {"type": "web_search_tool_result", "tool_use_id": "srv_1", "content": []}),
        stop(1),
        block_start(2, {"type": "web_search_tool_result", "tool_use_id": "srv_1", "content": []}),
        stop(2),
        block_start(3, tool_block("tool_use", "toolu_9", "f")),
        stop(3),
        block_start(4, {"type": "web_search_tool_result", "tool_use_id": "toolu_9", "content": []}),
        stop(4),
    )
    assert [r["id"] for r in of(items, "tool_result")] == ["srv_1"]


def test_citations_are_held_until_their_block_stops_in_arrival_order() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": "", "citations": []}),
        delta(
            0,
            {
                "type": "citations_delta",
                "citation": {
                    "type": "web_search_result_location",
                    "url": "https://u",
                    "title": "U",
                    "cited_text": "said",
                },
            },
        ),
        text(0, "It said so."),
        delta(
            0,
            {
                "type": "citations_delta",
                "citation": {
                    "type": "char_location",
                    "cited_text": "q2",
                    "document_title": "D",
                    "document_index": 0,
                },
            },
        ),
        text(0, " Again."),
        stop(0),
    )
    assert kinds(body(items)) == ["part_start", "text", "text", "citation", "citation"]
    assert of(items, "citation") == [
        {
            "type": "citation",
            "url": "https://u",
            "title": "U",
            "file_id": None,
            "filename": None,
            "container_id": None,
            "quote": "said",
            "start": None,
            "end": None,
        },
        {
            "type": "citation",
            "url": None,
            "title": "D",
            "file_id": None,
            "filename": None,
            "container_id": None,
            "quote": "q2",
            "start": None,
            "end": None,
        },
    ]


def test_citations_of_a_block_that_never_stops_come_at_message_stop() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "citations_delta", "citation": {"type": "x", "file_id": "file_1"}}),
        text(0, "t"),
    )
    assert kinds(items)[-3:] == ["citation", "usage", "done"]


def test_citations_of_a_block_that_never_stops_come_at_the_end_of_input() -> None:
    items = anthropic(
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "citations_delta", "citation": {"type": "x", "url": "https://u"}}),
    )
    assert kinds(items)[-3:] == ["citation", "error", "done"]


def test_a_citation_with_no_url_file_or_quote_is_a_decode_error_when_it_arrives() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "citations_delta", "citation": {"type": "x", "title": "t"}}),
        text(0, "t"),
        stop(0),
    )
    assert kinds(body(items)) == ["error", "part_start", "text"]
    assert of(items, "error")[0]["kind"] == "decode_error"


def test_a_broken_citation_in_a_start_block_is_a_decode_error_and_the_block_stands() -> None:
    items = whole(
        block_start(0, {"type": "text", "text": "t", "citations": [{"type": "x"}, {"url": "u"}]}),
        stop(0),
    )
    assert kinds(body(items)) == ["part_start", "text", "error", "citation"]
    assert of(items, "error")[0]["kind"] == "decode_error"


def test_compaction_content_and_deltas_come_as_one_compaction_at_stop() -> None:
    items = whole(
        block_start(0, {"type": "compaction", "content": None}),
        delta(0, {"type": "compaction_delta", "content": "part one, "}),
        delta(0, {"type": "compaction_delta", "content": "part two"}),
        stop(0),
        block_start(1, {"type": "compaction", "content": "given"}),
        stop(1),
    )
    assert of(items, "compaction") == [
        {"type": "compaction", "id": "compaction:0", "content": "part one, part two"},
        {"type": "compaction", "id": "compaction:1", "content": "given"},
    ]


def test_unknown_events_blocks_and_deltas_give_nothing() -> None:
    items = whole(
        {"type": "brand_new_event", "x": 1},
        block_start(0, {"type": "image", "source": {}}),
        delta(0, {"type": "new_delta", "stuff": 1}),
        stop(0),
    )
    assert body(items) == []


# ---- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_type", "kind", "retryable"),
    [
        ("overloaded_error", "server_error", True),
        ("api_error", "server_error", True),
        ("rate_limit_error", "rate_limited", True),
        ("invalid_request_error", "server_error", False),
        ("authentication_error", "server_error", False),
        ("request_too_large", "server_error", False),
    ],
)
def test_error_events_map_by_their_nested_type_and_the_stream_goes_on(
    error_type: str, kind: str, retryable: bool
) -> None:
    items = whole(
        block_start(0, {"type": "text", "text": ""}),
        {"type": "error", "error": {"type": error_type, "message": "Overloaded"}},
        text(0, "after"),
    )
    (error,) = of(items, "error")
    assert error == {
        "type": "error",
        "kind": kind,
        "code": error_type,
        "message": "Overloaded",
        "status": None,
        "retryable": retryable,
        "retry_after": None,
    }
    assert of(items, "text") == [{"type": "text", "chunk": "after"}]


@pytest.mark.parametrize(
    "data",
    [
        '{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}}',
        '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}',
        '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","name":"f"}}',
        '{"type":"content_block_stop"}',
        '{"type":"message_start"}',
        "[1]",
        '{"type":"content_block_delta",',
    ],
)
def test_a_broken_event_gives_only_its_decode_error(data: str) -> None:
    items = whole(data)
    assert kinds(body(items)) == ["error"]
    assert of(items, "error")[0]["kind"] == "decode_error"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "text_delta", "text": None}, "text"),
        ({"type": "thinking_delta"}, "thinking"),
        ({"type": "input_json_delta", "partial_json": None}, "partial_json"),
        ({"type": "signature_delta"}, "signature"),
        ({"type": "citations_delta"}, "citation"),
    ],
)
def test_a_delta_without_the_field_of_its_type_is_a_decode_error_naming_it(
    body: dict[str, Any], field: str
) -> None:
    items = whole(block_start(0, {"type": "text", "text": ""}), delta(0, body), text(0, "after"))
    errors = of(items, "error")
    assert len(errors) == 1
    assert errors[0]["kind"] == "decode_error"
    assert f"a {body['type']} needs its {field}" in errors[0]["message"]
    assert of(items, "text") == [{"type": "text", "chunk": "after"}]


def test_done_data_is_ignored_on_this_wire() -> None:
    items = whole("[DONE]", block_start(0, {"type": "text", "text": "a"}))
    assert of(items, "error") == []
    assert of(items, "text") == [{"type": "text", "chunk": "a"}]


def test_nothing_after_message_stop_is_read() -> None:
    data = anthropic_sse(message_start(), message_delta(), MESSAGE_STOP) + anthropic_sse(
        block_start(0, {"type": "text", "text": "late"})
    )
    assert of(run_all_sizes(data, "anthropic"), "text") == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(lambda i: block_start(i, tool_block(id=f"toolu_{i}")), st.integers(0, 2)),
            st.builds(lambda i: block_start(i, {"type": "text", "text": "t"}), st.integers(0, 2)),
            st.builds(lambda i, p: args(i, p), st.integers(0, 2), st.sampled_from(["", "{", "}"])),
            st.builds(lambda i: text(i, "x"), st.integers(0, 2)),
            st.builds(stop, st.integers(0, 2)),
            st.just(message_start(id="msg_other")),
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_any_sequence_of_blocks_keeps_the_invariants(
    events: list[dict[str, Any]], ends: bool
) -> None:
    tail = [message_delta(), MESSAGE_STOP] if ends else []
    run_all_sizes(anthropic_sse(message_start(), *events, *tail), "anthropic")


# ---- recorded streams ----------------------------------------------------------

RECORDED = sorted(p.relative_to(FIXTURES) for p in (FIXTURES / "anthropic").rglob("*.sse"))


@pytest.mark.parametrize("name", [str(p) for p in RECORDED])
def test_recorded_anthropic_streams_keep_every_invariant_at_every_chunk_size(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    items = run_all_sizes(data, "anthropic")
    assert of(items, "error") == []
    assert blank(run(data, "auto", 7)) == items


def _recorded(name: str) -> list[JSONObject]:
    return run_all_sizes((FIXTURES / "anthropic" / name).read_bytes(), "anthropic")


def test_recorded_web_search_gives_a_call_its_result_text_and_citations() -> None:
    items = _recorded("vercel_ai/anthropic-web-search-tool.1.sse")
    (call,) = calls(items)
    assert (call["name"], call["kind"], call["provider_executed"]) == (
        "web_search",
        "builtin",
        True,
    )
    (result,) = of(items, "tool_result")
    assert result["id"] == call["id"]
    assert result["name"] == "web_search"
    assert len(of(items, "citation")) == 14


def test_recorded_spliced_message_start_completes_the_first_attempt_as_partial() -> None:
    items = _recorded("vercel_ai/spliced-message-start.sse")
    assert len(of(items, "metadata")) == 1
    assert [c["partial"] for c in calls(items)] == [True, False]


def test_recorded_refusal_and_thinking_streams() -> None:
    assert _recorded("vercel_ai/anthropic-refusal.sse")[-1]["stop_reason"] == "content_filter"
    items = _recorded("pydantic_ai/test_anthropic_model_thinking_part_stream.0.sse")
    assert [e["id"] for e in of(items, "encrypted_reasoning")] == ["thinking:0"]
    items = _recorded("pydantic_ai/test_anthropic_model_thinking_part_redacted_stream.0.sse")
    assert [e["id"][:18] for e in of(items, "encrypted_reasoning")] == ["redacted_thinking:"] * 2


def test_recorded_tool_with_no_arguments_gets_an_empty_object() -> None:
    items = _recorded("vercel_ai/anthropic-tool-no-args.sse")
    assert [c["arguments"] for c in calls(items)] == ["{}"]
    assert items[-1]["stop_reason"] == "tool_use"


def test_recorded_pause_turn_stops_with_pause() -> None:
    items = _recorded("pydantic_ai/test_pause_turn_web_search_streaming_vcr.0.sse")
    assert items[-1]["stop_reason"] == "pause"
