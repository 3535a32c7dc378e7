"""SPEC §3: which items each event gives."""

from typing import Any

import pytest
import reactivex
from reactivex.disposable import Disposable
from rxresponses import (
    Done,
    EncryptedReasoning,
    Error,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    Text,
    Usage,
    responses,
)
from rxresponses.operators import (
    ApprovalRequest,
    SequenceNumber,
    Terminal,
    ToolCall,
    ToolRequestComplete,
    finalize,
)

from tests.wire import (
    Event,
    args_delta,
    args_done,
    completed,
    created,
    function_call_added,
    message_item_done,
    reasoning_delta,
    reasoning_item_done,
    run,
    run_events,
    sse,
    text_delta,
    tool_calls,
    types,
    usage,
)


def errors(items: list[Any]) -> list[Error]:
    return [item for item in items if isinstance(item, Error)]


# ---- metadata -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["response.created", "response.queued", "response.in_progress"])
def test_first_lifecycle_event_with_an_id_gives_metadata(kind: str) -> None:
    items = run_events([{"type": kind, "response": {"id": "resp_9", "model": "gpt-5"}}])

    assert items[1] == Metadata(response_id="resp_9", model="gpt-5")


def test_metadata_comes_once_from_the_first_event_with_an_id() -> None:
    items = run_events(
        [
            {"type": "response.created", "response": {"status": "in_progress"}},
            created("resp_a", "m1"),
            {"type": "response.in_progress", "response": {"id": "resp_b", "model": "m2"}},
            completed(id="resp_c"),
        ]
    )

    assert [item for item in items if isinstance(item, Metadata)] == [
        Metadata(response_id="resp_a", model="m1")
    ]


def test_metadata_model_is_null_when_absent() -> None:
    items = run_events([{"type": "response.created", "response": {"id": "r"}}])

    assert items[1] == Metadata(response_id="r", model=None)


def test_terminal_event_gives_metadata_before_its_usage() -> None:
    items = run_events([completed("completed", usage(1, 2), id="resp_t", model="m")])

    assert types(items) == ["start", "metadata", "usage", "done"]
    assert items[1] == Metadata(response_id="resp_t", model="m")


def test_lifecycle_event_without_response_is_a_decode_error_and_no_metadata() -> None:
    items = run_events([{"type": "response.created"}, created("resp_2")])

    assert types(items)[:3] == ["start", "error", "metadata"]
    assert items[2] == Metadata(response_id="resp_2", model="gpt-5")
    [error] = errors(items)[:1]
    assert error.kind == "decode_error"


# ---- text, refusal, reasoning ---------------------------------------------


def test_refusal_delta_gives_refusal() -> None:
    items = run_events([{"type": "response.refusal.delta", "delta": "I can't"}, completed()])

    assert items[1:3] == [PartStart(kind="refusal"), Refusal(chunk="I can't")]


def test_raw_reasoning_text_delta_gives_reasoning() -> None:
    event = {"type": "response.reasoning_text.delta", "delta": "step 1", "output_index": 0}
    items = run_events([event, completed()])

    assert items[1:3] == [PartStart(kind="reasoning", index=0), Reasoning(chunk="step 1")]


@pytest.mark.parametrize(
    "kind",
    [
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
    ],
)
def test_empty_delta_gives_nothing(kind: str) -> None:
    items = run_events([{"type": kind, "delta": "", "output_index": 0}, completed()])

    assert types(items) == ["start", "done"]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "keepalive", "sequence_number": 3},
        {"type": "response.output_text.annotation.added", "annotation": {"x": 1}},
        {"type": "response.output_text.annotation.added", "annotation": {"type": "new", "url": 5}},
        {"type": "response.output_text.annotation.added", "annotation": None},
        {"type": "response.web_search_call.searching", "output_index": 0},
        {"type": "response.content_part.added", "part": {"type": "output_text"}},
        {"type": "response.something_new", "delta": 5},
    ],
)
def test_unknown_or_unused_events_give_nothing(event: dict[str, Any]) -> None:
    items = run_events([event, text_delta("x"), completed()])

    assert types(items) == ["start", "part_start", "text", "done"]


def test_missing_delta_is_a_decode_error_and_the_stream_goes_on() -> None:
    items = run_events([{"type": "response.output_text.delta"}, text_delta("after"), completed()])

    assert types(items) == ["start", "error", "part_start", "text", "done"]
    assert errors(items)[0].kind == "decode_error"
    assert errors(items)[0].retryable is False
    assert errors(items)[0].retry_after is None


def test_mistyped_field_is_a_decode_error() -> None:
    items = run_events([{"type": "response.output_text.delta", "delta": 5}, completed()])

    assert types(items) == ["start", "error", "done"]


# ---- whole items in output_item.done --------------------------------------


def test_message_item_done_without_deltas_gives_each_part_with_its_part_start() -> None:
    items = run_events([message_item_done("Hello", " there", output_index=0), completed()])

    assert items[1:5] == [
        PartStart(kind="text", index=0, id="msg_1"),
        Text(chunk="Hello"),
        PartStart(kind="text", index=0, id="msg_1"),
        Text(chunk=" there"),
    ]


def test_message_item_done_after_deltas_for_its_index_gives_nothing_more() -> None:
    items = run_events([text_delta("Hi", 0), message_item_done("Hi", output_index=0), completed()])

    assert [item for item in items if isinstance(item, Text)] == [Text(chunk="Hi")]


def test_message_item_done_for_another_index_still_gives_its_text() -> None:
    items = run_events([text_delta("A", 0), message_item_done("B", output_index=1), completed()])

    assert [item for item in items if isinstance(item, Text)] == [
        Text(chunk="A"),
        Text(chunk="B"),
    ]


def test_unindexed_delta_suppresses_every_message_item_done() -> None:
    items = run_events([text_delta("A", None), message_item_done("B", output_index=1), completed()])

    assert [item for item in items if isinstance(item, Text)] == [Text(chunk="A")]


def test_unindexed_message_item_done_gives_text_only_if_no_text_delta_came() -> None:
    with_delta = run_events([text_delta("A", 3), message_item_done("B", output_index=None)])
    without = run_events([message_item_done("B", output_index=None), completed()])

    assert [i for i in with_delta if isinstance(i, Text)] == [Text(chunk="A")]
    assert [i for i in without if isinstance(i, Text)] == [Text(chunk="B")]


def test_empty_message_item_done_gives_nothing() -> None:
    items = run_events([message_item_done(output_index=0), completed()])

    assert types(items) == ["start", "done"]


def test_reasoning_item_done_without_deltas_gives_summary_before_encrypted_content() -> None:
    items = run_events(
        [reasoning_item_done("blob", summary=["First.", "", "Second."]), completed()]
    )

    assert items[1:6] == [
        PartStart(kind="reasoning_summary", index=0, id="r_1"),
        Reasoning(chunk="First."),
        PartStart(kind="reasoning_summary", index=0, id="r_1"),
        Reasoning(chunk="Second."),
        EncryptedReasoning(id="r_1", content="blob"),
    ]


def test_reasoning_item_done_after_reasoning_deltas_gives_only_encrypted_content() -> None:
    items = run_events(
        [reasoning_delta("thinking", 0), reasoning_item_done("blob", summary=["thinking"])]
    )

    assert types(items)[1:4] == ["part_start", "reasoning", "encrypted_reasoning"]
    assert len([item for item in items if isinstance(item, Reasoning)]) == 1


def _not_utf8(events: list[Event], named: bool) -> bytes:
    """The events as SSE, with each "BAD" in them turned into a byte that is not UTF-8."""
    return sse(events, named=named).replace(b"BAD", b"\xff")


@pytest.mark.parametrize("named", [True, False])
def test_message_item_done_text_not_in_utf8_is_a_decode_error_when_its_text_is_needed(
    named: bool,
) -> None:
    data = _not_utf8([message_item_done("aBADb"), text_delta("after", 1), completed()], named)
    items = run(data)

    assert types(items) == ["start", "error", "part_start", "text", "done"]
    assert errors(items)[0].kind == "decode_error"
    assert "response.output_item.done" in errors(items)[0].message


@pytest.mark.parametrize("named", [True, False])
def test_message_item_done_text_not_in_utf8_passes_when_deltas_gave_the_text(named: bool) -> None:
    # The repeated text is not read then, like any other field nobody reads.
    data = _not_utf8([text_delta("ab", 0), message_item_done("aBADb"), completed()], named)

    assert run(data)[1:] == [
        PartStart(kind="text", index=0),
        Text(chunk="ab"),
        Done(stop_reason="end_turn"),
    ]


@pytest.mark.parametrize("text", [5, True, ["a"], {"a": 1}])
@pytest.mark.parametrize("deltas", [[], [text_delta("ab", 0)]])
def test_message_item_done_text_of_another_type_is_a_decode_error_even_after_deltas(
    text: Any, deltas: list[Event]
) -> None:
    done = message_item_done("ab")
    done["item"]["content"].append({"type": "output_text", "text": text})
    items = run_events([*deltas, done, text_delta("after", 1), completed()])

    streamed = ["part_start", "text"] if deltas else []
    assert types(items) == ["start", *streamed, "error", "part_start", "text", "done"]
    assert [item.kind for item in errors(items)] == ["decode_error"]
    assert [item for item in items if isinstance(item, Text)][-1] == Text(chunk="after")


def test_message_item_done_gives_text_and_refusal_parts_in_order_and_skips_the_rest() -> None:
    done = message_item_done("a", "b")
    done["item"]["content"][1:1] = [
        {"type": "output_text", "text": None},
        {"type": "refusal", "refusal": "no", "text": "not output text"},
        {"type": "output_image", "text": "not a text part"},
    ]
    items = run_events([done, completed()])

    assert items[1:] == [
        PartStart(kind="text", index=0, id="msg_1"),
        Text(chunk="a"),
        PartStart(kind="refusal", index=0, id="msg_1"),
        Refusal(chunk="no"),
        PartStart(kind="text", index=0, id="msg_1"),
        Text(chunk="b"),
        Done(stop_reason="end_turn"),
    ]


@pytest.mark.parametrize("named", [True, False])
def test_reasoning_item_done_summary_not_in_utf8_gives_only_its_error_when_needed(
    named: bool,
) -> None:
    data = _not_utf8([reasoning_item_done("blob", summary=["aBADb"]), completed()], named)
    items = run(data)

    assert types(items) == ["start", "error", "done"]
    assert errors(items)[0].kind == "decode_error"


@pytest.mark.parametrize("named", [True, False])
def test_reasoning_item_done_summary_not_in_utf8_passes_when_deltas_gave_it(named: bool) -> None:
    events = [reasoning_delta("ab", 0), reasoning_item_done("blob", summary=["aBADb"]), completed()]
    items = run(_not_utf8(events, named))

    assert items[1:] == [
        PartStart(kind="reasoning_summary", index=0),
        Reasoning(chunk="ab"),
        EncryptedReasoning(id="r_1", content="blob"),
        Done(stop_reason="end_turn"),
    ]


# ---- terminal events ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "details", "stop"),
    [
        ("completed", None, "end_turn"),
        (None, None, "end_turn"),
        ("incomplete", None, "length"),
        ("incomplete", {"reason": "max_output_tokens"}, "length"),
        ("incomplete", {"reason": "content_filter"}, "content_filter"),
        ("failed", None, None),
        ("cancelled", None, None),
    ],
)
def test_completed_stop_reason_follows_status(
    status: str | None, details: dict[str, str] | None, stop: str | None
) -> None:
    extra = {} if details is None else {"incomplete_details": details}
    items = run_events([completed(status, **extra)])

    assert items[-1] == Done(stop_reason=stop)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("details", "stop"),
    [
        (None, "length"),
        ({"reason": "max_output_tokens"}, "length"),
        ({"reason": "content_filter"}, "content_filter"),
    ],
)
def test_incomplete_event_gives_usage_and_its_stop_reason(
    details: dict[str, str] | None, stop: str
) -> None:
    response: dict[str, Any] = {"status": "incomplete", "usage": usage(7, 3)}
    if details is not None:
        response["incomplete_details"] = details
    items = run_events([{"type": "response.incomplete", "response": response}])

    assert types(items) == ["start", "usage", "done"]
    assert items[-1] == Done(stop_reason=stop)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, {}, "absent"])
def test_absent_null_or_empty_usage_gives_no_usage_item(value: Any) -> None:
    event = completed() if value == "absent" else completed(usage=value)
    if value is None:
        event = {"type": "response.completed", "response": {"usage": None}}
    items = run_events([event])

    assert types(items) == ["start", "done"]


def test_usage_with_missing_counts_counts_them_as_zero_and_ignores_extras() -> None:
    items = run_events([completed(usage={"output_tokens": 4, "cost": 0.01, "is_byok": False})])

    [found] = [item for item in items if isinstance(item, Usage)]
    assert (found.tokens.input_tokens, found.tokens.output_tokens) == (0, 4)


def test_usage_reads_cache_writes_and_null_details_give_null() -> None:
    written = run_events([completed(usage=usage(10, 2, cached=3, reasoning=0, cache_write=4))])
    nulls = run_events(
        [
            completed(
                usage={
                    "input_tokens": 1,
                    "output_tokens": 1,
                    "input_tokens_details": None,
                    "output_tokens_details": None,
                }
            )
        ]
    )

    [a] = [item for item in written if isinstance(item, Usage)]
    assert (a.tokens.cache_read_tokens, a.tokens.cache_creation_tokens) == (3, 4)
    assert a.tokens.reasoning_tokens is None
    [b] = [item for item in nulls if isinstance(item, Usage)]
    assert (b.tokens.cache_read_tokens, b.tokens.reasoning_tokens) == (None, None)


def test_failed_response_gives_server_error_from_its_error_and_null_stop_reason() -> None:
    event = {
        "type": "response.failed",
        "response": {
            "id": "resp_f",
            "status": "failed",
            "error": {"code": "server_error", "message": "The server had an error"},
        },
    }
    items = run_events([event])

    assert types(items) == ["start", "metadata", "error", "done"]
    error = items[2]
    assert isinstance(error, Error)
    assert (error.kind, error.code, error.message) == (
        "server_error",
        "server_error",
        "The server had an error",
    )
    assert error.retryable is True
    assert error.status is None
    assert items[-1] == Done(stop_reason=None)


def test_failed_response_without_error_says_response_failed() -> None:
    items = run_events([{"type": "response.failed", "response": {"error": None}}])

    assert errors(items)[0].message == "response failed"


def test_failed_response_with_fatal_code_is_not_retryable() -> None:
    event = {
        "type": "response.failed",
        "response": {"error": {"code": "context_length_exceeded", "message": "too long"}},
    }
    [error] = errors(run_events([event]))

    assert error.retryable is False


def test_nothing_after_the_first_terminal_event_is_read() -> None:
    items = run_events(
        [
            text_delta("one"),
            completed(),
            text_delta("two"),
            {"type": "error", "message": "late"},
            completed("incomplete"),
        ]
    )

    assert types(items) == ["start", "part_start", "text", "done"]
    assert items[-1] == Done(stop_reason="end_turn")


def test_terminal_event_that_fails_to_decode_does_not_end_the_response() -> None:
    items = run_events(
        [
            {"type": "response.completed", "response": {"status": 5}},
            text_delta("still here"),
            completed(),
        ]
    )

    assert types(items) == ["start", "error", "part_start", "text", "done"]
    assert errors(items)[0].kind == "decode_error"


# ---- error events -----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message", "code"),
    [
        ({"message": "boom", "code": "c1"}, "boom", "c1"),
        ({"error": {"message": "nested", "code": "c2"}}, "nested", "c2"),
        ({"code": "c3"}, "c3", "c3"),
        ({"error": {"code": "c4"}}, "c4", "c4"),
        ({}, "unknown error", None),
    ],
)
def test_error_event_message_and_code_fall_back_in_order(
    event: dict[str, Any], message: str, code: str | None
) -> None:
    [error] = errors(run_events([{"type": "error", **event}, completed()]))

    assert (error.kind, error.message, error.code, error.status) == (
        "server_error",
        message,
        code,
        None,
    )


@pytest.mark.parametrize(
    "event",
    [
        {"code": "insufficient_quota", "message": "quota"},
        {"error": {"code": "usage_not_included", "message": "plan"}},
        {"error": {"type": "invalid_request_error", "code": "bad", "message": "bad"}},
        {"code": "cyber_policy"},
        {"code": "invalid_prompt"},
    ],
)
def test_error_event_that_no_retry_can_fix_is_not_retryable(event: dict[str, Any]) -> None:
    [error] = errors(run_events([{"type": "error", **event}, completed()]))

    assert error.retryable is False


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Rate limit reached. Please try again in 11.054s.", 11.054),
        ("Try again in 28ms", 0.028),
        ("please try again in 35 seconds", 35.0),
        ("try again in 2 sec", 2.0),
        ("try again in 1 second", 1.0),
        ("slow down", None),
    ],
)
def test_error_event_retry_after_comes_from_its_message(
    message: str, seconds: float | None
) -> None:
    event = {"type": "error", "code": "rate_limit_exceeded", "message": message}
    [error] = errors(run_events([event, completed()]))

    assert error.retry_after == (pytest.approx(seconds) if seconds is not None else None)


def test_stream_goes_on_after_an_error_event() -> None:
    items = run_events([{"type": "error", "message": "hiccup"}, text_delta("on"), completed()])

    assert types(items) == ["start", "error", "part_start", "text", "done"]
    assert items[-1] == Done(stop_reason="end_turn")


# ---- end of input ---------------------------------------------------------


def test_end_of_input_without_terminal_event_is_a_retryable_stream_interrupted() -> None:
    items = run_events([text_delta("half an ans")])

    assert types(items) == ["start", "part_start", "text", "error", "done"]
    error = errors(items)[0]
    assert (error.kind, error.retryable, error.status) == ("stream_interrupted", True, None)
    assert "ended before the response completed" in error.message
    assert items[-1] == Done(stop_reason=None)


def test_end_of_input_completes_pending_calls_as_partial_in_start_order() -> None:
    items = run_events(
        [
            function_call_added(2, "fc_b", "call_b", "second"),
            function_call_added(0, "fc_a", "call_a", "first"),
            args_delta('{"x":', 0),
            args_delta("[1", 2),
        ]
    )

    assert types(items) == [
        "start",
        "tool_request_start",
        "tool_request_start",
        "tool_request_arg",
        "tool_request_arg",
        "error",
        "tool_request_complete",
        "tool_request_complete",
        "done",
    ]
    first, second = tool_calls(items)
    assert (first.id, first.arguments, first.partial) == ("fc_b", "[1", True)
    assert (second.id, second.arguments, second.partial) == ("fc_a", '{"x":', True)


def test_pending_calls_are_completed_as_partial_after_a_terminal_event() -> None:
    items = run_events([function_call_added(0), args_delta("{"), completed()])

    assert types(items)[-2:] == ["tool_request_complete", "done"]
    [call] = tool_calls(items)
    assert call.partial is True
    assert call.arguments == "{"
    assert items[-1] == Done(stop_reason="end_turn")


def test_empty_stream_gives_start_interrupted_and_done() -> None:
    items = run_events([])

    assert types(items) == ["start", "error", "done"]


# ---- done.last_sequence_number ---------------------------------------------------------


def numbered(event: Event, number: Any) -> Event:
    return {**event, "sequence_number": number}


def test_done_carries_the_largest_sequence_number_not_the_last() -> None:
    events = [
        numbered(created(), 5),
        numbered(text_delta("a"), 9),
        numbered(text_delta("b"), 7),
        numbered(completed(), 8),
    ]

    assert run_events(events)[-1] == Done(stop_reason="end_turn", last_sequence_number=9)


def test_a_sequence_number_that_is_not_an_integer_is_ignored_and_no_error() -> None:
    events = [
        numbered(text_delta("a"), 3),
        numbered(text_delta("b"), "40"),
        numbered(text_delta("c"), 41.5),
        numbered(text_delta("d"), True),
        numbered(completed(), None),
    ]
    items = run_events(events)

    assert errors(items) == []
    assert items[-1] == Done(stop_reason="end_turn", last_sequence_number=3)


def test_last_sequence_number_is_null_when_no_event_has_one() -> None:
    assert run_events([text_delta("a"), completed()])[-1].last_sequence_number is None  # type: ignore[union-attr]


def test_an_event_that_fails_to_decode_does_not_count() -> None:
    events = [
        numbered(text_delta("a"), 2),
        numbered({"type": "response.output_text.delta", "delta": 5}, 99),
        numbered({"type": "response.completed", "response": {"status": 5}}, 98),
        numbered({"type": "response.output_item.done", "output_index": 0}, 97),
    ]

    assert run_events(events)[-1] == Done(stop_reason=None, last_sequence_number=2)


def test_every_decoded_event_counts_whatever_it_gives() -> None:
    item = {"type": "web_search_call", "id": "ws_1"}
    events = [
        numbered({"type": "response.output_item.added", "output_index": 0, "item": item}, 4),
        numbered({"type": "error", "message": "hiccup"}, 6),
        numbered(text_delta(""), 5),
        numbered({"type": "response.output_text.annotation.added", "annotation": None}, 3),
    ]

    assert run_events(events)[-1] == Done(stop_reason=None, last_sequence_number=6)


def test_an_interrupted_stream_still_tells_how_far_it_got() -> None:
    items = run_events([numbered(created(), 0), numbered(text_delta("half"), 1)])

    assert [e.kind for e in errors(items)] == ["stream_interrupted"]
    assert items[-1] == Done(stop_reason=None, last_sequence_number=1)


def test_nothing_after_the_terminal_event_counts() -> None:
    events = [numbered(completed(), 3), numbered(text_delta("late"), 50)]

    assert run_events(events)[-1] == Done(stop_reason="end_turn", last_sequence_number=3)


# ---- stop reason tool_use -----------------------------------------------------------------


def test_a_call_the_caller_must_run_turns_end_turn_into_tool_use() -> None:
    events = [function_call_added(0), args_delta("{}"), args_done("{}"), completed()]

    assert run_events(events)[-1] == Done(stop_reason="tool_use")


def test_a_custom_tool_call_completed_by_its_whole_item_is_owed_too() -> None:
    item = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c", "name": "apply_patch"}
    done = {"type": "response.output_item.done", "output_index": 0, "item": {**item, "input": "x"}}

    assert run_events([done, completed()])[-1] == Done(stop_reason="tool_use")


def test_a_call_completed_only_as_partial_leaves_end_turn() -> None:
    items = run_events([function_call_added(0), args_delta('{"a":'), completed()])

    assert tool_calls(items)[0].partial is True
    assert items[-1] == Done(stop_reason="end_turn")


@pytest.mark.parametrize(
    ("terminal", "stop"),
    [(completed("incomplete"), "length"), (completed("failed"), None)],
)
def test_other_stop_reasons_stay_with_a_completed_call(terminal: Event, stop: Any) -> None:
    events = [function_call_added(0), args_done("{}"), terminal]

    assert run_events(events)[-1] == Done(stop_reason=stop)


def _finalized(*batch: Any) -> list[Any]:
    items: list[Any] = []
    reactivex.of(list(batch)).pipe(finalize()).subscribe(items.append)
    return items


def test_an_approval_request_turns_end_turn_into_tool_use() -> None:
    items = _finalized(ApprovalRequest(id="mcpr_1", tool_id="mcpr_1"), Terminal("end_turn"))

    assert items[-1] == Done(stop_reason="tool_use")


def test_a_call_the_server_ran_leaves_end_turn() -> None:
    call = ToolCall("ws_1", None, "web_search", "{}", "builtin", False, provider_executed=True)
    items = _finalized(ToolRequestComplete(tool_call=call), Terminal("end_turn"))

    assert items[-1] == Done(stop_reason="end_turn")


def test_the_largest_sequence_number_reaches_done_through_finalize() -> None:
    items = _finalized(SequenceNumber(4), SequenceNumber(12), Terminal("end_turn"))

    assert items[-1] == Done(stop_reason="end_turn", last_sequence_number=12)


def test_a_failing_source_still_tells_how_far_the_stream_got() -> None:
    def subscribe(observer: Any, scheduler: Any = None) -> Any:
        observer.on_next(sse([numbered(created(), 0), numbered(text_delta("half"), 4)]))
        observer.on_error(ConnectionResetError("connection lost"))
        return Disposable()

    items: list[Any] = []
    responses(reactivex.create(subscribe)).subscribe(items.append)

    assert len(errors(items)) == 1  # the failure, as an item
    assert items[-1] == Done(stop_reason=None, last_sequence_number=4)
