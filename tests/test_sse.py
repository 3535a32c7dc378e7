"""SPEC §5: SSE and JSON Lines framing, on the framers directly and through ``responses()``."""

import json
import tracemalloc
from collections.abc import Iterator, Sequence

import pytest
from rxresponses.operators import Frame, JSONLinesFramer, SSEFramer

from tests.helpers import (
    JSONObject,
    args_delta,
    args_done,
    call_added,
    check_items,
    chunks_of,
    completed,
    errors,
    run_chunks,
    run_items,
    sse,
    tool_calls,
    without_message_id,
)

DELTA_A = b'{"type":"response.output_text.delta","delta":"a"}'
DELTA_B = b'{"type":"response.output_text.delta","delta":"b"}'
COMPLETED = b'{"type":"response.completed","response":{"id":"r","status":"completed"}}'


def framed(
    chunks: Sequence[bytes], framer: SSEFramer | JSONLinesFramer | None = None
) -> list[Frame]:
    """All frames of ``chunks`` fed one by one, then ``flush()``."""
    framer = framer if framer is not None else SSEFramer()
    frames: list[Frame] = []
    for chunk in chunks:
        frames.extend(framer.decode(chunk))
    frames.extend(framer.flush())
    return frames


def splits(data: bytes) -> Iterator[list[bytes]]:
    """``data`` whole, one byte at a time, and cut in two at every position."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]


def items(data: bytes, chunk_size: int = 1 << 16, **kwargs: int) -> list[JSONObject]:
    """The items of ``data`` (checked against the invariants), in JSON form."""
    return check_items(run_items(data, chunk_size, **kwargs))  # type: ignore[arg-type]


def kinds(objects: list[JSONObject]) -> list[str]:
    """``type`` of each item, ``error:<kind>`` for errors; without ``start`` and ``part_start``.

    These tests are about framing: where parts begin is ``test_parts``'s business.
    """
    return [
        f"error:{o['kind']}" if o["type"] == "error" else o["type"]
        for o in objects
        if o["type"] not in ("start", "part_start")
    ]


def data_frames(*datas: bytes) -> list[Frame]:
    return [(None, data, False) for data in datas]


# ---- line ends ------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_line_end_ends_lines(eol: bytes) -> None:
    data = b"event: e" + eol + b"data: " + DELTA_A + eol + eol + b"data: " + DELTA_B + eol + eol
    assert framed([data]) == [(b"e", DELTA_A, False), (None, DELTA_B, False)]
    assert chunks_of(items(data), "text") == ["a", "b"]


def test_mixed_line_ends_in_one_stream() -> None:
    data = b"data: x\r\ndata: y\rdata: z\n\r\n" + b"data: " + DELTA_A + b"\r\r" + b"data: w\n\n"
    assert framed([data]) == data_frames(b"x\ny\nz", DELTA_A, b"w")


def test_crlf_across_chunks() -> None:
    # "\r" then "\n" in the next chunk is one line end, not a line end and a blank line
    data = b"data: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n"
    for chunks in splits(data):
        assert framed(chunks) == data_frames(b"x\ny", b"z"), chunks


def test_cr_and_lf_split_across_chunks_through_the_chain() -> None:
    data = b'data: {"type":"response.output_text.delta",\r\ndata: "delta":"a"}\r\n\r\n'
    want = without_message_id(items(data))
    assert kinds(want) == ["text", "error:stream_interrupted", "done"]
    cut = data.index(b"\r\n") + 1
    assert without_message_id(check_items(run_chunks([data[:cut], data[cut:]]))) == want
    for size in (1, 2, 3, 5, 7):
        assert without_message_id(items(data, size)) == want, size


def test_empty_chunk_between_cr_and_lf_does_not_end_a_line() -> None:
    data = b'data: {"type":"response.output_text.delta",\r\ndata: "delta":"a"}\r\n\r\n'
    cut = data.index(b"\r\n") + 1
    assert framed([data[:cut], b"", data[cut:]]) == framed([data])
    got = without_message_id(check_items(run_chunks([data[:cut], b"", data[cut:]])))
    assert got == without_message_id(items(data))


def test_lone_cr_at_the_end_of_a_chunk_followed_by_a_new_line() -> None:
    assert framed([b"data: x\r", b"data: y\r\r"]) == data_frames(b"x\ny")
    assert framed([b"data: x\r", b"\r", b"data: y\r\r"]) == data_frames(b"x", b"y")


# ---- fields ---------------------------------------------------------------------


def test_data_lines_of_one_event_are_joined_with_lf() -> None:
    assert framed([b"data: a\ndata: b\ndata:\ndata: c\n\n"]) == data_frames(b"a\nb\n\nc")
    data = b'data: {"type":"response.output_text.delta",\ndata: "delta":"a"}\n\n'
    assert chunks_of(items(data), "text") == ["a"]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert framed([b"data:x\n\n"]) == data_frames(b"x")
    assert framed([b"data: x\n\n"]) == data_frames(b"x")
    assert framed([b"data:  x\n\n"]) == data_frames(b" x")
    assert framed([b"data:\tx\n\n"]) == data_frames(b"\tx")
    assert framed([b"event:  e\ndata: x\n\n"]) == [(b" e", b"x", False)]


def test_line_without_colon_is_a_field_with_an_empty_value() -> None:
    # "data" alone is an empty data line; joined like any other
    assert framed([b"data\ndata: x\n\n"]) == data_frames(b"\nx")
    assert framed([b"data\n\n"]) == []
    frames = framed([b"event\ndata: x\n\n"])
    assert len(frames) == 1
    assert not frames[0][0]  # an empty event name
    data = b'data: {"type":"response.output_text.delta","delta":"a"}\ndata\n\n'
    assert chunks_of(items(data), "text") == ["a"]


def test_unknown_fields_are_ignored() -> None:
    data = b"foo: bar\nfoo\ndata: x\nDATA: y\ndata : z\nxyz: 1\n\n"
    assert framed([data]) == data_frames(b"x")


def test_comments_are_ignored_even_inside_an_event() -> None:
    data = b": hello\ndata: x\n:\n: more\ndata: y\n\n: trailing\n\n"
    assert framed([data]) == data_frames(b"x\ny")


def test_id_and_retry_fields_are_ignored() -> None:
    plain = b"data: " + DELTA_A + b"\n\n"
    with_fields = b"id: 7\nretry: 1000\ndata: " + DELTA_A + b"\nid\nretry: x\n\n"
    assert framed([with_fields]) == framed([plain])
    assert without_message_id(items(with_fields)) == without_message_id(items(plain))


def test_an_event_with_only_id_is_not_dispatched() -> None:
    assert framed([b"id: 1\n\nretry: 5\n\n"]) == []


# ---- byte-order mark -----------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def test_leading_bom_is_dropped() -> None:
    data = BOM + b"data: " + DELTA_A + b"\n\n"
    assert framed([data]) == data_frames(DELTA_A)
    assert chunks_of(items(data), "text") == ["a"]


def test_bom_split_across_chunks_is_dropped() -> None:
    data = BOM + b"data: " + DELTA_A + b"\n\n"
    for chunks in splits(data):
        assert framed(chunks) == data_frames(DELTA_A), chunks
    assert framed([b"\xef", b"", b"\xbb", b"\xbf", b"data: x\n\n"]) == data_frames(b"x")
    for size in (1, 2):
        assert chunks_of(items(data, size), "text") == ["a"]


def test_bom_is_dropped_only_at_the_start() -> None:
    # a second mark, or one later in the stream, makes its line an unknown field
    assert framed([BOM + BOM + b"data: x\n\n"]) == []
    assert framed([b"data: x\n\n" + BOM + b"data: y\n\n"]) == data_frames(b"x")
    later = b"data: " + DELTA_A + b"\n\n" + BOM + b"data: " + DELTA_B + b"\n\n"
    assert chunks_of(items(later), "text") == ["a"]


def test_input_shorter_than_a_bom_is_not_lost() -> None:
    assert framed([b"\xef\xbb"]) == []
    assert framed([b"da", b"ta: {}"]) == data_frames(b"{}")


# ---- what is not dispatched -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"event: response.output_text.delta\n\n",
        b"data:\n\n",
        b"data: \n\n",
        b"data:  \t \n\n",
        b"data: \ndata: \n\n",
        b"data:\r\n\r\n",
        b"\n\n\n\n",
    ],
    ids=["no-data", "empty", "one-space", "whitespace", "two-empty-lines", "crlf-empty", "blank"],
)
def test_event_without_data_is_not_dispatched(data: bytes) -> None:
    assert framed([data]) == []
    assert kinds(items(data)) == ["error:stream_interrupted", "done"]


@pytest.mark.parametrize(
    "marker",
    [
        b"[DONE]",
        b" [DONE]",
        b"[DONE]  ",
        b"\t[DONE]\t",
        b" [DONE] \r",
        b" " * 20 + b"[DONE]",
        b"[DONE]" + b" " * 20,
        b"\t" * 8 + b"[DONE]" + b"\t" * 8,
    ],
    ids=repr,
)
def test_done_marker_is_ignored(marker: bytes) -> None:
    data = b"data: " + marker + b"\n\ndata: " + DELTA_A + b"\n\n"
    assert kinds(items(data)) == ["text", "error:stream_interrupted", "done"]


def test_done_marker_does_not_end_the_stream() -> None:
    data = b"data: [DONE]\n\ndata: " + DELTA_A + b"\n\ndata: " + COMPLETED + b"\n\n"
    assert kinds(items(data)) == ["text", "metadata", "done"]
    assert items(data)[-1]["stop_reason"] == "end_turn"


# ---- event type ---------------------------------------------------------------------------


def test_json_type_wins_over_a_disagreeing_event_name() -> None:
    data = b"event: response.completed\ndata: " + DELTA_A + b"\n\n"
    assert kinds(items(data)) == ["text", "error:stream_interrupted", "done"]
    data = b"event: response.output_text.delta\ndata: " + COMPLETED + b"\n\n"
    assert kinds(items(data)) == ["metadata", "done"]
    data = b"event: keepalive\ndata: " + DELTA_A + b"\n\n"
    assert chunks_of(items(data), "text") == ["a"]


def test_json_type_is_used_when_event_name_is_missing() -> None:
    data = b"data: " + DELTA_A + b"\n\ndata: " + COMPLETED + b"\n\n"
    assert kinds(items(data)) == ["text", "metadata", "done"]


@pytest.mark.parametrize(
    "data",
    [b"[1,2]", b'"text"', b"42", b"null", b"true", b'{"type":5}', b'{"delta":"x"}', b"{}"],
    ids=repr,
)
def test_valid_json_that_is_not_an_object_with_a_string_type_is_a_decode_error(
    data: bytes,
) -> None:
    stream = b"data: " + data + b"\n\ndata: " + DELTA_A + b"\n\n"
    objects = items(stream)
    assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]


# ---- invalid text and depth -----------------------------------------------------------------


@pytest.mark.parametrize(
    "delta",
    [b'"\xff"', b'"a\xc3"', b'"\xed\xa0\x80"', b'"\\ud800"', b'"x\\udc00y"'],
    ids=["ff", "truncated-utf8", "utf8-surrogate", "lone-high-escape", "lone-low-escape"],
)
def test_invalid_text_in_a_used_field_is_a_decode_error(delta: bytes) -> None:
    event = b'{"type":"response.output_text.delta","delta":' + delta + b"}"
    objects = items(b"data: " + event + b"\n\ndata: " + DELTA_B + b"\n\n")
    assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
    assert chunks_of(objects, "text") == ["b"]


def test_invalid_text_in_a_tool_name_or_item_is_a_decode_error() -> None:
    added = (
        b'{"type":"response.output_item.added","output_index":0,"item":'
        b'{"type":"function_call","id":"fc","name":"f\\ud800"}}'
    )
    done = (
        b'{"type":"response.output_item.done","output_index":0,"item":'
        b'{"type":"message","content":[{"type":"output_text","text":"\xff"}]}}'
    )
    objects = items(b"data: " + added + b"\n\ndata: " + done + b"\n\n")
    assert kinds(objects) == [
        "error:decode_error",
        "error:decode_error",
        "error:stream_interrupted",
        "done",
    ]


def test_invalid_utf8_in_an_unused_field_passes() -> None:
    event = b'{"type":"response.output_text.delta","obfuscation":"\xff\xfe","delta":"a"}'
    assert chunks_of(items(b"data: " + event + b"\n\n"), "text") == ["a"]
    named = b"event: \xff\xfe\ndata: " + DELTA_A + b"\n\n"
    assert chunks_of(items(named), "text") == ["a"]


def test_lone_surrogate_in_an_unused_field_never_reaches_an_item() -> None:
    # SPEC §5: in fields nobody reads it *may* pass; either way the stream goes on
    event = b'{"type":"response.output_text.delta","obfuscation":"\\ud800","delta":"a"}'
    objects = items(b"data: " + event + b"\n\ndata: " + DELTA_B + b"\n\n")
    assert kinds(objects)[-3:] == ["text", "error:stream_interrupted", "done"]
    assert kinds(objects)[:-3] in (["text"], ["error:decode_error"])


def test_nesting_deeper_than_msgspec_decodes_is_a_decode_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    event = b'{"type":"response.output_text.delta","delta":"a","extra":' + deep + b"}"
    objects = items(b"data: " + event + b"\n\ndata: " + DELTA_B + b"\n\n")
    assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
    item = b'{"type":"response.output_item.done","output_index":0,"item":' + deep + b"}"
    objects = items(b"data: " + item + b"\n\ndata: " + DELTA_B + b"\n\n")
    assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]


def test_moderate_nesting_in_an_unused_field_passes() -> None:
    nested = b"[" * 50 + b"]" * 50
    event = b'{"type":"response.output_text.delta","extra":' + nested + b',"delta":"a"}'
    assert chunks_of(items(b"data: " + event + b"\n\n"), "text") == ["a"]


# ---- end of input ---------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r", b""], ids=["lf", "crlf", "cr", "none"])
def test_unterminated_last_event_with_complete_json_is_dispatched(ending: bytes) -> None:
    data = b"data: " + DELTA_A + b"\n\ndata: " + DELTA_B + ending
    assert framed([data]) == data_frames(DELTA_A, DELTA_B)
    assert kinds(items(data)) == ["text", "text", "error:stream_interrupted", "done"]
    for chunks in splits(data):
        assert framed(chunks) == data_frames(DELTA_A, DELTA_B), chunks


@pytest.mark.parametrize("ending", [b"\n", b""], ids=["lf", "none"])
def test_unterminated_terminal_event_completes_the_response(ending: bytes) -> None:
    data = b"data: " + DELTA_A + b"\n\ndata: " + COMPLETED + ending
    objects = items(data)
    assert kinds(objects) == ["text", "metadata", "done"]
    assert objects[-1]["stop_reason"] == "end_turn"


@pytest.mark.parametrize("ending", [b"\n", b""], ids=["lf", "none"])
def test_unterminated_last_event_with_incomplete_json_is_discarded(ending: bytes) -> None:
    data = b"data: " + DELTA_A + b"\n\ndata: " + COMPLETED[:-5] + ending
    assert framed([data]) == data_frames(DELTA_A)
    assert kinds(items(data)) == ["text", "error:stream_interrupted", "done"]
    cut = b"data: " + DELTA_A + b"\n\ndata: " + DELTA_A + b"\ndata: {"
    assert framed([cut]) == data_frames(DELTA_A)


# ---- the event size cap ----------------------------------------------------------------------


def test_event_over_the_cap_gives_one_decode_error_and_the_stream_goes_on() -> None:
    big = b'{"type":"response.output_text.delta","delta":"' + b"x" * 500 + b'"}'
    data = b"data: " + big + b"\n\ndata: " + DELTA_A + b"\n\n"
    for size in (1, 7, 64, 1 << 16):
        objects = items(data, size, max_event_bytes=100)
        assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
        assert chunks_of(objects, "text") == ["a"]


@pytest.mark.parametrize(
    "data",
    [
        b"data: 0123456789012345678901234567890123456789\n\n",
        b"event: x\ndata: " + DELTA_A + b"\n\n",
        b"data: " + DELTA_A + b"\n\n",
    ],
    ids=["plain", "named", "typed"],
)
def test_oversized_event_gives_the_same_decode_error_at_every_chunk_size(data: bytes) -> None:
    want = without_message_id(items(data, max_event_bytes=33))
    assert kinds(want) == ["error:decode_error", "error:stream_interrupted", "done"]
    for size in (1, 7, 20):
        assert without_message_id(items(data, size, max_event_bytes=33)) == want, size


def test_many_data_lines_adding_up_over_the_cap_give_one_decode_error() -> None:
    lines = b"".join(b"data: " + b"y" * 30 + b"\n" for _ in range(10))
    data = b"event: big\n" + lines + b"\ndata: " + DELTA_A + b"\n\n"
    for size in (1, 13, 1 << 16):
        objects = items(data, size, max_event_bytes=100)
        assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
        assert "big" in errors(objects, "decode_error")[0]["message"]


def test_each_event_over_the_cap_gives_its_own_decode_error() -> None:
    big = b"data: " + b"z" * 300 + b"\n\n"
    data = big + big + b"data: " + DELTA_A + b"\n\n" + big
    objects = items(data, 7, max_event_bytes=100)
    assert kinds(objects) == [
        "error:decode_error",
        "error:decode_error",
        "text",
        "error:decode_error",
        "error:stream_interrupted",
        "done",
    ]


def test_oversized_unterminated_last_event_gives_one_decode_error() -> None:
    data = b"data: " + DELTA_A + b"\n\ndata: " + b"q" * 300
    objects = items(data, 5, max_event_bytes=100)
    assert kinds(objects) == ["text", "error:decode_error", "error:stream_interrupted", "done"]


@pytest.mark.parametrize("line", [b": " + b"c" * 500, b"foo: " + b"u" * 500, b"u" * 500])
def test_comment_or_unknown_field_over_the_cap_is_dropped_silently(line: bytes) -> None:
    data = line + b"\ndata: " + DELTA_A + b"\n\n"
    for size in (1, 9, 1 << 16):
        objects = items(data, size, max_event_bytes=100)
        assert kinds(objects) == ["text", "error:stream_interrupted", "done"], size


def test_event_name_over_the_cap_gives_one_decode_error() -> None:
    data = b"event: " + b"n" * 500 + b"\ndata: " + DELTA_B + b"\n\ndata: " + DELTA_A + b"\n\n"
    objects = items(data, 11, max_event_bytes=100)
    assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
    assert chunks_of(objects, "text") == ["a"]


def test_data_line_over_the_cap_split_over_many_chunks() -> None:
    line = b"data: " + b"v" * 5000 + b"\n\n"
    data = line + b"data: " + DELTA_A + b"\n\n"
    for size in (1, 3, 100, 4999):
        objects = items(data, size, max_event_bytes=1000)
        assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]


def test_an_event_whose_longest_line_is_exactly_the_cap_passes() -> None:
    event = b'{"type":"response.output_text.delta","delta":"' + b"k" * 20 + b'"}'
    line = b"data: " + event
    data = line + b"\n\n"
    objects = items(data, 3, max_event_bytes=len(line))
    assert chunks_of(objects, "text") == ["k" * 20]
    objects = items(data, 3, max_event_bytes=len(line) - 1)
    assert kinds(objects) == ["error:decode_error", "error:stream_interrupted", "done"]


def _peak_while_feeding(
    framer: SSEFramer | JSONLinesFramer, head: bytes, frames: list[Frame]
) -> int:
    """Peak memory while ``framer`` takes 20 MiB of one line, 64 KiB at a time."""
    block = b"w" * (1 << 16)
    tracemalloc.start()
    try:
        frames.extend(framer.decode(head))
        for _ in range(320):
            frames.extend(framer.decode(block))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_oversized_event_is_not_buffered_past_the_cap() -> None:
    framer = SSEFramer(max_event_bytes=1 << 16)
    frames: list[Frame] = []
    assert _peak_while_feeding(framer, b"data: ", frames) < 4 << 20
    frames += framer.decode(b"\n\ndata: x\n\n")
    assert [(oversized, data) for _, data, oversized in frames][-1] == (False, b"x")
    assert [oversized for _, _, oversized in frames] == [True, False]


def test_an_event_known_to_be_over_the_cap_holds_none_of_its_later_lines() -> None:
    # Once its lines went over the cap, they are read as they come (for a
    # later ``event:`` line), not held up to the cap again.
    cap = 1 << 16
    framer = SSEFramer(max_event_bytes=cap)
    block = (b"data: " + b"w" * 1017 + b"\n") * 64  # 64 KiB of 1 KiB lines
    frames = framer.decode(block * 2)  # over the cap
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(40):
            frames += framer.decode(block + b"event: named\n")
            frames += framer.decode(block[: len(block) // 2])
            frames += framer.decode(block[len(block) // 2 :])
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    frames += framer.decode(b"\ndata: x\n\n")

    assert held - before < cap // 4, f"{held - before} bytes held"
    assert [(name, oversized) for name, _, oversized in frames] == [
        (b"named", True),
        (None, False),
    ]


def test_oversized_jsonl_line_is_not_buffered_past_the_cap() -> None:
    framer = JSONLinesFramer(max_event_bytes=1 << 16)
    frames: list[Frame] = []
    assert _peak_while_feeding(framer, b"{", frames) < 4 << 20
    frames += framer.decode(b"\n{}\n")
    assert [oversized for _, _, oversized in frames] == [True, False]
    assert frames[-1][1] == b"{}"


# ---- the tool input cap -------------------------------------------------------------------------


def _events(*events: JSONObject) -> bytes:
    return b"".join(
        b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events
    )


def test_tool_input_over_the_cap_is_cut_with_one_decode_error_and_partial() -> None:
    data = _events(
        call_added(0, "fc_a", "big"),
        args_delta(0, "12345"),
        args_delta(0, "67890"),
        args_delta(0, "abc"),
        args_delta(0, "d"),
        args_done(0, "1234567890abcd"),
        call_added(1, "fc_b", "small"),
        args_delta(1, "{}"),
        args_done(1, "{}"),
        completed(),
    )
    for size in (1, 7, 1 << 16):
        objects = items(data, size, max_tool_input_bytes=10)
        assert len(errors(objects, "decode_error")) == 1
        assert tool_calls(objects) == [
            {
                "id": "fc_a",
                "call_id": "call_1",
                "name": "big",
                "arguments": "1234567890",
                "kind": "function",
                "partial": True,
                "provider_executed": False,
                "namespace": None,
                "parent_id": None,
            },
            {
                "id": "fc_b",
                "call_id": "call_1",
                "name": "small",
                "arguments": "{}",
                "kind": "function",
                "partial": False,
                "provider_executed": False,
                "namespace": None,
                "parent_id": None,
            },
        ]
        assert objects[-1] == {  # the small call is whole: the caller owes it
            "type": "done",
            "stop_reason": "tool_use",
            "last_sequence_number": None,
        }


def test_tool_input_sent_only_in_done_over_the_cap_completes_partial() -> None:
    data = _events(call_added(0, "fc_a"), args_done(0, "x" * 50), completed())
    objects = items(data, max_tool_input_bytes=10)
    assert len(errors(objects, "decode_error")) == 1
    [call] = tool_calls(objects)
    assert call["partial"] is True
    assert len(call["arguments"].encode()) <= 10


def test_tool_input_cap_counts_utf8_bytes() -> None:
    data = _events(call_added(0), args_delta(0, "éé"), args_delta(0, "éé"), args_done(0, "éééé"))
    objects = items(data, max_tool_input_bytes=6)
    [call] = tool_calls(objects)
    assert call["partial"] is True
    assert len(call["arguments"].encode()) <= 6
    assert len(errors(objects, "decode_error")) == 1


# ---- decode_error messages -----------------------------------------------------------------------


def _decode_error(stream: bytes) -> JSONObject:
    [error] = errors(items(stream), "decode_error")
    return error


def test_decode_error_names_the_sse_event_name() -> None:
    error = _decode_error(b"event: my.custom.name\ndata: {broken\n\n")
    assert "my.custom.name" in error["message"]


def test_decode_error_names_the_json_type_when_there_is_no_event_name() -> None:
    # the type sits past the 200 characters shown, so only naming it shows it
    event = b'{"pad":"' + b"p" * 300 + b'","type":"response.output_text.delta"}'
    error = _decode_error(b"data: " + event + b"\n\n")
    assert "response.output_text.delta" in error["message"]


def test_decode_error_says_unknown_event_when_no_type_can_be_read() -> None:
    assert "unknown event" in _decode_error(b"data: {not json\n\n")["message"]
    assert "unknown event" in _decode_error(b"data: [1,2,3]\n\n")["message"]


def test_decode_error_shows_at_most_200_characters_of_the_data() -> None:
    body = "".join(chr(ord("A") + i % 26) for i in range(1000))
    error = _decode_error(b"data: {" + body.encode() + b"\n\n")
    assert ("{" + body)[:150] in error["message"]
    for start in range(len(body) - 200):
        assert body[start : start + 200] not in error["message"]


def test_decode_error_shows_invalid_utf8_as_replacement_characters() -> None:
    error = _decode_error(b"data: {\xff\xfe broken\n\n")
    assert "\ufffd" in error["message"]
    assert "broken" in error["message"]


def test_decode_error_of_an_oversized_event_names_it() -> None:
    objects = items(b"event: huge.one\ndata: " + b"h" * 500 + b"\n\n", max_event_bytes=100)
    [error] = errors(objects, "decode_error")
    assert "huge.one" in error["message"]
    assert "h" * 201 not in error["message"]


def test_decode_error_has_no_retry_after_even_if_the_data_asks_for_one() -> None:
    error = _decode_error(b"data: rate limited, try again in 20s\n\n")
    assert error["retry_after"] is None
    assert error["retryable"] is False
    assert error["status"] is None
    assert error["code"] is None
    error = _decode_error(b'data: {"type":"error","message":5,"note":"try again in 3s"}\n\n')
    assert error["retry_after"] is None


# ---- JSON Lines ----------------------------------------------------------------------------------


def jsonl_items(data: bytes, chunk_size: int = 1 << 16, **kwargs: int) -> list[JSONObject]:
    return check_items(run_items(data, chunk_size, "jsonl", **kwargs))


def test_jsonl_splits_on_lf_only() -> None:
    framer = JSONLinesFramer()
    assert framed([b'{"a":\r1}\n{"b":2}\n'], framer) == data_frames(b'{"a":\r1}', b'{"b":2}')
    data = b'{"type":"response.output_text.delta",\r"delta":"a"}\n'
    assert chunks_of(jsonl_items(data), "text") == ["a"]


def test_jsonl_trailing_cr_is_removed() -> None:
    data = b'{"a":1}\r\n{"b":2}\r\n'
    for chunks in splits(data):
        assert framed(chunks, JSONLinesFramer()) == data_frames(b'{"a":1}', b'{"b":2}'), chunks


def test_jsonl_blank_lines_are_skipped() -> None:
    data = b"\n\n" + DELTA_A + b"\n   \n\r\n\t\n" + DELTA_B + b"\n\n"
    assert framed([data], JSONLinesFramer()) == data_frames(DELTA_A, DELTA_B)
    assert kinds(jsonl_items(data)) == ["text", "text", "error:stream_interrupted", "done"]


def test_jsonl_leading_bom_is_dropped_even_split() -> None:
    data = BOM + DELTA_A + b"\n"
    for chunks in splits(data):
        assert framed(chunks, JSONLinesFramer()) == data_frames(DELTA_A), chunks
    assert chunks_of(jsonl_items(data, 1), "text") == ["a"]
    later = DELTA_A + b"\n" + BOM + DELTA_B + b"\n"
    assert kinds(jsonl_items(later)) == [
        "text",
        "error:decode_error",
        "error:stream_interrupted",
        "done",
    ]


def test_jsonl_last_line_without_lf_counts() -> None:
    data = DELTA_A + b"\n" + COMPLETED
    for size in (1, 5, 1 << 16):
        objects = jsonl_items(data, size)
        assert kinds(objects) == ["text", "metadata", "done"]
        assert objects[-1]["stop_reason"] == "end_turn"


def test_jsonl_broken_last_line_is_a_decode_error() -> None:
    # a line is a whole event: unlike SSE, a broken last line is an event that fails
    data = DELTA_A + b"\n" + COMPLETED[:-3]
    objects = jsonl_items(data)
    assert kinds(objects)[0] == "text"
    assert kinds(objects)[-2:] == ["error:stream_interrupted", "done"]


def test_jsonl_line_over_the_cap_gives_one_decode_error() -> None:
    big = b'{"type":"response.output_text.delta","delta":"' + b"x" * 500 + b'"}'
    data = big + b"\n" + DELTA_A + b"\n"
    for size in (1, 7, 1 << 16):
        objects = jsonl_items(data, size, max_event_bytes=100)
        assert kinds(objects) == ["error:decode_error", "text", "error:stream_interrupted", "done"]


def test_jsonl_oversized_line_gives_the_same_decode_error_at_every_chunk_size() -> None:
    data = b"0123456789" * 10 + b"\n" + DELTA_A + b"\n"
    want = without_message_id(jsonl_items(data, max_event_bytes=60))
    assert kinds(want) == ["error:decode_error", "text", "error:stream_interrupted", "done"]
    for size in (1, 7, 20):
        assert without_message_id(jsonl_items(data, size, max_event_bytes=60)) == want, size


def test_jsonl_gives_the_same_items_as_sse() -> None:
    events = [DELTA_A, DELTA_B, COMPLETED]
    as_sse = b"".join(b"data: " + e + b"\n\n" for e in events)
    as_jsonl = b"\n".join(events)
    assert without_message_id(jsonl_items(as_jsonl)) == without_message_id(items(as_sse))


# ---- invariant 5 on a stream holding every framing rule ------------------------------------------

MIXED = (
    BOM
    + b": comment\r\n"
    + b"id: 1\rretry: 10\n"
    + b"event: response.output_text.delta\r\n"
    + b'data: {"type":"response.output_text.delta",\r\n'
    + b'data: "delta":"h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}\r\n\r\n'
    + b"data: [DONE]\n\n"
    + b"data:   \r\r"
    + b"data: {broken\n\n"
    + b"foo\n"
    + b'data:{"type":"response.output_text.delta","delta":"\xe2\x80\xa8"}\r\r'
    + b'data: {"type":"response.completed","response":{"id":"r"}}'
)


def test_mixed_stream_gives_what_each_rule_says() -> None:
    objects = items(MIXED)
    assert kinds(objects) == ["text", "error:decode_error", "text", "metadata", "done"]
    assert chunks_of(objects, "text") == ["hé€😀", "\u2028"]
    assert objects[-1]["stop_reason"] == "end_turn"


def test_mixed_stream_gives_the_same_items_at_every_split() -> None:
    want = without_message_id(items(MIXED))
    for chunks in splits(MIXED):
        assert without_message_id(check_items(run_chunks(chunks))) == want, chunks


OUTPUT_ITEMS: list[object] = [
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"},
    {"type": "custom_tool_call", "id": "ct_1", "call_id": "call_2", "name": "g", "input": "x"},
    {"type": "message", "content": [{"type": "output_text", "text": "hé"}]},
    {"type": "reasoning", "id": "rs_1", "summary": [{"text": "s"}], "encrypted_content": "e"},
    {"type": "web_search_call", "id": "ws_1", "status": "completed"},
    {"type": "function_call", "id": "fc_2", "call_id": "call_3", "name": 5},
    {"type": "function_call", "call_id": "call_4"},
    {"type": "message", "content": "not a list"},
    {"no_type": True},
    "not an object",
    [1, 2],
]


@pytest.mark.parametrize("item", OUTPUT_ITEMS, ids=lambda item: json.dumps(item)[:40])
def test_an_output_item_gives_the_same_items_routed_by_name_or_by_type(item: object) -> None:
    # Named, the item events are decoded in one pass when the item is of a
    # type we read; unnamed, the item is kept raw until its type is read.
    events: list[JSONObject] = [
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{"},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        completed(),
    ]

    named = without_message_id(items(sse(*events)))
    unnamed = without_message_id(items(sse(*events, name=False)))

    assert named == unnamed
    assert named[-1]["type"] == "done"


def test_a_read_larger_than_the_cap_ending_in_cr_keeps_the_pair_of_that_cr() -> None:
    # A read over the cap is framed in slices; the "\n" that completes its last
    # "\r" comes in the next read and must still be taken as that pair.
    cap = 1 << 16
    events = b"data: {}\r\n\r\n" * 20_000  # 240 KB, far over the cap
    framer = SSEFramer(max_event_bytes=cap)

    frames = framer.decode(events + b"data: 1\r") + framer.decode(b"\ndata: 2\n\n")

    assert [data for _, data, _ in frames] == [b"{}"] * 20_000 + [b"1\n2"]
