"""SPEC §3 "Tool calls": keyed by output_index, nothing lost, each start matched once."""

from typing import Any

from rxresponses import Error, ToolRequestArg, ToolRequestStart

from tests.wire import (
    args_delta,
    args_done,
    completed,
    function_call_added,
    function_call_done_item,
    run_events,
    tool_calls,
    types,
)


def custom_added(output_index: int = 0, name: str = "apply_patch") -> dict[str, Any]:
    return {
        "type": "response.output_item.added",
        "output_index": output_index,
        "item": {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_c", "name": name},
    }


def test_custom_tool_call_input_streams_as_free_text() -> None:
    items = run_events(
        [
            custom_added(),
            {
                "type": "response.custom_tool_call_input.delta",
                "output_index": 0,
                "delta": "*** Begin",
            },
            {"type": "response.custom_tool_call_input.delta", "output_index": 0, "delta": " Patch"},
            {
                "type": "response.custom_tool_call_input.done",
                "output_index": 0,
                "input": "*** Begin Patch",
            },
            completed(),
        ]
    )

    [call] = tool_calls(items)
    assert (call.id, call.call_id, call.name, call.kind) == (
        "ctc_1",
        "call_c",
        "apply_patch",
        "custom",
    )
    assert call.arguments == "*** Begin Patch"
    assert call.partial is False


def test_arguments_only_in_done_arrive_as_one_piece_before_completion() -> None:
    items = run_events([function_call_added(), args_done('{"a":1}'), completed()])

    assert types(items)[1:4] == ["tool_request_start", "tool_request_arg", "tool_request_complete"]
    assert items[2] == ToolRequestArg(id="fc_1", chunk='{"a":1}')
    assert tool_calls(items)[0].arguments == '{"a":1}'


def test_done_that_extends_the_streamed_input_adds_the_missing_rest() -> None:
    items = run_events(
        [function_call_added(), args_delta('{"a"'), args_done('{"a":1}'), completed()]
    )

    pieces = [item.chunk for item in items if isinstance(item, ToolRequestArg)]
    assert pieces == ['{"a"', ":1}"]
    assert tool_calls(items)[0].arguments == '{"a":1}'


def test_done_that_does_not_extend_the_streamed_input_leaves_it_standing() -> None:
    items = run_events(
        [function_call_added(), args_delta('{"a":2}'), args_done('{"b":3}'), completed()]
    )

    pieces = [item.chunk for item in items if isinstance(item, ToolRequestArg)]
    assert pieces == ['{"a":2}']
    assert tool_calls(items)[0].arguments == '{"a":2}'
    assert tool_calls(items)[0].partial is True


def test_output_item_done_completes_a_pending_call() -> None:
    items = run_events(
        [
            function_call_added(),
            args_delta('{"q"'),
            function_call_done_item(arguments='{"q":"x"}'),
            completed(),
        ]
    )

    [call] = tool_calls(items)
    assert call.arguments == '{"q":"x"}'
    assert call.partial is False


def test_call_first_seen_in_output_item_done_gives_start_arg_and_complete() -> None:
    items = run_events([function_call_done_item(arguments='{"k":1}'), completed()])

    assert types(items) == [
        "start",
        "tool_request_start",
        "tool_request_arg",
        "tool_request_complete",
        "done",
    ]
    assert tool_calls(items)[0].partial is False


def test_call_first_seen_in_output_item_done_with_empty_input_has_no_arg() -> None:
    items = run_events([function_call_done_item(arguments=""), completed()])

    assert types(items) == ["start", "tool_request_start", "tool_request_complete", "done"]


def test_later_completing_events_add_nothing() -> None:
    items = run_events(
        [
            function_call_added(),
            args_delta("{}"),
            args_done("{}"),
            function_call_done_item(arguments="{}"),
            args_done("{}"),
            completed(),
        ]
    )

    assert types(items).count("tool_request_complete") == 1
    assert types(items).count("tool_request_start") == 1


def test_second_added_for_a_pending_index_is_ignored() -> None:
    items = run_events(
        [
            function_call_added(0, "fc_1", name="first"),
            function_call_added(0, "fc_2", name="second"),
            args_done("{}"),
            completed(),
        ]
    )

    assert [item for item in items if isinstance(item, ToolRequestStart)] == [
        ToolRequestStart(id="fc_1", name="first")
    ]


def test_deltas_and_done_for_an_index_with_no_pending_call_are_ignored() -> None:
    items = run_events([args_delta("{", 4), args_done("{}", 4), completed()])

    assert types(items) == ["start", "done"]


def test_ids_and_name_are_fixed_when_the_call_starts() -> None:
    items = run_events(
        [
            function_call_added(1, "fc_first", "call_x", "lookup"),
            args_delta('{"a":', 1),
            function_call_done_item(
                1, item_id="fc_rotated", call_id="call_x", name="other", arguments='{"a":1}'
            ),
            completed(),
        ]
    )

    [call] = tool_calls(items)
    assert (call.id, call.call_id, call.name) == ("fc_first", "call_x", "lookup")
    assert {item.id for item in items if isinstance(item, ToolRequestArg)} == {"fc_first"}


def test_item_without_id_takes_its_call_id() -> None:
    items = run_events([function_call_added(0, None, "call_only"), args_done("{}"), completed()])

    [call] = tool_calls(items)
    assert (call.id, call.call_id) == ("call_only", "call_only")


def test_item_with_neither_id_nor_call_id_is_a_decode_error() -> None:
    items = run_events([function_call_added(0, None, None), args_done("{}"), completed()])

    assert types(items) == ["start", "error", "done"]
    error = items[1]
    assert isinstance(error, Error)
    assert error.kind == "decode_error"


def test_item_without_name_is_a_decode_error() -> None:
    event = function_call_added()
    del event["item"]["name"]
    items = run_events([event, completed()])

    assert types(items) == ["start", "error", "done"]


def test_parallel_calls_are_kept_apart_by_output_index() -> None:
    items = run_events(
        [
            function_call_added(1, "fc_a", "call_a", "weather"),
            function_call_added(2, "fc_b", "call_b", "time"),
            args_delta('{"city":', 1),
            args_delta('{"tz":', 2),
            args_delta('"Paris"}', 1),
            args_delta('"UTC"}', 2),
            args_done('{"tz":"UTC"}', 2),
            args_done('{"city":"Paris"}', 1),
            completed(),
        ]
    )

    calls = {call.id: call for call in tool_calls(items)}
    assert calls["fc_a"].arguments == '{"city":"Paris"}'
    assert calls["fc_b"].arguments == '{"tz":"UTC"}'
    assert [call.id for call in tool_calls(items)] == ["fc_b", "fc_a"]


def test_calls_sharing_an_id_are_matched_in_order() -> None:
    items = run_events(
        [
            function_call_added(0, "fc_same", name="a"),
            args_done("1"),
            function_call_added(0, "fc_same", name="b"),
            args_done("2"),
            completed(),
        ]
    )

    assert [(call.name, call.arguments) for call in tool_calls(items)] == [("a", "1"), ("b", "2")]


def test_input_over_the_cap_is_cut_with_one_decode_error_and_partial_call() -> None:
    items = run_events(
        [
            function_call_added(),
            args_delta("12345"),
            args_delta("67890"),
            args_delta("abc"),
            args_delta("d"),
            args_done("1234567890abcd"),
            completed(),
        ],
        max_tool_input_bytes=12,
    )

    pieces = [item.chunk for item in items if isinstance(item, ToolRequestArg)]
    assert pieces == ["12345", "67890"]
    capped = [item for item in items if isinstance(item, Error)]
    assert len(capped) == 1
    assert capped[0].kind == "decode_error"
    [call] = tool_calls(items)
    assert call.arguments == "1234567890"
    assert call.partial is True


def test_input_cap_counts_utf8_bytes() -> None:
    items = run_events(
        [function_call_added(), args_delta("éé"), args_delta("é"), args_done("ééé"), completed()],
        max_tool_input_bytes=5,
    )

    assert tool_calls(items)[0].arguments == "éé"
    assert tool_calls(items)[0].partial is True
