"""SPEC §2 invariants as properties: random event sequences, garbage, line ends and chunkings."""

import itertools
import json
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rxresponses.operators import FrameFormat

from tests.helpers import (
    JSONObject,
    args_delta,
    args_done,
    as_json,
    call_added,
    check_invariants,
    check_items,
    chunks_of,
    completed,
    errors,
    run_chunks,
    sse,
    tool_calls,
    without_message_id,
)

# No shrinking: one failing example costs seconds instead of minutes (each example
# runs its stream several times, down to one byte per chunk). The minimal cases
# found so far have their own deterministic tests below and in test_sse.py; to
# shrink a new failure, add Phase.shrink for one run.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
)

#: A wire event: a JSON object, or raw bytes used as the event's data as they are.
Event = JSONObject | bytes

TERMINAL = ("response.completed", "response.incomplete", "response.failed")

# ---- well-formed events, in the shapes real servers send ----------------------------

indexes = st.integers(min_value=0, max_value=3)  # few indexes: calls collide on them
texts = st.text(max_size=12)
ids = st.sampled_from(["fc_1", "fc_2", "ctc_1", "capture-id-7", "x"])
names = st.sampled_from(["get_weather", "apply_patch", "f", "名前"])


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def deltas(draw: st.DrawFn) -> JSONObject:
    kind = draw(
        st.sampled_from(
            [
                "response.output_text.delta",
                "response.refusal.delta",
                "response.reasoning_summary_text.delta",
                "response.reasoning_text.delta",
            ]
        )
    )
    event: JSONObject = {"type": kind, "delta": draw(texts)}
    if draw(st.booleans()):
        event["output_index"] = draw(indexes)
    if draw(st.booleans()):
        event["item_id"] = draw(ids)
    if draw(st.booleans()):  # the part within the item
        sub = (
            "summary_index" if kind == "response.reasoning_summary_text.delta" else "content_index"
        )
        event[sub] = draw(st.integers(0, 2))
    return _numbered(draw, event)


def _numbered(draw: st.DrawFn, event: JSONObject) -> JSONObject:
    """The event, maybe with a ``sequence_number`` (an integer, or now and then not one)."""
    if draw(st.booleans()):
        event["sequence_number"] = draw(st.one_of(st.integers(-2, 50), st.sampled_from(["7", 1.5])))
    return event


@st.composite
def tool_items(draw: st.DrawFn) -> JSONObject:
    kind = draw(st.sampled_from(["function_call", "custom_tool_call"]))
    item: JSONObject = {"type": kind, "name": draw(names)}
    has = draw(st.sampled_from(["id", "call_id", "both"]))
    if has in ("id", "both"):
        item["id"] = draw(ids)
    if has in ("call_id", "both"):
        item["call_id"] = draw(st.sampled_from(["call_1", "call_2"]))
    field = "arguments" if kind == "function_call" else "input"
    if draw(st.booleans()):
        item[field] = draw(st.sampled_from(["", '{"a":1}', "{", "*** Begin Patch"]))
    return item


@st.composite
def item_added(draw: st.DrawFn) -> JSONObject:
    item = draw(
        st.one_of(
            tool_items(),
            st.fixed_dictionaries(
                {"type": st.just("message"), "content": st.just([])},
                optional={
                    "id": st.sampled_from(["msg_1", "msg_2"]),
                    "phase": st.sampled_from(["commentary", "final_answer"]),
                },
            ),
            st.fixed_dictionaries({"type": st.just("reasoning"), "id": st.just("rs_1")}),
            st.fixed_dictionaries({"type": st.just("web_search_call"), "id": ids}),
        )
    )
    added = {"type": "response.output_item.added", "output_index": draw(indexes), "item": item}
    return _numbered(draw, added)


@st.composite
def tool_pieces(draw: st.DrawFn) -> JSONObject:
    kind = draw(
        st.sampled_from(
            [
                "response.function_call_arguments.delta",
                "response.custom_tool_call_input.delta",
                "response.function_call_arguments.done",
                "response.custom_tool_call_input.done",
            ]
        )
    )
    event: JSONObject = {"type": kind, "output_index": draw(indexes), "item_id": draw(ids)}
    if kind.endswith(".delta"):
        event["delta"] = draw(st.one_of(texts, st.sampled_from(['{"a"', ":1}", "é€"])))
    elif kind == "response.function_call_arguments.done":
        event["arguments"] = draw(st.sampled_from(["", '{"a":1}', '{"a":1}{"b":2}', "{}"]))
    else:
        event["input"] = draw(st.one_of(texts, st.just("*** Begin Patch\n")))
    return event


@st.composite
def item_done(draw: st.DrawFn) -> JSONObject:
    which = draw(st.sampled_from(["tool", "message", "reasoning", "other"]))
    item: JSONObject
    if which == "tool":
        item = draw(tool_items())
    elif which == "message":
        parts = draw(
            st.lists(
                st.one_of(
                    st.fixed_dictionaries(
                        {"type": st.just("output_text"), "text": texts},
                        optional={"annotations": st.lists(annotations, max_size=2)},
                    ),
                    st.fixed_dictionaries({"type": st.just("refusal"), "refusal": texts}),
                ),
                max_size=3,
            )
        )
        item = {"type": "message", "role": "assistant", "content": parts}
        if draw(st.booleans()):
            item["id"] = "msg_1"
            item["phase"] = draw(st.sampled_from(["commentary", "final_answer", None]))
    elif which == "reasoning":
        item = {
            "type": "reasoning",
            "summary": draw(
                st.lists(
                    st.fixed_dictionaries({"type": st.just("summary_text"), "text": texts}),
                    max_size=3,
                )
            ),
        }
        if draw(st.booleans()):
            item["id"] = draw(st.sampled_from(["rs_1", "rs_2"]))
        if draw(st.booleans()):
            item["encrypted_content"] = draw(st.sampled_from(["gAAAA", "b64+/=="]))
        if draw(st.booleans()):
            item["content"] = [{"type": "reasoning_text", "text": draw(texts)}]
    else:
        item = {"type": "tool_search_call", "id": "ts_1"}  # a type that gives nothing
    event: JSONObject = {"type": "response.output_item.done", "item": item}
    if which == "tool" or draw(st.booleans()):
        event["output_index"] = draw(indexes)
    return _numbered(draw, event)


annotations = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("url_citation"), "url": st.sampled_from(["https://a.example/", "u"])},
        optional={
            "title": st.sampled_from(["A", "é"]),
            "start_index": st.integers(0, 9),
            "end_index": st.integers(0, 9),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["file_citation", "file_path"]), "file_id": st.just("file-1")},
        optional={"filename": st.just("a.txt"), "index": st.integers(0, 9)},
    ),
    st.fixed_dictionaries(
        {"type": st.just("container_file_citation"), "file_id": st.just("cfile-1")},
        optional={"container_id": st.just("cntr_1"), "start_index": st.integers(0, 9)},
    ),
    st.just({"type": "some_new_annotation", "x": 1}),
)


@st.composite
def annotation_added(draw: st.DrawFn) -> JSONObject:
    event: JSONObject = {
        "type": "response.output_text.annotation.added",
        "annotation": draw(_maybe(annotations)),
    }
    if draw(st.booleans()):
        event["output_index"] = draw(indexes)
    return _numbered(draw, event)


def _response(draw: st.DrawFn) -> JSONObject:
    response: JSONObject = {}
    if draw(st.booleans()):
        response["id"] = draw(st.sampled_from(["resp_1", "resp_2"]))
    if draw(st.booleans()):
        response["model"] = draw(st.sampled_from(["gpt-5", "o3"]))
    return response


@st.composite
def lifecycle(draw: st.DrawFn) -> JSONObject:
    kind = draw(st.sampled_from(["response.created", "response.in_progress", "response.queued"]))
    return {"type": kind, "response": _response(draw)}


usages = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries(
        {
            "input_tokens": st.integers(0, 10**6),
            "output_tokens": st.integers(0, 10**6),
        },
        optional={
            "input_tokens_details": _maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "cached_tokens": st.integers(0, 100),
                        "cache_write_tokens": st.integers(0, 100),
                    },
                )
            ),
            "output_tokens_details": _maybe(
                st.fixed_dictionaries({"reasoning_tokens": st.integers(0, 100)})
            ),
            "cost": st.just(0.001),
        },
    ),
)


@st.composite
def terminal(draw: st.DrawFn) -> JSONObject:
    kind = draw(st.sampled_from(TERMINAL))
    response = _response(draw)
    if kind == "response.failed":
        response["error"] = draw(
            _maybe(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "code": st.sampled_from(["server_error", "insufficient_quota"]),
                        "message": st.sampled_from(["boom", "try again in 2s"]),
                    },
                )
            )
        )
    else:
        status = draw(_maybe(st.sampled_from(["completed", "incomplete", "failed", "cancelled"])))
        if status is not None:
            response["status"] = status
        response["usage"] = draw(usages)
        if draw(st.booleans()):
            response["incomplete_details"] = {
                "reason": draw(st.sampled_from(["max_output_tokens", "content_filter"]))
            }
    return {"type": kind, "response": response}


@st.composite
def error_events(draw: st.DrawFn) -> JSONObject:
    event: JSONObject = {"type": "error"}
    if draw(st.booleans()):
        event["code"] = draw(st.sampled_from(["rate_limit_exceeded", "context_length_exceeded"]))
    if draw(st.booleans()):
        event["message"] = draw(st.sampled_from(["Rate limit. Try again in 28ms", "oops"]))
    if draw(st.booleans()):
        event["error"] = {
            "type": draw(st.sampled_from(["invalid_request_error", "server_error"])),
            "code": draw(_maybe(st.just("insufficient_quota"))),
            "message": draw(_maybe(st.just("nested"))),
        }
    return event


unknown = st.one_of(
    st.builds(lambda n: {"type": "keepalive", "sequence_number": n}, st.integers(0, 99)),
    st.just({"type": "response.web_search_call.searching", "output_index": 1}),
    st.just({"type": "response.output_text.annotation.added", "annotation": {"url": "u"}}),
    st.builds(lambda t: {"type": t}, st.text(max_size=8)),
)

well_formed = st.one_of(
    deltas(),
    deltas(),
    annotation_added(),
    item_added(),
    tool_pieces(),
    tool_pieces(),
    item_done(),
    lifecycle(),
    terminal(),
    error_events(),
    unknown,
)

# ---- garbage ------------------------------------------------------------------------------


@st.composite
def wrong_types(draw: st.DrawFn) -> JSONObject:
    """A known event with one field of the wrong type (or missing)."""
    event: JSONObject = dict(draw(st.one_of(deltas(), item_added(), tool_pieces(), terminal())))
    key = draw(st.sampled_from(sorted(event)))
    if key == "type":
        key = "delta" if "delta" in event else "output_index"
    value: Any = draw(st.sampled_from([5, "5", None, [], {}, True, 1.5, -1]))
    if value is None and draw(st.booleans()):
        event.pop(key, None)
    else:
        event[key] = value
    return event


broken_json = st.sampled_from(
    [
        b'{"type":"response.output_text.delta","delta":"a"',
        b'{"type":"response.completed","response":{}',
        b'{"type":"response.output_text.delta","delta":"\\ud800"}',
        b'{"type":"response.output_text.delta","delta":"\xff"}',
        b'{"type":"response.output_item.added","output_index":0,"item":'
        + b"[" * 3000
        + b"]" * 3000
        + b"}",
        b"[1,2]",
        b'"just a string"',
        b"{}",
        b"[DONE]",
        b"",
        b"   ",
        b"{not json",
    ]
)

garbage = st.one_of(wrong_types(), broken_json, st.binary(max_size=24))

any_event = st.one_of(well_formed, well_formed, well_formed, garbage)

# ---- serializing --------------------------------------------------------------------------------


def _data(event: Event, ascii_only: bool) -> bytes:
    if isinstance(event, bytes):
        return event
    return json.dumps(event, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


@st.composite
def sse_streams(
    draw: st.DrawFn, events: st.SearchStrategy[list[Event]], truncate: bool = True
) -> bytes:
    """Events as SSE with random line ends, names, comments and fields; maybe cut short."""
    out = bytearray()
    if draw(st.integers(0, 9)) == 0:
        out += b"\xef\xbb\xbf"
    for event in draw(events):
        eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        if draw(st.integers(0, 5)) == 0:
            out += draw(st.sampled_from([b": keepalive", b"id: 3", b"retry: 10", b":"])) + eol
        name = draw(st.sampled_from(["own", "own", "none", "other"]))
        if name == "own" and isinstance(event, dict) and isinstance(event.get("type"), str):
            out += b"event: " + event["type"].encode("utf-8") + eol
        elif name == "other":
            out += b"event: response.completed" + eol
        out += b"data: " + _data(event, draw(st.booleans())) + eol + eol
    data = bytes(out)
    if truncate and draw(st.integers(0, 4)) == 0:  # truncated at any byte
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def jsonl_streams(draw: st.DrawFn, events: st.SearchStrategy[list[Event]]) -> bytes:
    lines = [_data(event, draw(st.booleans())) for event in draw(events)]
    eol = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = eol.join(lines) + draw(st.sampled_from([b"", eol]))
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at random positions (inside UTF-8 characters and CR LF pairs too)."""
    if not data:
        return [data]
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(data) - 1)), max_size=12))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def _check(chunks: Sequence[bytes], format: FrameFormat) -> list[JSONObject]:
    return check_items(run_chunks(chunks, format))


def _check_same_items(data: bytes, cut: list[bytes], format: FrameFormat) -> list[JSONObject]:
    whole = without_message_id(_check([data], format))
    assert without_message_id(_check(cut, format)) == whole
    assert without_message_id(_check(one_byte_at_a_time(data), format)) == whole
    return whole


@st.composite
def tool_call_runs(draw: st.DrawFn) -> list[Event]:
    """One call's events at one output_index: added, pieces, maybe its completions."""
    index = draw(indexes)
    added = draw(item_added().filter(lambda e: e["item"]["type"] != "message"))
    added["output_index"] = index
    custom = added["item"]["type"] == "custom_tool_call"
    kind = "custom_tool_call_input" if custom else "function_call_arguments"
    pieces = draw(st.lists(st.sampled_from(['{"a"', ":", "1}", "", "é€", "\u2028"]), max_size=5))
    run: list[Event] = [added]
    run += [{"type": f"response.{kind}.delta", "output_index": index, "delta": p} for p in pieces]
    if draw(st.booleans()):
        final = "".join(pieces) + draw(st.sampled_from(["", "}", "rest"]))
        field = "input" if custom else "arguments"
        run.append({"type": f"response.{kind}.done", "output_index": index, field: final})
    if draw(st.booleans()):
        done = draw(item_done().filter(lambda e: e["item"]["type"] in ("function_call",)))
        done["output_index"] = index
        run.append(done)
    return run


@st.composite
def event_lists(draw: st.DrawFn, single: st.SearchStrategy[Event]) -> list[Event]:
    """Single events and whole tool-call runs, interleaved at random (each run in order)."""
    runs: list[list[Event]] = draw(
        st.lists(
            st.one_of(st.lists(single, min_size=1, max_size=3), tool_call_runs()),
            max_size=6,
        )
    )
    out: list[Event] = []
    while runs:
        run = runs[draw(st.integers(0, len(runs) - 1))]
        out.append(run.pop(0))
        runs = [r for r in runs if r]
    return out


mixed_lists = event_lists(any_event)
well_formed_lists = event_lists(well_formed)


# ---- the properties ----------------------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_invariants_hold_for_any_sse_stream_and_chunking(data: st.DataObject) -> None:
    stream = data.draw(sse_streams(mixed_lists))
    _check_same_items(stream, data.draw(chunkings(stream)), "sse")


@PROPERTY
@given(st.data())
def test_invariants_hold_for_any_jsonl_stream_and_chunking(data: st.DataObject) -> None:
    stream = data.draw(jsonl_streams(mixed_lists))
    _check_same_items(stream, data.draw(chunkings(stream)), "jsonl")


@PROPERTY
@given(st.binary(max_size=200), st.data())
def test_invariants_hold_for_random_bytes(raw: bytes, data: st.DataObject) -> None:
    formats: tuple[FrameFormat, ...] = ("sse", "jsonl")
    for format in formats:
        _check_same_items(raw, data.draw(chunkings(raw)), format)


@PROPERTY
@given(st.lists(st.one_of(well_formed, st.binary(max_size=8)), max_size=10), st.data())
def test_invariants_hold_for_data_lines_made_of_fragments(
    pieces: list[Event], data: st.DataObject
) -> None:
    """Events glued from fragments and raw bytes, on one or several data lines."""
    lines = [_data(piece, data.draw(st.booleans())) for piece in pieces]
    stream = b"".join(
        b"data:" + line + data.draw(st.sampled_from([b"\n", b"\n\n"])) for line in lines
    )
    _check_same_items(stream, data.draw(chunkings(stream)), "sse")


@PROPERTY
@given(st.data(), st.integers(16, 400), st.integers(0, 40), st.sampled_from(["sse", "jsonl"]))
def test_invariants_hold_with_small_caps(
    data: st.DataObject, max_event: int, max_tool_input: int, format: FrameFormat
) -> None:
    """Events over the caps and capped tool input keep the invariants, whatever the chunking."""
    streams = sse_streams(mixed_lists) if format == "sse" else jsonl_streams(mixed_lists)
    stream = data.draw(streams)
    caps = {"max_event_bytes": max_event, "max_tool_input_bytes": max_tool_input}
    whole = without_message_id(check_items(run_chunks([stream], format, **caps)))
    cut = data.draw(chunkings(stream))
    assert without_message_id(check_items(run_chunks(cut, format, **caps))) == whole
    one = one_byte_at_a_time(stream)
    assert without_message_id(check_items(run_chunks(one, format, **caps))) == whole
    for call in (o["tool_call"] for o in whole if o["type"] == "tool_request_complete"):
        if len(call["arguments"].encode()) > max_tool_input:
            raise AssertionError(f"tool input over the cap: {call!r}")


def _interruptions_due(objects: list[JSONObject]) -> int:
    """1, unless the last item the stream gave before its end was an error the server sent
    (one error per failure: its end adds none)."""
    body = objects[:-1]  # without done
    while body and body[-1]["type"] == "tool_request_complete" and body[-1]["tool_call"]["partial"]:
        body.pop()  # calls finalize completed
    if body and body[-1]["type"] == "error" and body[-1]["kind"] == "stream_interrupted":
        body.pop()
    last = body[-1] if body else {}
    return 0 if last.get("type") == "error" and last["kind"] != "decode_error" else 1


def _first_terminal(events: list[JSONObject]) -> int:
    for position, event in enumerate(events):
        if event["type"] in TERMINAL:
            return position
    return len(events)


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    rest = iter(haystack)
    return all(any(needle == candidate for candidate in rest) for needle in needles)


@PROPERTY
@given(st.lists(well_formed, max_size=16), st.data())
def test_no_text_delta_before_the_end_is_lost(
    events: list[JSONObject], data: st.DataObject
) -> None:
    end = _first_terminal(events)
    before = events[:end]
    want = [e["delta"] for e in before if e["type"] == "response.output_text.delta" and e["delta"]]
    streams: list[tuple[FrameFormat, bytes]] = [
        ("sse", data.draw(sse_streams(st.just(list(events)), truncate=False))),
        ("jsonl", b"\n".join(_data(e, False) for e in events)),
    ]
    for format, stream in streams:
        objects = _check(data.draw(chunkings(stream)), format)
        text = chunks_of(objects, "text")
        assert errors(objects, "decode_error") == []
        has_message_done = any(
            e["type"] == "response.output_item.done" and e["item"]["type"] == "message"
            for e in before
        )
        if has_message_done:  # whole messages may add their text (SPEC §3)
            assert _is_subsequence(want, text), (want, text)
        else:
            assert text == want
        interrupted = errors(objects, "stream_interrupted")
        assert len(interrupted) == (0 if end < len(events) else _interruptions_due(objects))


def test_calls_sharing_an_id_are_completed_in_the_order_they_started() -> None:
    """Invariant 3: calls sharing an id are matched in order (first start, first complete)."""
    whole_call = {
        "type": "response.output_item.done",
        "output_index": 1,
        "item": {"type": "function_call", "id": "fc_same", "name": "second", "arguments": "{}"},
    }
    stream = sse(
        call_added(0, "fc_same", "first"),
        args_delta(0, '{"a":'),
        whole_call,
        args_done(0, '{"a":1}'),
        completed(),
    )
    objects = as_json(run_chunks([stream]))
    started = [o["name"] for o in objects if o["type"] == "tool_request_start"]
    finished = [c["name"] for c in tool_calls(objects)]
    assert started == ["first", "second"]
    assert finished == started
    check_invariants(objects)
