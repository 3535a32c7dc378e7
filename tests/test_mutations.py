"""Mutation fuzzing: recorded streams, damaged in every way hostile input can be, keep SPEC §2.

Every mutated body goes through ``responses(from_bytes(data, chunk_size))`` (``format="jsonl"``
for the JSON Lines recordings) at two different chunk sizes and at fuzzer-chosen split
points; each run must keep the invariants (one ``start`` first, one ``done`` last, every
tool call started is completed once with arguments equal to its pieces, items encode to
JSON with no lone surrogate, error kinds from the documented set, no ``on_error``, nothing
raised), and all runs must give the same items. When a mutation only drops, duplicates,
reorders or inserts whole well-formed events, every text delta before the first terminal
event must come out as its ``text`` item.
"""

import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rxresponses.operators import FrameFormat

from .helpers import FIXTURES, check_items, run_chunks, run_items, without_message_id

# (SSE ``event:`` name or None, the event's data); name ``b":"`` renders as a comment.
Event: TypeAlias = tuple[bytes | None, bytes]
Mutated: TypeAlias = tuple[FrameFormat, bytes]

TERMINAL_TYPES = frozenset({"response.completed", "response.incomplete", "response.failed"})
#: Multiplies the examples of each fuzzing test (``RXRESPONSES_FUZZ_SCALE=20`` for a long hunt).
SCALE = max(1, int(os.environ.get("RXRESPONSES_FUZZ_SCALE", "1")))
# Bodies over this size are not cut into pieces smaller than this, to bound the run time.
_BIG = 32 * 1024
_MIN_CHUNK_OF_BIG = 16


@dataclass(frozen=True)
class Recording:
    name: str
    format: FrameFormat
    raw: bytes
    events: tuple[Event, ...]


def _sse_events(raw: bytes) -> tuple[Event, ...]:
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    events: list[Event] = []
    for block in text.split(b"\n\n"):
        name: bytes | None = None
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data.append(line[6:] if line[5:6] == b" " else line[5:])
        if data:
            events.append((name, b"\n".join(data)))
    return tuple(events)


def _jsonl_events(raw: bytes) -> tuple[Event, ...]:
    return tuple((None, line) for line in raw.split(b"\n") if line.strip())


def _load() -> tuple[Recording, ...]:
    recordings: list[Recording] = []
    for path in sorted(FIXTURES.rglob("*.sse")):
        raw = path.read_bytes()
        recordings.append(Recording(path.name, "sse", raw, _sse_events(raw)))
    for path in sorted(FIXTURES.rglob("*.chunks.txt")):
        raw = path.read_bytes()
        recordings.append(Recording(path.name, "jsonl", raw, _jsonl_events(raw)))
    return tuple(r for r in recordings if r.events)


RECORDINGS = _load()
SMALL = tuple(r for r in RECORDINGS if len(r.raw) <= 3500)


def render(events: Sequence[Event], format: FrameFormat) -> bytes:
    """Events back into a body of the given format."""
    if format == "jsonl":
        return b"".join(data + b"\n" for _, data in events)
    out: list[bytes] = []
    for name, data in events:
        if name == b":":
            out.append(b": " + data + b"\n\n")
            continue
        head = b"event: " + name + b"\n" if name is not None else b""
        lines = b"".join(b"data: " + line + b"\n" for line in data.split(b"\n"))
        out.append(head + lines + b"\n")
    return b"".join(out)


# ---- running and checking -----------------------------------------------------


def _split(data: bytes, points: Sequence[int]) -> list[bytes]:
    cuts = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


def _fit(size: int, data: bytes) -> int:
    return max(size, _MIN_CHUNK_OF_BIG) if len(data) > _BIG else size


def check_mutated(
    format: FrameFormat,
    data: bytes,
    size_a: int,
    size_b: int,
    points: Sequence[int] = (),
    **caps: int,
) -> list[dict[str, Any]]:
    """Run ``data`` chunked three ways; check the invariants; return the items' JSON form.

    ``caps`` are ``max_event_bytes`` and ``max_tool_input_bytes`` for ``responses``.
    """
    size_a, size_b = _fit(size_a, data), _fit(size_b, data)
    if size_b == size_a:
        size_b += 1  # two different chunkings
    first = check_items(run_items(data, size_a, format, **caps))
    second = check_items(run_items(data, size_b, format, **caps))
    assert without_message_id(second) == without_message_id(first), (
        f"chunk sizes {size_a} and {size_b} give different items"
    )
    if points:
        third = check_items(run_chunks(_split(data, points), format, **caps))
        assert without_message_id(third) == without_message_id(first), (
            f"split points {sorted(points)} give different items"
        )
    return first


def _delta_text(data: bytes) -> str | None:
    """The text of a well-formed ``output_text.delta`` event, else ``None``."""
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("type") != "response.output_text.delta":
        return None
    delta, index = event.get("delta"), event.get("output_index")
    if not isinstance(delta, str) or not delta:
        return None
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        return None
    return delta


def _is_terminal(data: bytes) -> bool:
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(event, dict)
        and event.get("type") in TERMINAL_TYPES
        and isinstance(event.get("response"), dict)
    )


def expected_text(events: Sequence[Event]) -> list[str]:
    """The deltas of the text delta events before the first terminal event."""
    out: list[str] = []
    for name, data in events:
        if name == b":":
            continue
        if _is_terminal(data):
            break
        delta = _delta_text(data)
        if delta is not None:
            out.append(delta)
    return out


def assert_in_order(expected: Sequence[str], actual: Sequence[str]) -> None:
    """``expected`` is a subsequence of ``actual`` (whole-item text may come in between)."""
    position = 0
    for chunk in actual:
        if position < len(expected) and chunk == expected[position]:
            position += 1
    assert position == len(expected), (
        f"text delta {expected[position]!r} (#{position}) was lost; "
        f"{len(expected)} deltas, {len(actual)} text items"
    )


# ---- strategies -----------------------------------------------------------------

CHUNK_SIZES = st.one_of(st.integers(1, 16), st.integers(17, 512), st.integers(513, 1 << 16))
SPLIT_POINTS = st.lists(st.integers(0, 1 << 20), max_size=24)

#: Bytes worth inserting: line ends, field names, a byte-order mark, broken UTF-8, JSON syntax.
INTERESTING = (
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b":",
    b"data:",
    b"data: ",
    b"event: ",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf0\x9f",
    b"{",
    b"}",
    b'"',
    b"\\",
    b"\\u",
    b"\\ud800",
    b"[DONE]",
    b"\x00",
)


@st.composite
def byte_mutations(draw: st.DrawFn) -> Mutated:
    """Flip, drop, duplicate or insert bytes, and cut the body anywhere."""
    recording = draw(st.sampled_from(RECORDINGS))
    data = bytearray(recording.raw)
    for op in draw(st.lists(st.sampled_from(["flip", "drop", "dup", "insert", "cut"]), max_size=8)):
        at = draw(st.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "drop":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=8))
        elif op == "cut":
            del data[at:]
    return recording.format, bytes(data)


#: JSON values (as raw bytes) of the wrong type, too big, too deep, or not valid Unicode.
BAD_VALUES: tuple[bytes, ...] = (
    b"0",
    b"-1",
    b"1.5",
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'""',
    b'"x"',
    b'["a"]',
    b'{"type":"function_call"}',
    b"123456789012345678901234567890",
    b"1e400",
    b'"\\ud800"',
    b'"a\\udfffb"',
    b'"\\udc00\\ud800"',
    b'"\xed\xa0\x80"',
    b'"\xff"',
    b'"abc\xc3"',
    b'"\xc0\xaf"',
    b'"\xf4\x90\x80\x80"',
    b'"\\u0000"',
    b'"\xe2\x80\xa8"',
    b'"unterminated',
    b"NaN",
    b"",
)
_HUGE = (70_000, 300_000)
_DEPTHS = (64, 1_000, 5_000, 100_000)


@st.composite
def bad_values(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["plain", "huge", "huge_text", "deep_list", "deep_object"]))
    if kind == "plain":
        return draw(st.sampled_from(BAD_VALUES))
    if kind == "huge":
        return b'"' + b"a" * draw(st.sampled_from(_HUGE)) + b'"'
    if kind == "huge_text":
        return ('"' + "é\U0001f600" * (draw(st.sampled_from(_HUGE)) // 6) + '"').encode()
    depth = draw(st.sampled_from(_DEPTHS))
    if kind == "deep_list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (keys and list indexes)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            out.append((*prefix, key))
            out.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out.append((*prefix, index))
            out.extend(_paths(inner, (*prefix, index)))
    return out


_MARK = "\x00mutation\x00"


def replace_value(data: bytes, path: tuple[Any, ...], raw: bytes, compact: bool = True) -> bytes:
    """``data`` (a JSON object) with the value at ``path`` replaced by ``raw`` bytes."""
    event = json.loads(data)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _MARK
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(event, ensure_ascii=False, separators=separators).encode(
        "utf-8", "surrogatepass"
    )
    return text.replace(json.dumps(_MARK).encode(), raw, 1)


@st.composite
def value_mutations(draw: st.DrawFn) -> Mutated:
    """Replace JSON values of up to three events with hostile ones."""
    recording = draw(st.sampled_from(RECORDINGS))
    events = list(recording.events)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(events) - 1))
        name, data = events[at]
        try:
            paths = _paths(json.loads(data))
        except (ValueError, RecursionError):
            continue
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        events[at] = (name, replace_value(data, path, draw(bad_values()), draw(st.booleans())))
    return recording.format, render(events, recording.format)


UNKNOWN_EVENTS: tuple[bytes, ...] = (
    b'{"type":"keepalive"}',
    b'{"type":"response.future_event","output_index":0,"delta":"never shown"}',
    b'{"type":"response.output_text.annotation.added","annotation":{"type":"url_citation"}}',
    b'{"type":"codex.rate_limits","primary":{"used_percent":1.5}}',
    b'{"type":"response.output_text.delta.v2","delta":"never shown"}',
    b"[DONE]",
)


@st.composite
def event_mutations(draw: st.DrawFn) -> tuple[FrameFormat, list[Event]]:
    """Drop, duplicate, reorder and splice whole events; insert unknown ones and keepalives."""
    recording = draw(st.sampled_from(RECORDINGS))
    events = list(recording.events)
    ops = ["drop", "dup", "swap", "move", "splice", "unknown", "keepalive"]
    for op in draw(st.lists(st.sampled_from(ops), min_size=1, max_size=10)):
        size = len(events)
        at = draw(st.integers(0, size))
        if op in ("drop", "dup", "swap", "move") and at == size:
            continue
        if op == "drop":
            del events[at]
        elif op == "dup":
            events.insert(at, events[at])
        elif op in ("swap", "move"):
            to = draw(st.integers(0, size - 1))
            if op == "swap":
                events[at], events[to] = events[to], events[at]
            else:
                events.insert(to, events.pop(at))
        elif op == "splice":
            other = draw(st.sampled_from(RECORDINGS))
            _, data = draw(st.sampled_from(other.events))
            events.insert(at, (_type_name(data), data))
        elif op == "unknown":
            data = draw(st.sampled_from(UNKNOWN_EVENTS))
            events.insert(at, (_type_name(data), data))
        elif recording.format == "sse" and draw(st.booleans()):
            events.insert(at, (b":", b"keepalive"))
        else:
            events.insert(at, (b"keepalive", b'{"type":"keepalive"}'))
    return recording.format, events


def _type_name(data: bytes) -> bytes | None:
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        return None
    kind = event.get("type") if isinstance(event, dict) else None
    return kind.encode() if isinstance(kind, str) else None


# ---- the tests ----------------------------------------------------------------

_FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_every_recording_is_there_and_keeps_the_invariants() -> None:
    formats = {r.format for r in RECORDINGS}
    assert formats == {"sse", "jsonl"}, f"recorded streams missing in {FIXTURES}"
    for recording in RECORDINGS:
        objects = check_mutated(recording.format, recording.raw, 7, 1 << 16)
        texts = [o["chunk"] for o in objects if o["type"] == "text"]
        assert_in_order(expected_text(recording.events), texts)


@settings(_FUZZ, max_examples=250 * SCALE)
@given(byte_mutations(), CHUNK_SIZES, CHUNK_SIZES, SPLIT_POINTS)
def test_flipped_dropped_duplicated_inserted_and_cut_bytes_keep_the_invariants(
    mutated: Mutated, size_a: int, size_b: int, points: list[int]
) -> None:
    format, data = mutated
    check_mutated(format, data, size_a, size_b, points)


@settings(_FUZZ, max_examples=150 * SCALE)
@given(
    byte_mutations(),
    st.sampled_from([16, 64, 255, 256, 1000, 4096]),
    st.sampled_from([0, 5, 100, 1 << 24]),
    CHUNK_SIZES,
    CHUNK_SIZES,
    SPLIT_POINTS,
)
def test_small_size_caps_keep_the_invariants_whatever_the_split(
    mutated: Mutated,
    max_event_bytes: int,
    max_tool_input_bytes: int,
    size_a: int,
    size_b: int,
    points: list[int],
) -> None:
    format, data = mutated
    check_mutated(
        format,
        data,
        size_a,
        size_b,
        points,
        max_event_bytes=max_event_bytes,
        max_tool_input_bytes=max_tool_input_bytes,
    )


@settings(_FUZZ, max_examples=250 * SCALE)
@given(value_mutations(), CHUNK_SIZES, CHUNK_SIZES, SPLIT_POINTS)
def test_hostile_json_values_keep_the_invariants(
    mutated: Mutated, size_a: int, size_b: int, points: list[int]
) -> None:
    format, data = mutated
    check_mutated(format, data, size_a, size_b, points)


@settings(_FUZZ, max_examples=250 * SCALE)
@given(event_mutations(), CHUNK_SIZES, CHUNK_SIZES, SPLIT_POINTS)
def test_whole_event_mutations_lose_no_text_before_the_terminal_event(
    mutated: tuple[FrameFormat, list[Event]], size_a: int, size_b: int, points: list[int]
) -> None:
    format, events = mutated
    objects = check_mutated(format, render(events, format), size_a, size_b, points)
    assert_in_order(expected_text(events), [o["chunk"] for o in objects if o["type"] == "text"])


@pytest.mark.parametrize("recording", SMALL, ids=[r.name for r in SMALL])
def test_small_recordings_cut_at_every_byte_keep_the_invariants(recording: Recording) -> None:
    data = recording.raw
    for end in range(len(data) + 1):
        check_items(run_items(data[:end], 1 << 16, recording.format))


# ---- hostile values at the fields each event row reads -------------------------


def _event(**fields: Any) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


ROWS: dict[str, bytes] = {
    "text": _event(type="response.output_text.delta", output_index=0, delta="hi"),
    "reasoning": _event(type="response.reasoning_summary_text.delta", output_index=0, delta="r"),
    "refusal": _event(type="response.refusal.delta", delta="no"),
    "created": _event(type="response.created", response={"id": "resp_1", "model": "m"}),
    "added": _event(
        type="response.output_item.added",
        output_index=0,
        item={"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f"},
    ),
    "args": _event(type="response.function_call_arguments.delta", output_index=0, delta='{"a"'),
    "args_done": _event(
        type="response.function_call_arguments.done", output_index=0, arguments='{"a":1}'
    ),
    "message_done": _event(
        type="response.output_item.done",
        output_index=1,
        item={"type": "message", "content": [{"type": "output_text", "text": "whole"}]},
    ),
    "reasoning_done": _event(
        type="response.output_item.done",
        output_index=2,
        item={"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "e"},
    ),
    "error": _event(type="error", code="server_error", message="try again in 1s"),
    "completed": _event(
        type="response.completed",
        response={
            "id": "resp_1",
            "status": "completed",
            "usage": {
                "input_tokens": 1,
                "output_tokens": 2,
                "input_tokens_details": {"cached_tokens": 1},
            },
        },
    ),
}
ROW_PATHS: list[tuple[str, tuple[Any, ...]]] = [
    (row, path) for row, data in ROWS.items() for path in _paths(json.loads(data))
]


@settings(_FUZZ, max_examples=200 * SCALE)
@given(
    st.sampled_from(ROW_PATHS),
    bad_values(),
    st.booleans(),
    st.sampled_from(["sse", "jsonl"]),
    CHUNK_SIZES,
    CHUNK_SIZES,
)
def test_hostile_values_in_fields_the_rows_read_keep_the_invariants(
    row_path: tuple[str, tuple[Any, ...]],
    value: bytes,
    compact: bool,
    format: FrameFormat,
    size_a: int,
    size_b: int,
) -> None:
    row, path = row_path
    events: list[Event] = [(None, ROWS[name]) for name in ROWS]
    at = list(ROWS).index(row)
    events[at] = (None, replace_value(ROWS[row], path, value, compact))
    check_mutated(format, render(events, format), size_a, size_b, [at * 7, at * 31])


@pytest.mark.parametrize(
    ("format", "data"),
    [
        ("sse", b'data: {"type":"response.output_text.delta","delta":"\\ud800"}\n\n'),
        ("sse", b'data: {"type":"response.output_text.delta","delta":"\xed\xa0\x80"}\n\n'),
        ("sse", b'data: {"type":"response.output_text.delta","delta":"\xff"}\n\n'),
        ("sse", b'event: \xff\ndata: {"type":"response.created","response":7}\n\n'),
        ("sse", b'data: {"type":"\\ud800"}\n\n'),
        ("sse", b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"),
        ("jsonl", b'{"type":"response.output_text.delta","delta":"\\udfff"}\n'),
        ("jsonl", b'{"type":"error","message":"\\ud800 try again in 5s"}\n'),
    ],
)
def test_hostile_values_examples_keep_the_invariants(format: FrameFormat, data: bytes) -> None:
    check_mutated(format, data, 1, 1 << 16, [3, 17])


# ---- findings, pinned -------------------------------------------------------------


@pytest.mark.parametrize("format", ["sse", "jsonl"])
def test_event_over_a_small_cap_gives_the_same_error_whatever_the_split(
    format: FrameFormat,
) -> None:
    # Found by the fuzzers: under a cap smaller than the preview a decode error shows,
    # the error's text depended on where the chunks were cut (SPEC §2 invariant 5).
    event = b'{"type":"response.created","pad":"' + b"a" * 40 + b'"}'
    body = b"data: " + event + b"\n\n" if format == "sse" else event + b"\n"
    whole = check_items(run_items(body, 1 << 16, format, max_event_bytes=16))
    halves = check_items(run_chunks([body[:20], body[20:]], format, max_event_bytes=16))
    assert without_message_id(halves) == without_message_id(whole)
