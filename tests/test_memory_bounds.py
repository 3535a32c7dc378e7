"""Bounded memory under hostile input: small caps, inputs many times larger, tracemalloc peaks.

Each input is built 64 KiB chunk by chunk and never held whole; the peak is
what the chain allocated while it ran (``tracemalloc``). With a cap of 1 MiB
and inputs of 8-32 MiB, "within a small multiple of the cap, whatever the
input's size" is what is asserted. The full-size figures (the default caps,
a 160 MiB event, a million events, 50 MB of tool arguments, peak RSS of the
CLI) come from ``python -m benchmarks.hostile_memory``.
"""

import tracemalloc
from collections.abc import Iterator

import msgspec
import pytest
from rxresponses import Done, Item, ToolCall, from_chunks, responses
from rxresponses.items import ToolRequestComplete
from rxresponses.operators import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_TOOL_INPUT_BYTES,
    FrameFormat,
)

from benchmarks.hostile_memory import (
    CHUNK,
    COMPLETED,
    CREATED,
    DELTA_HEAD,
    OK_DELTA,
    PIECE_TEXT,
    Chunks,
    Summary,
    big_event,
    endless_line,
    huge_tool_call,
    kept_arguments_hash,
    many_lines,
    rechunked,
    run_traced,
    tiny_events,
    tiny_tool_deltas,
)

MIB = 1024 * 1024
CAP = 1 * MIB


def kinds(summary: Summary) -> list[str]:
    return [error.kind for error in summary.errors]


def the_call(summary: Summary) -> ToolCall:
    assert summary.starts == 1
    (complete,) = summary.calls
    return complete.tool_call


def test_the_documented_default_caps() -> None:
    assert DEFAULT_MAX_EVENT_BYTES == 128 * MIB
    assert DEFAULT_MAX_TOOL_INPUT_BYTES == 16 * MIB


@pytest.mark.parametrize("size", [8 * MIB, 32 * MIB])
def test_an_event_over_the_cap_is_one_decode_error_and_costs_about_the_cap(size: int) -> None:
    summary, peak = run_traced(big_event(size), max_event_bytes=CAP)
    summary.check_frame()
    assert kinds(summary) == ["decode_error"]
    assert "larger than the size cap" in summary.errors[0].message
    assert len(summary.errors[0].message) < 1000  # a preview, not the event
    assert summary.text_chars == len("ok")  # the event after it is read as usual
    assert summary.last == Done(stop_reason="end_turn")
    assert peak <= 1.5 * CAP, f"{peak / MIB:.2f} MiB for a {size // MIB} MiB event"


def test_an_event_over_the_cap_in_one_large_chunk_costs_about_the_cap() -> None:
    # A large chunk is framed in pieces; an event longer than the cap in it
    # must not be sliced off whole and held.
    chunk = b"".join([CREATED, DELTA_HEAD, b"a" * (8 * MIB), b'"}\n\n', OK_DELTA, COMPLETED])

    summary, peak = run_traced(lambda: iter([chunk]), max_event_bytes=CAP)

    assert kinds(summary) == ["decode_error"]
    assert summary.text_chars == len("ok")
    assert peak <= 2 * CAP, f"{peak / MIB:.2f} MiB"


def test_the_cost_of_an_event_over_the_cap_does_not_grow_with_its_size() -> None:
    _, small = run_traced(big_event(4 * MIB), max_event_bytes=CAP)
    _, large = run_traced(big_event(32 * MIB), max_event_bytes=CAP)
    assert large <= small + 256 * 1024, (small, large)


def test_a_line_without_end_is_one_decode_error_then_the_interruption() -> None:
    summary, peak = run_traced(endless_line(32 * MIB), max_event_bytes=CAP)
    summary.check_frame()
    assert kinds(summary) == ["decode_error", "stream_interrupted"]
    assert summary.last == Done(stop_reason=None)
    assert peak <= 1.5 * CAP, f"{peak / MIB:.2f} MiB"


def test_an_endless_comment_line_is_dropped_silently_within_the_cap() -> None:
    block = b"c" * CHUNK

    def chunks() -> Iterator[bytes]:
        yield CREATED
        yield b": "
        for _ in range(32 * MIB // CHUNK):
            yield block
        yield b"\n\n"
        yield OK_DELTA

    summary, peak = run_traced(chunks, max_event_bytes=CAP)
    summary.check_frame()
    assert kinds(summary) == ["stream_interrupted"]  # no terminal event; nothing for the comment
    assert summary.text_chars == len("ok")
    assert peak <= 1.5 * CAP, f"{peak / MIB:.2f} MiB"


@pytest.mark.parametrize("named", [True, False])
def test_an_event_under_the_cap_costs_about_twice_its_size(named: bool) -> None:
    # The held pieces, their join, the data cut from it, the decoded text: never
    # more than two of them alive at once (the pieces go once joined).
    size = 8 * MIB
    head = (b"event: response.output_text.delta\n" if named else b"") + DELTA_HEAD
    body = head + b"a" * size + b'"}\n\n' + COMPLETED

    def chunks() -> Iterator[bytes]:
        yield CREATED
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    summary, peak = run_traced(chunks)

    summary.check_frame()
    assert summary.text_chars == size
    assert summary.last == Done(stop_reason="end_turn")
    assert peak <= 2.25 * size, f"{peak / size:.2f} x the event's size"


@pytest.mark.parametrize(("chunk_size", "size"), [(16, 4 * MIB), (1, MIB // 2)])
def test_an_event_in_tiny_chunks_costs_what_it_costs_in_large_ones(
    chunk_size: int, size: int
) -> None:
    # The held bytes of an unfinished line are kept in a few large pieces,
    # not as an object per chunk (which cost 40 times the event at one byte a
    # chunk, 3.5 times at 16).
    summary, peak = run_traced(rechunked(big_event(size), chunk_size))
    _, large = run_traced(big_event(size))  # 64 KiB chunks

    summary.check_frame()
    assert summary.errors == []
    assert summary.text_chars == size + len("ok")
    assert summary.last == Done(stop_reason="end_turn")
    assert peak <= 1.25 * large, f"{peak / large:.2f} x the figure in 64 KiB chunks"


def json_lines(chunks: Chunks) -> Chunks:
    """An input of ``big_event`` as JSON Lines: its ``data: `` prefixes and blank lines dropped."""

    def lines() -> Iterator[bytes]:
        for chunk in chunks():
            if chunk.startswith(b"data: "):
                chunk = chunk[len(b"data: ") :]
            yield chunk.removesuffix(b"\n")

    return lines


SMALL_CAP = 256 * 1024
#: Inputs half again as long as their cap, each with its format, its cap and its errors.
OVER_THE_CAP: dict[str, tuple[Chunks, FrameFormat, int, list[str]]] = {
    "event": (big_event(3 * SMALL_CAP // 2), "sse", SMALL_CAP, ["decode_error"]),
    "line without end": (
        endless_line(3 * SMALL_CAP // 2),
        "sse",
        SMALL_CAP,
        ["decode_error", "stream_interrupted"],
    ),
    # Its data lines, kept until the cap, are joined 256 at a time: a quarter
    # of a small cap each time, whatever the chunks.
    "1 KiB data lines": (many_lines(3 * CAP // 2), "sse", CAP, ["decode_error"]),
    "json line": (json_lines(big_event(3 * SMALL_CAP // 2)), "jsonl", SMALL_CAP, ["decode_error"]),
}


@pytest.mark.parametrize(
    ("case", "chunk_size"),
    [
        ("event", 1),
        ("event", 16),
        ("line without end", 16),
        ("1 KiB data lines", 16),
        ("json line", 1),
        ("json line", 16),
    ],
)
def test_an_event_over_the_cap_in_tiny_chunks_costs_about_the_cap(
    case: str, chunk_size: int
) -> None:
    # One decode_error, the next event read as usual, and no more held than
    # the cap's worth, at any chunk size (SPEC §5, invariant 10).
    chunks, format, cap, errors = OVER_THE_CAP[case]
    summary, peak = run_traced(rechunked(chunks, chunk_size), max_event_bytes=cap, format=format)

    summary.check_frame()
    assert kinds(summary) == errors
    if "stream_interrupted" not in errors:
        assert summary.text_chars == len("ok")
        assert summary.last == Done(stop_reason="end_turn")
    assert peak <= 1.5 * cap, f"{peak / cap:.2f} x the cap"


A_BLOCK = b"a" * CHUNK


def in_chunks(*parts: bytes | int, created: bytes = CREATED) -> Iterator[bytes]:
    """``created``, then the parts in 64 KiB chunks; a number ``n`` is ``n`` bytes of ``a``.

    Made as they are read: the input is never held whole.
    """
    yield created
    pending = b""
    for part in parts:
        pieces = (
            [part]
            if isinstance(part, bytes)
            else (A_BLOCK[: part - at] for at in range(0, part, CHUNK))
        )
        for piece in pieces:
            pending += piece
            if len(pending) >= CHUNK:
                yield pending[:CHUNK]
                pending = pending[CHUNK:]
    yield pending


@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize("over", [1, 100, CHUNK - 100])
def test_an_event_just_over_the_cap_costs_about_the_cap(over: int, named: bool) -> None:
    # Its end comes in the chunk that takes it over the cap: its held bytes and
    # that chunk are read line by line, not joined into one event and split.
    head = (b"event: response.output_text.delta\n" if named else b"") + DELTA_HEAD
    text = CAP + over - len(DELTA_HEAD) + len(b"data: ") - len(b'"}')  # data: ``over`` past the cap

    summary, peak = run_traced(
        lambda: in_chunks(head, text, b'"}\n\n', OK_DELTA, COMPLETED), max_event_bytes=CAP
    )

    summary.check_frame()
    assert kinds(summary) == ["decode_error"]
    assert "larger than the size cap" in summary.errors[0].message
    assert summary.text_chars == len("ok")
    assert peak <= 1.5 * CAP, f"{peak / CAP:.2f} x the cap"


@pytest.mark.parametrize("line", [b"data: " + b"a" * 1017 + b"\n", b"data: ab\n"])
@pytest.mark.parametrize("size", [CAP + 10_000, 2 * CAP, 8 * CAP])
def test_an_event_of_many_lines_over_the_cap_costs_about_the_cap(size: int, line: bytes) -> None:
    # Lines of 1 KiB and of 2 data bytes: each within the cap, their data
    # (``size`` bytes or more, with the line breaks between them) over it.
    block = line * (CHUNK // len(line))
    blocks = size // (len(block) // len(line) * (len(line) - len(b"data: "))) + 1

    summary, peak = run_traced(
        lambda: in_chunks(*[block] * blocks, b"\n", OK_DELTA, COMPLETED),
        max_event_bytes=CAP,
    )

    summary.check_frame()
    assert kinds(summary) == ["decode_error"]
    assert summary.text_chars == len("ok")
    assert peak <= 1.5 * CAP, f"{peak / CAP:.2f} x the cap"


def test_an_event_of_tiny_data_lines_under_the_cap_costs_a_few_times_its_size() -> None:
    # A line is read and kept as part of a group of lines, not as an object of
    # its own, which would cost several times the line's few bytes.
    line = b"data: ab\n"
    block = line * (CHUNK // len(line))
    size = len(block) * 15  # just under the cap (1 MiB)

    summary, peak = run_traced(
        lambda: in_chunks(b"event: x\n", *[block] * 15, b"\n", OK_DELTA, COMPLETED),
        max_event_bytes=CAP,
    )

    summary.check_frame()
    assert kinds(summary) == ["decode_error"]  # its data, "ab\nab…", is not JSON
    assert summary.text_chars == len("ok")
    # Its held pieces, their join, the data and the frame: about 4x (15x when
    # every line was an object of its own).
    assert peak <= 5 * size, f"{peak / size:.2f} x the event's size"


@pytest.mark.parametrize("over", [1, 100, CHUNK - 100])
def test_a_json_line_just_over_the_cap_costs_about_the_cap(over: int) -> None:
    line = DELTA_HEAD[len(b"data: ") :]
    text = CAP + over - len(line) - len(b'"}')  # the line: ``over`` bytes past the cap

    summary, peak = run_traced(
        lambda: in_chunks(line, text, b'"}\n', OK_DELTA[6:-1], created=CREATED[6:-1]),
        max_event_bytes=CAP,
        format="jsonl",
    )

    summary.check_frame()
    assert kinds(summary) == ["decode_error", "stream_interrupted"]  # no terminal event
    assert summary.text_chars == len("ok")
    assert peak <= 1.5 * CAP, f"{peak / CAP:.2f} x the cap"


def test_many_tiny_events_cost_no_more_than_a_few() -> None:
    few, few_peak = run_traced(tiny_events(10_000))
    many, many_peak = run_traced(tiny_events(100_000))
    for summary, count in ((few, 10_000), (many, 100_000)):
        summary.check_frame()
        assert summary.types.get("Text") == count
        assert summary.errors == []
        assert summary.last == Done(stop_reason="end_turn")
    assert many_peak <= MIB, f"{many_peak / MIB:.2f} MiB"
    assert many_peak <= few_peak + 256 * 1024, (few_peak, many_peak)


@pytest.mark.parametrize(("size", "cap"), [(8 * MIB, CAP), (32 * MIB, CAP), (3 * MIB, 2 * MIB)])
def test_a_tool_call_past_the_cap_keeps_its_first_pieces_and_is_partial(
    size: int, cap: int
) -> None:
    summary, peak = run_traced(huge_tool_call(size), max_tool_input_bytes=cap)
    summary.check_frame()
    assert kinds(summary) == ["decode_error"]
    assert "cap" in summary.errors[0].message
    call = the_call(summary)
    assert call.partial is True
    kept, digest = kept_arguments_hash(size, cap)
    assert len(call.arguments) == summary.arg_bytes == kept
    assert cap - CHUNK < kept <= cap
    assert summary.arg_hash.hexdigest() == digest  # the pieces are the first ones, in order
    assert summary.last == Done(stop_reason="end_turn")
    # The kept pieces, and one copy of them in the completed call.
    assert peak <= 2 * cap + 512 * 1024, f"{peak / MIB:.2f} MiB"


@pytest.mark.parametrize("size", [CAP // 2, 2 * CAP])
def test_a_tool_call_of_two_character_deltas_costs_about_twice_its_kept_input(size: int) -> None:
    # Short pieces are kept joined in groups, not as an object each (which
    # cost 15-30x the input before).
    summary, peak = run_traced(tiny_tool_deltas(size), max_tool_input_bytes=CAP)

    summary.check_frame()
    call = the_call(summary)
    kept = min(size, CAP)
    assert call.arguments == "ab" * (kept // 2)
    assert call.partial is True  # no .done came; over the cap, also cut
    assert kinds(summary) == (["decode_error"] if size > CAP else [])
    # The kept pieces, and one copy of them in the completed call.
    assert peak <= 2 * kept + 512 * 1024, f"{peak / kept:.2f} x the kept input"


def test_completed_tool_calls_are_not_kept_by_the_chain() -> None:
    # Forty calls of 256 KiB one after another: what the chain holds stays
    # about one call's worth (its pieces and its completed copy), not forty.
    size = 256 * 1024

    def chunks() -> Iterator[bytes]:
        yield CREATED
        for index in range(40):
            yield (
                b'data: {"type":"response.output_item.added","output_index":%d,"item":'
                b'{"type":"function_call","id":"fc_%d","call_id":"c_%d","name":"f"}}\n\n'
                % (index, index, index)
            )
            delta = b'data: {"type":"response.function_call_arguments.delta",'
            delta += b'"output_index":%d,"delta":"%s"}\n\n' % (index, PIECE_TEXT.encode()[:1024])
            for _ in range(size // 1024):
                yield delta
            yield b'data: {"type":"response.output_item.done","output_index":%d,"item":' % index
            yield b'{"type":"function_call","id":"fc_%d","call_id":"c_%d","name":"f"}}\n\n' % (
                index,
                index,
            )
        yield COMPLETED

    lengths: list[int] = []  # the completed calls' input lengths, not the calls

    def on_next(item: Item) -> None:
        if isinstance(item, ToolRequestComplete):
            lengths.append(len(item.tool_call.arguments))

    tracemalloc.start()
    try:
        responses(from_chunks(chunks)).subscribe(on_next)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert lengths == [size] * 40
    assert peak <= 4 * size + 512 * 1024, f"{peak / size:.1f} x one call's input"


def test_a_tool_call_past_the_default_cap_keeps_16_mib() -> None:
    size = DEFAULT_MAX_TOOL_INPUT_BYTES + 4 * MIB
    summary, peak = run_traced(huge_tool_call(size))
    summary.check_frame()
    assert kinds(summary) == ["decode_error"]
    call = the_call(summary)
    assert call.partial is True
    kept, digest = kept_arguments_hash(size, DEFAULT_MAX_TOOL_INPUT_BYTES)
    assert kept == DEFAULT_MAX_TOOL_INPUT_BYTES == len(call.arguments) == summary.arg_bytes
    assert summary.arg_hash.hexdigest() == digest
    assert peak <= 2 * DEFAULT_MAX_TOOL_INPUT_BYTES + MIB, f"{peak / MIB:.2f} MiB"


def test_a_tool_call_within_the_cap_is_whole_and_not_partial() -> None:
    size = CAP // 2
    arguments = PIECE_TEXT * (size // CHUNK)
    done = msgspec.json.encode(
        {"type": "response.function_call_arguments.done", "output_index": 0, "arguments": arguments}
    )
    calls = huge_tool_call(size)

    def chunks() -> Iterator[bytes]:
        *head, completed = calls()
        yield from head
        yield b"data: " + done + b"\n\n"
        yield completed

    summary, _ = run_traced(chunks, max_tool_input_bytes=CAP)
    summary.check_frame()
    assert summary.errors == []
    call = the_call(summary)
    assert call.partial is False
    kept, digest = kept_arguments_hash(size, CAP)
    assert call.arguments == arguments
    assert len(call.arguments) == kept == size
    assert summary.arg_hash.hexdigest() == digest
