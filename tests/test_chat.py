"""OpenAI Chat Completions streams → items (SPEC §3.2), on hand-made and recorded streams."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rxresponses import from_bytes, responses
from rxresponses.operators import decode, frame

from .wire_checks import (
    FIXTURES,
    JSONObject,
    blank,
    calls,
    chat_sse,
    kinds,
    of,
    run,
    run_all_sizes,
    without,
)


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    *,
    id: str | None = "chatcmpl-1",
    model: str | None = "gpt-4o",
    index: int | None = 0,
    **extra: Any,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with one choice (``delta`` and ``finish_reason``)."""
    choice: dict[str, Any] = {"delta": delta if delta is not None else {}, "finish_reason": finish}
    if index is not None:
        choice["index"] = index
    out: dict[str, Any] = {"object": "chat.completion.chunk", "choices": [choice], **extra}
    if id is not None:
        out["id"] = id
    if model is not None:
        out["model"] = model
    return out


def call(
    index: int | None, id: str | None = None, name: str | None = None, args: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "function", "function": {}}
    if index is not None:
        entry["index"] = index
    if id is not None:
        entry["id"] = id
    if name is not None:
        entry["function"]["name"] = name
    if args is not None:
        entry["function"]["arguments"] = args
    return entry


def tools(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(entries)}


def chat(*chunks: dict[str, Any] | str, done: bool = True) -> list[JSONObject]:
    return run_all_sizes(chat_sse(*chunks, done=done), "chat")


def body(items: list[JSONObject]) -> list[JSONObject]:
    """The items between ``start``/``metadata`` and ``done``."""
    return without(items, "start", "metadata", "done")


# ---- metadata, text, refusal, reasoning, parts ----------------------------------


def test_metadata_comes_from_the_first_chunk_with_a_non_empty_id() -> None:
    items = chat(
        chunk({"content": "a"}, id="", model=""),
        chunk({"content": "b"}, id="chatcmpl-9", model=""),
        chunk({"content": "c"}, id="chatcmpl-10", model="gpt-x"),
        chunk(finish="stop"),
    )
    assert of(items, "metadata") == [
        {"type": "metadata", "response_id": "chatcmpl-9", "model": None}
    ]
    assert kinds(items)[:4] == ["start", "part_start", "text", "metadata"]


def test_a_stream_without_an_id_gives_no_metadata() -> None:
    items = chat(chunk({"content": "a"}, id=None), chunk(finish="stop", id=None))
    assert of(items, "metadata") == []


def test_content_refusal_and_reasoning_come_as_parts_of_index_0() -> None:
    items = chat(
        chunk({"role": "assistant", "content": ""}),
        chunk({"reasoning_content": "think"}),
        chunk({"reasoning": "more"}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"refusal": "no"}),
        chunk(finish="stop"),
    )
    assert body(items) == [
        {"type": "part_start", "kind": "reasoning", "index": 0, "id": None, "phase": None},
        {"type": "reasoning", "chunk": "think"},
        {"type": "reasoning", "chunk": "more"},
        {"type": "part_start", "kind": "text", "index": 0, "id": None, "phase": None},
        {"type": "text", "chunk": "Hel"},
        {"type": "text", "chunk": "lo"},
        {"type": "part_start", "kind": "refusal", "index": 0, "id": None, "phase": None},
        {"type": "refusal", "chunk": "no"},
    ]


def test_reasoning_content_is_read_before_reasoning() -> None:
    items = chat(chunk({"reasoning_content": "rc", "reasoning": "r"}), chunk(finish="stop"))
    assert [i["chunk"] for i in of(items, "reasoning")] == ["rc"]


def test_one_delta_gives_reasoning_then_text_then_refusal_then_tool_calls() -> None:
    delta = {
        "tool_calls": [call(0, "call_a", "f", "{}")],
        "refusal": "r",
        "content": "t",
        "reasoning_content": "th",
    }
    items = chat(chunk(delta), chunk(finish="tool_calls"))
    assert kinds(body(items)) == [
        "part_start",
        "reasoning",
        "part_start",
        "text",
        "part_start",
        "refusal",
        "tool_request_start",
        "tool_request_arg",
        "tool_request_complete",
    ]


def test_a_part_that_comes_back_after_another_kind_gets_a_new_part_start() -> None:
    items = chat(
        chunk({"content": "a"}),
        chunk({"reasoning": "b"}),
        chunk({"content": "c"}),
        chunk(finish="stop"),
    )
    assert [i["kind"] for i in of(items, "part_start")] == ["text", "reasoning", "text"]


def test_tool_calls_do_not_end_a_part() -> None:
    items = chat(
        chunk({"content": "a"}),
        chunk(tools(call(0, "call_a", "f", "{}"))),
        chunk({"content": "b"}),
        chunk(finish="tool_calls"),
    )
    assert len(of(items, "part_start")) == 1


def test_only_choice_0_is_read() -> None:
    items = chat(
        chunk({"content": "one"}, index=1),
        chunk({"content": "zero"}),
        chunk({"content": "none"}, index=None),
        chunk({"content": "two"}, index=2, finish="length"),
        chunk(finish="stop"),
    )
    assert [i["chunk"] for i in of(items, "text")] == ["zero", "none"]
    assert items[-1]["stop_reason"] == "end_turn"


def test_a_chunk_with_several_choices_reads_the_one_of_index_0() -> None:
    data = {
        "id": "c",
        "choices": [
            {"index": 1, "delta": {"content": "x"}},
            {"index": 0, "delta": {"content": "y"}},
        ],
    }
    items = chat(data, chunk(finish="stop"))
    assert [i["chunk"] for i in of(items, "text")] == ["y"]


def test_empty_choices_null_delta_and_missing_delta_give_nothing() -> None:
    items = chat(
        {"id": "c", "choices": []},
        {"id": "c", "choices": None},
        {"id": "c", "choices": [{"index": 0, "delta": None}]},
        {"id": "c", "choices": [{"index": 0}]},
        chunk(finish="stop"),
    )
    assert kinds(items) == ["start", "metadata", "done"]


# ---- stop reasons and usage ----------------------------------------------------


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", "end_turn"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("something_else", None),
    ],
)
def test_finish_reason_maps_to_the_stop_reason(finish: str, stop: str | None) -> None:
    items = chat(chunk({"content": "a"}), chunk(finish=finish))
    assert items[-1] == {"type": "done", "stop_reason": stop, "last_sequence_number": None}


def test_a_later_finish_reason_replaces_the_first() -> None:
    items = chat(chunk(finish="length"), chunk(finish="stop"))
    assert items[-1]["stop_reason"] == "end_turn"


def test_usage_of_the_last_chunk_that_has_one_comes_with_done() -> None:
    def usage(prompt: int, completion: int, **details: Any) -> dict[str, Any]:
        return {"prompt_tokens": prompt, "completion_tokens": completion, **details}

    items = chat(
        chunk({"content": "a"}, usage=usage(5, 1)),
        chunk({"content": "b"}, usage=usage(5, 2)),
        chunk(finish="stop", usage=None),
        {
            "id": "c",
            "choices": [],
            "usage": usage(
                7,
                3,
                total_tokens=10,
                prompt_tokens_details={"cached_tokens": 4},
                completion_tokens_details={"reasoning_tokens": 2},
                cost=0.1,
            ),
        },
    )
    assert kinds(items)[-2:] == ["usage", "done"]
    assert of(items, "usage") == [
        {
            "type": "usage",
            "tokens": {
                "input_tokens": 7,
                "output_tokens": 3,
                "cache_read_tokens": 4,
                "cache_creation_tokens": None,
                "reasoning_tokens": 2,
            },
        }
    ]


def test_zero_details_are_null_and_empty_usage_gives_no_item() -> None:
    zero = {
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": None,
    }
    items = chat(chunk(finish="stop", usage=zero))
    assert of(items, "usage")[0]["tokens"] == {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_read_tokens": None,
        "cache_creation_tokens": None,
        "reasoning_tokens": None,
    }
    assert of(chat(chunk(finish="stop", usage={})), "usage") == []


# ---- the end of the stream -------------------------------------------------------


def test_a_stream_that_ends_after_finish_reason_without_done_is_complete() -> None:
    items = chat(
        chunk({"content": "a"}),
        chunk(finish="stop"),
        {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
        done=False,
    )
    assert of(items, "error") == []
    assert kinds(items)[-2:] == ["usage", "done"]
    assert items[-1]["stop_reason"] == "end_turn"


def test_done_without_finish_reason_ends_the_turn_and_completes_calls_whole() -> None:
    items = chat(chunk({"content": "a"}), chunk(tools(call(0, "call_a", "f", '{"x":1}'))))
    assert calls(items) == [
        {
            "id": "call_a",
            "call_id": "call_a",
            "name": "f",
            "arguments": '{"x":1}',
            "kind": "function",
            "partial": False,
            "provider_executed": False,
            "namespace": None,
            "parent_id": None,
        }
    ]
    assert items[-1]["stop_reason"] in ("end_turn", "tool_use")
    assert of(items, "error") == []


def test_done_with_no_finish_reason_and_no_call_stops_with_end_turn() -> None:
    assert chat(chunk({"content": "a"}))[-1]["stop_reason"] == "end_turn"


def test_a_stream_that_ends_before_finish_reason_is_interrupted() -> None:
    items = chat(chunk({"content": "a"}), chunk(tools(call(0, "call_a", "f"))), done=False)
    assert [e["kind"] for e in of(items, "error")] == ["stream_interrupted"]
    assert kinds(items)[-5:] == [
        "tool_request_start",
        "error",
        "tool_request_arg",
        "tool_request_complete",
        "done",
    ]
    assert calls(items)[0]["arguments"] == "{}"
    assert calls(items)[0]["partial"] is True
    assert items[-1]["stop_reason"] is None


def test_nothing_after_done_is_read() -> None:
    data = chat_sse(chunk({"content": "a"}), chunk(finish="stop")) + chat_sse(
        chunk({"content": "late"}), done=False
    )
    items = run_all_sizes(data, "chat")
    assert [i["chunk"] for i in of(items, "text")] == ["a"]


def test_done_with_spaces_around_it_is_the_terminal() -> None:
    data = chat_sse(chunk({"content": "a"}), done=False) + b"data:  [DONE] \n\n"
    items = run_all_sizes(data, "chat")
    assert of(items, "error") == []
    assert items[-1]["stop_reason"] == "end_turn"


def test_done_without_a_final_blank_line_still_ends_the_stream() -> None:
    data = chat_sse(chunk({"content": "a"}), done=False) + b"data: [DONE]"
    items = run_all_sizes(data, "chat")
    assert of(items, "error") == []
    assert items[-1]["stop_reason"] == "end_turn"


# ---- errors --------------------------------------------------------------------


def test_an_error_chunk_is_a_server_error_and_the_stream_goes_on() -> None:
    items = chat(
        chunk({"content": "a"}),
        {"error": {"message": "upstream broke", "type": "server_error", "code": 500}},
        chunk({"content": "b"}),
        chunk(finish="stop"),
    )
    errors = of(items, "error")
    assert errors == [
        {
            "type": "error",
            "kind": "server_error",
            "code": "500",
            "message": "upstream broke",
            "status": None,
            "retryable": True,
            "retry_after": None,
        }
    ]
    assert [i["chunk"] for i in of(items, "text")] == ["a", "b"]


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        ({"message": "slow down", "code": "rate_limit_exceeded"}, "rate_limited", True),
        ({"message": "slow down", "type": "rate_limit_error"}, "rate_limited", True),
        ({"message": "slow down", "code": 429}, "rate_limited", True),
        ({"message": "Token limit reached", "code": 400}, "server_error", False),
        ({"message": "bad", "type": "invalid_request_error"}, "server_error", False),
        ({"message": "no money", "code": "insufficient_quota"}, "server_error", False),
        ({"message": "odd", "code": {"x": 1}}, "server_error", True),
    ],
)
def test_error_chunk_kinds_follow_the_code_and_type(
    error: dict[str, Any], kind: str, retryable: bool
) -> None:
    items = chat({"error": error}, chunk(finish="stop"))
    (item,) = of(items, "error")
    assert (item["kind"], item["retryable"]) == (kind, retryable)


def test_an_error_chunk_message_falls_back_to_its_code() -> None:
    (item,) = of(chat({"error": {"code": "boom"}}, chunk(finish="stop")), "error")
    assert item["message"] == "boom"
    (item,) = of(chat({"error": {}}, chunk(finish="stop")), "error")
    assert item["message"] == "unknown error"


@pytest.mark.parametrize(
    "data",
    [
        '{"id": 5, "choices": []}',
        '{"id": "c", "choices": [{"index": "0", "delta": {"content": "x"}}]}',
        '{"id": "c", "choices": [{"index": 0, "delta": {"content": 5}}]}',
        '{"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": "a"}]}}]}',
        '{"id": "c", "usage": {"prompt_tokens": "1"}}',
        "[1, 2]",
        '{"id": "c", "choices": [',
    ],
)
def test_a_mistyped_field_is_a_decode_error_and_nothing_else(data: str) -> None:
    items = chat(data, chunk(finish="stop", id="next"))
    assert kinds(items) == ["start", "error", "metadata", "done"]
    assert items[1]["kind"] == "decode_error"
    assert items[2]["response_id"] == "next"


# ---- tool calls ------------------------------------------------------------------


def test_a_call_with_its_id_only_on_the_first_entry_keeps_it() -> None:
    items = chat(
        chunk(tools(call(0, "call_1", "get", ""))),
        chunk(tools(call(0, None, None, '{"a"'))),
        chunk(tools(call(0, "", None, ":1}"))),
        chunk(finish="tool_calls"),
    )
    assert body(items) == [
        {"type": "tool_request_start", "id": "call_1", "name": "get", "provider_executed": False},
        {"type": "tool_request_arg", "id": "call_1", "chunk": '{"a"'},
        {"type": "tool_request_arg", "id": "call_1", "chunk": ":1}"},
        {
            "type": "tool_request_complete",
            "tool_call": {
                "id": "call_1",
                "call_id": "call_1",
                "name": "get",
                "arguments": '{"a":1}',
                "kind": "function",
                "partial": False,
                "provider_executed": False,
                "namespace": None,
                "parent_id": None,
            },
        },
    ]


def test_arguments_before_the_name_are_held_and_sent_after_the_start() -> None:
    items = chat(
        chunk(tools(call(0, "call_1", None, '{"a"'))),
        chunk(tools(call(0, None, None, ":"))),
        chunk(tools(call(0, None, "get", "1"))),
        chunk(tools(call(0, None, None, "}"))),
        chunk(finish="tool_calls"),
    )
    assert [(i["type"], i.get("chunk")) for i in body(items)] == [
        ("tool_request_start", None),
        ("tool_request_arg", '{"a"'),
        ("tool_request_arg", ":"),
        ("tool_request_arg", "1"),
        ("tool_request_arg", "}"),
        ("tool_request_complete", None),
    ]
    assert calls(items)[0]["id"] == "call_1"


def test_parallel_calls_all_at_index_0_each_with_its_own_id_are_separate_calls() -> None:
    items = chat(
        chunk(tools(call(0, "call_a", "f", '{"x":'))),
        chunk(tools(call(0, None, None, "1}"))),
        chunk(tools(call(0, "call_b", "g", '{"y":2}'))),
        chunk(tools(call(0, "call_b", "g", ""))),
        chunk(finish="tool_calls"),
    )
    assert [(c["id"], c["name"], c["arguments"], c["partial"]) for c in calls(items)] == [
        ("call_a", "f", '{"x":1}', False),
        ("call_b", "g", '{"y":2}', False),
    ]
    # The first completes when the second starts, before finish_reason.
    assert kinds(body(items)).index("tool_request_complete") < kinds(body(items)).index(
        "tool_request_start", 1
    )


def test_calls_at_several_indexes_complete_in_the_order_they_started() -> None:
    items = chat(
        chunk(tools(call(1, "call_b", "g", "{}"), call(0, "call_a", "f", "{}"))),
        chunk(finish="tool_calls"),
    )
    assert [c["id"] for c in calls(items)] == ["call_b", "call_a"]


def test_an_entry_without_index_takes_its_position_in_the_list() -> None:
    items = chat(
        chunk(tools(call(None, "call_a", "f", "{"), call(None, "call_b", "g", "{"))),
        chunk(tools(call(None, None, None, "}"), call(None, None, None, "}"))),
        chunk(finish="tool_calls"),
    )
    assert [(c["id"], c["arguments"]) for c in calls(items)] == [
        ("call_a", "{}"),
        ("call_b", "{}"),
    ]


def test_a_call_without_an_id_gets_one_made_from_its_index_and_keeps_it() -> None:
    items = chat(
        chunk(tools(call(2, None, "f", "{"))),
        chunk(tools(call(2, "call_late", None, "}"))),
        chunk(finish="tool_calls"),
    )
    assert [(c["id"], c["call_id"], c["arguments"]) for c in calls(items)] == [
        ("call_2", "call_2", "{}")
    ]


def test_an_id_seen_before_the_name_is_the_call_id() -> None:
    items = chat(
        chunk(tools(call(0, None, None, "{"))),
        chunk(tools(call(0, "call_x", None, "}"))),
        chunk(tools(call(0, None, "f", None))),
        chunk(finish="tool_calls"),
    )
    assert [(c["id"], c["arguments"]) for c in calls(items)] == [("call_x", "{}")]


def test_a_repeated_name_is_ignored() -> None:
    items = chat(
        chunk(tools(call(0, "call_a", "f", "{"))),
        chunk(tools(call(0, "call_a", "other", "}"))),
        chunk(finish="tool_calls"),
    )
    assert [(c["name"], c["arguments"]) for c in calls(items)] == [("f", "{}")]
    assert len(of(items, "tool_request_start")) == 1


def test_a_call_with_no_arguments_gets_one_empty_object() -> None:
    items = chat(chunk(tools(call(0, "call_a", "f", ""))), chunk(finish="tool_calls"))
    assert [(i["type"], i.get("chunk")) for i in body(items)] == [
        ("tool_request_start", None),
        ("tool_request_arg", "{}"),
        ("tool_request_complete", None),
    ]
    assert calls(items)[0]["arguments"] == "{}"


def test_a_call_that_never_got_a_name_gives_one_decode_error_at_finish_reason() -> None:
    items = chat(
        chunk(tools(call(0, "call_a", None, '{"a":1}'))),
        chunk(tools(call(1, "call_b", "g", "{}"))),
        chunk(finish="tool_calls"),
        chunk({"content": "after"}),
    )
    assert kinds(body(items)) == [
        "tool_request_start",
        "tool_request_arg",
        "error",
        "tool_request_complete",
        "part_start",
        "text",
    ]
    (error,) = of(items, "error")
    assert error["kind"] == "decode_error"
    assert [c["id"] for c in calls(items)] == ["call_b"]


@pytest.mark.parametrize("ending", ["end of input", "done"])
def test_a_nameless_call_gives_its_error_wherever_calls_are_completed(ending: str) -> None:
    items = chat(
        chunk(tools(call(0, "call_a", None, "{"))),
        chunk(tools(call(1, "call_b", "g", None))),
        done=ending == "done",
    )
    errors = [e["kind"] for e in of(items, "error")]
    if ending == "done":
        assert errors == ["decode_error"]
        assert calls(items)[0]["partial"] is False
    else:
        assert errors == ["stream_interrupted", "decode_error"]
        assert calls(items)[0]["partial"] is True
    # In start order: the nameless call (index 0) before call_b.
    tail = kinds(items)[kinds(items).index("error") :]
    assert tail[-4:] == ["error", "tool_request_arg", "tool_request_complete", "done"]


def test_a_nameless_call_at_a_source_failure_gives_its_error_after_the_failure() -> None:
    from reactivex import operators as ops

    data = chat_sse(chunk(tools(call(0, "call_a", None, "{"))), done=False)
    source = from_bytes(data, 65536).pipe(ops.concat(_failing()))
    items: list[Any] = []
    responses(source, wire="chat").subscribe(items.append)
    assert [(type(i).__name__, getattr(i, "kind", None)) for i in items][-3:] == [
        ("Error", "stream_interrupted"),
        ("Error", "decode_error"),
        ("Done", None),
    ]


def test_a_source_failure_after_finish_reason_is_still_a_failure() -> None:
    from reactivex import operators as ops

    data = chat_sse(chunk({"content": "a"}), chunk(finish="stop"), done=False)
    source = from_bytes(data, 65536).pipe(ops.concat(_failing()))
    items: list[Any] = []
    responses(source, wire="chat").subscribe(items.append)
    assert [type(i).__name__ for i in items][-2:] == ["Error", "Done"]
    assert items[-2].kind == "stream_interrupted"
    assert items[-1].stop_reason is None


def _failing() -> Any:
    import reactivex

    return reactivex.throw(ConnectionResetError("reset"))


def test_an_id_different_from_the_pending_nameless_ones_ends_it() -> None:
    items = chat(
        chunk(tools(call(0, "call_a", None, "{"))),
        chunk(tools(call(0, "call_b", "g", "{}"))),
        chunk(finish="tool_calls"),
    )
    assert kinds(body(items)) == [
        "error",
        "tool_request_start",
        "tool_request_arg",
        "tool_request_complete",
    ]


def test_a_call_after_finish_reason_is_completed_as_partial_at_done() -> None:
    items = chat(chunk(finish="tool_calls"), chunk(tools(call(0, "call_a", "f", "{"))))
    assert calls(items)[0]["partial"] is True


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from([None, "", "call_a", "call_b"]),
            st.sampled_from([None, "", "f", "g"]),
            st.sampled_from([None, "", "{", "}", '"x"']),
        ),
        max_size=8,
    ),
    st.sampled_from([None, "tool_calls", "stop"]),
    st.booleans(),
)
def test_any_tool_call_entries_keep_the_invariants(
    entries: list[tuple[int, str | None, str | None, str | None]],
    finish: str | None,
    done: bool,
) -> None:
    chunks = [chunk(tools(call(*entry))) for entry in entries]
    if finish is not None:
        chunks.append(chunk(finish=finish))
    items = run_all_sizes(chat_sse(*chunks, done=done), "chat")
    for tool_call in calls(items):
        assert tool_call["arguments"]  # every completed call has some input ("{}" at least)


# ---- framing -------------------------------------------------------------------


def test_frame_drops_done_unless_asked_to_pass_it_on() -> None:
    data = b"data: {}\n\ndata: [DONE]\n\n"
    got: list[Any] = []
    from_bytes(data).pipe(frame()).subscribe(got.extend)
    assert [f[1] for f in got] == [b"{}"]
    got = []
    from_bytes(data).pipe(frame(done=True)).subscribe(got.extend)
    assert [f[1] for f in got] == [b"{}", b"[DONE]"]
    got = []
    from_bytes(b"{}\n[DONE]\n").pipe(frame("jsonl", done=True), decode("chat")).subscribe(
        got.extend
    )
    assert [type(event).__name__ for event in got] == ["EventsRead", "ChatChunk", "ChatDone"]


def test_chat_streams_read_as_json_lines_give_the_same_items() -> None:
    chunks = [chunk({"content": "a"}), chunk(finish="stop")]
    sse_items = chat(*chunks)
    lines = "".join(f"{__import__('json').dumps(c)}\n" for c in chunks) + "[DONE]\n"
    assert blank(run(lines.encode(), "chat", format="jsonl")) == sse_items


# ---- recorded streams ----------------------------------------------------------

RECORDED = sorted(p.relative_to(FIXTURES) for p in (FIXTURES / "chat").rglob("*.sse"))


@pytest.mark.parametrize("name", [str(p) for p in RECORDED])
def test_recorded_chat_streams_keep_every_invariant_at_every_chunk_size(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    items = run_all_sizes(data, "chat")
    assert blank(run(data, "auto", 7)) == items


def _recorded(name: str) -> list[JSONObject]:
    return run_all_sizes((FIXTURES / "chat" / name).read_bytes(), "chat")


def test_recorded_openai_text_is_one_text_part_then_usage() -> None:
    items = _recorded("vercel_ai/openai-text.sse")
    assert kinds(items)[:4] == ["start", "metadata", "part_start", "text"]
    assert kinds(items)[-2:] == ["usage", "done"]
    assert len(of(items, "text")) == 300
    assert of(items, "error") == []
    assert items[-1]["stop_reason"] == "end_turn"


def test_recorded_parallel_calls_of_no_arguments_give_empty_objects() -> None:
    items = _recorded("pydantic_ai/test_complex_agent_run_in_workflow.0.sse")
    assert [(c["name"], c["arguments"], c["partial"]) for c in calls(items)] == [
        ("get_country", "{}", False),
        ("get_product_name", "{}", False),
    ]
    assert items[-1]["stop_reason"] == "tool_use"


def test_recorded_alibaba_empty_ids_and_mistral_nameless_continuations_keep_one_call() -> None:
    for name in ("vercel_ai/alibaba-tool-call.sse", "vercel_ai/mistral-incremental-tool-call.sse"):
        items = _recorded(name)
        assert len(calls(items)) == 1
        assert calls(items)[0]["partial"] is False
        assert of(items, "error") == []


def test_recorded_refusal_and_length_streams() -> None:
    items = _recorded("openai_python/test_parse_pydantic_model_refusal.173417d55340.sse")
    assert "".join(i["chunk"] for i in of(items, "refusal")) == (
        "I'm sorry, I can't assist with that request."
    )
    items = _recorded("openai_python/test_parse_max_tokens_reached.4cc50a6135d2.sse")
    assert items[-1]["stop_reason"] == "length"


def test_recorded_groq_error_without_done_gives_one_error() -> None:
    items = _recorded("pydantic_ai/test_tool_use_failed_error_streaming.0.sse")
    server = of(items, "error")[0]
    assert server["kind"] == "server_error"
    assert server["code"] == "tool_use_failed"
    assert server["retryable"] is False


def test_recorded_openrouter_error_chunk_next_to_a_choice() -> None:
    items = _recorded("pydantic_ai/test_openrouter_stream_error.0.sse")
    (error,) = of(items, "error")
    assert (error["kind"], error["code"], error["retryable"]) == ("server_error", "400", False)
    assert items[-1]["stop_reason"] == "length"
