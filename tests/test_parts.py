"""SPEC §1 Parts and invariant 8: where each ``part_start`` goes and what it names."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rxresponses import (
    Done,
    EncryptedReasoning,
    PartStart,
    Reasoning,
    Refusal,
    Text,
)
from rxresponses.operators import FrameFormat

from tests.helpers import (
    FIXTURES,
    JSONObject,
    as_json,
    check_invariants,
    check_parts,
    of_type,
    run_items,
    without_message_id,
)
from tests.wire import (
    Event,
    args_delta,
    completed,
    function_call_added,
    run_events,
    sse,
    types,
)

CONTENT = ("part_start", "text", "refusal", "reasoning")


def added(index: int, item_type: str = "message", **fields: Any) -> Event:
    return {
        "type": "response.output_item.added",
        "output_index": index,
        "item": {"type": item_type, **fields},
    }


def delta(kind: str, text: str, index: int | None = 0, sub: int | None = 0, **more: Any) -> Event:
    """A text delta of ``kind`` at ``(index, sub)`` (``sub``: content or summary index)."""
    event: dict[str, Any] = {
        "type": {
            "text": "response.output_text.delta",
            "refusal": "response.refusal.delta",
            "reasoning_summary": "response.reasoning_summary_text.delta",
            "reasoning": "response.reasoning_text.delta",
        }[kind],
        "delta": text,
        **more,
    }
    if index is not None:
        event["output_index"] = index
    if sub is not None:
        event["summary_index" if kind == "reasoning_summary" else "content_index"] = sub
    return event


def content(items: list[Any]) -> list[Any]:
    return [item for item in items if isinstance(item, PartStart | Text | Refusal | Reasoning)]


# ---- where part_start goes --------------------------------------------------


def test_a_part_start_comes_right_before_the_first_chunk_of_each_part() -> None:
    items = run_events([delta("text", "Hel"), delta("text", "lo"), completed()])

    assert content(items) == [PartStart("text", 0), Text("Hel"), Text("lo")]


def test_parts_a_b_a_give_three_part_starts() -> None:
    events = [delta("text", "a1", 0), delta("text", "b", 1), delta("text", "a2", 0), completed()]

    assert content(run_events(events)) == [
        PartStart("text", 0),
        Text("a1"),
        PartStart("text", 1),
        Text("b"),
        PartStart("text", 0),
        Text("a2"),
    ]


def test_each_content_index_of_one_message_is_its_own_part() -> None:
    events = [delta("text", "a", 0, 0), delta("text", "b", 0, 1), completed()]

    assert types(content(run_events(events))) == ["part_start", "text", "part_start", "text"]


def test_each_summary_index_of_one_reasoning_item_is_its_own_part() -> None:
    events = [
        added(0, "reasoning", id="rs_1"),
        delta("reasoning_summary", "**One.**", 0, 0),
        delta("reasoning_summary", "**Two.**", 0, 1),
        completed(),
    ]

    assert content(run_events(events)) == [
        PartStart("reasoning_summary", 0, "rs_1"),
        Reasoning("**One.**"),
        PartStart("reasoning_summary", 0, "rs_1"),
        Reasoning("**Two.**"),
    ]


def test_kinds_at_the_same_index_are_different_parts() -> None:
    events = [
        delta("reasoning_summary", "s", 0, 0),
        delta("reasoning", "r", 0, 0),
        delta("text", "t", 1, 0),
        delta("refusal", "no", 1, 0),
        completed(),
    ]

    assert [item.kind for item in content(run_events(events)) if isinstance(item, PartStart)] == [
        "reasoning_summary",
        "reasoning",
        "text",
        "refusal",
    ]


def test_an_empty_delta_starts_no_part_and_ends_none() -> None:
    events = [delta("text", "a", 0), delta("text", "", 1), delta("text", "b", 0), completed()]

    assert content(run_events(events)) == [PartStart("text", 0), Text("a"), Text("b")]


def test_tool_items_do_not_end_a_part() -> None:
    events = [
        delta("text", "Let me look. ", 0),
        function_call_added(1),
        args_delta('{"path":"a"}', 1),
        delta("text", "Still the same part.", 0),
        completed(),
    ]

    assert content(run_events(events)) == [
        PartStart("text", 0),
        Text("Let me look. "),
        Text("Still the same part."),
    ]


def test_deltas_without_indexes_are_one_part() -> None:
    events = [delta("text", "a", None, None), delta("text", "b", None, None), completed()]

    assert content(run_events(events)) == [PartStart("text"), Text("a"), Text("b")]


# ---- what part_start names ---------------------------------------------------


def test_id_and_phase_come_from_the_message_announced_at_that_index() -> None:
    events = [
        added(0, id="msg_a", phase="commentary"),
        added(2, id="msg_b", phase="final_answer"),
        delta("text", "Got it", 0, item_id="other"),
        delta("text", "Here", 2),
        completed(),
    ]

    assert content(run_events(events)) == [
        PartStart("text", 0, "msg_a", "commentary"),
        Text("Got it"),
        PartStart("text", 2, "msg_b", "final_answer"),
        Text("Here"),
    ]


def test_id_falls_back_to_the_deltas_item_id_then_to_null() -> None:
    events = [
        delta("text", "a", 0, item_id="msg_from_delta"),
        delta("text", "b", 1),
        completed(),
    ]

    assert content(run_events(events)) == [
        PartStart("text", 0, "msg_from_delta"),
        Text("a"),
        PartStart("text", 1, None),
        Text("b"),
    ]


def test_an_item_of_any_type_announced_at_the_index_names_the_part() -> None:
    events = [
        added(0, "web_search_call", id="ws_1"),
        added(1, "some_future_item", id="x_1"),
        delta("text", "a", 0, item_id="msg_1"),
        delta("text", "b", 1),
        completed(),
    ]

    starts = [item for item in run_events(events) if isinstance(item, PartStart)]
    assert [(s.id, s.phase) for s in starts] == [("ws_1", None), ("x_1", None)]


def test_a_later_item_at_the_same_index_replaces_the_earlier_one() -> None:
    events = [
        added(0, id="msg_1", phase="commentary"),
        delta("text", "a", 0),
        added(0, "reasoning", id="rs_2"),
        delta("reasoning_summary", "b", 0),
        completed(),
    ]

    starts = [item for item in run_events(events) if isinstance(item, PartStart)]
    assert starts == [
        PartStart("text", 0, "msg_1", "commentary"),
        PartStart("reasoning_summary", 0, "rs_2", None),
    ]


def test_a_tool_call_announced_at_the_index_names_the_part() -> None:
    events = [function_call_added(0, "fc_7"), delta("text", "odd but possible", 0), completed()]

    assert content(run_events(events))[0] == PartStart("text", 0, "fc_7")


def test_the_phase_recording_gives_commentary_then_final_answer() -> None:
    data = (FIXTURES / "vercel_ai/openai-phase.1.chunks.txt").read_bytes()
    items = as_json(run_items(data, format="jsonl"))

    starts = of_type(items, "part_start")
    assert [(s["kind"], s["index"], s["phase"]) for s in starts] == [
        ("text", 0, "commentary"),
        ("text", 2, "final_answer"),
    ]
    assert starts[0]["id"] == "msg_0a63f40a2632b74300699f8819a5e08196ac270722d369af5a"
    after_first = items[items.index(starts[0]) + 1 : items.index(starts[1])]
    assert "".join(i["chunk"] for i in after_first if i["type"] == "text") == "Got it"


def test_the_reasoning_summary_recording_gives_one_part_per_summary() -> None:
    data = (FIXTURES / "pydantic_ai/test_openai_responses_thinking_part_iter.0.sse").read_bytes()
    items = as_json(run_items(data))

    summaries = {
        (event["output_index"], event["summary_index"])
        for line in data.decode().splitlines()
        if line.startswith("data: ") and "reasoning_summary_text.delta" in line
        for event in [json.loads(line[len("data: ") :])]
    }
    starts = of_type(items, "part_start")
    assert len(summaries) > 1
    assert [s["kind"] for s in starts] == ["reasoning_summary"] * len(summaries) + ["text"]
    assert all(s["id"].startswith("rs_") for s in starts[:-1])
    first_chunks = [items[items.index(s) + 1]["chunk"] for s in starts[:-1]]
    assert all(chunk.startswith("**") for chunk in first_chunks)


# ---- the whole-item fallback --------------------------------------------------


def message_done(parts: list[JSONObject], index: int | None = 0, **item: Any) -> Event:
    event: dict[str, Any] = {
        "type": "response.output_item.done",
        "item": {"type": "message", "role": "assistant", "content": parts, **item},
    }
    if index is not None:
        event["output_index"] = index
    return event


def test_a_refusal_sent_only_in_the_whole_item_is_not_lost() -> None:
    done = message_done([{"type": "refusal", "refusal": "I can't help with that."}], id="msg_9")

    assert content(run_events([done, completed()])) == [
        PartStart("refusal", 0, "msg_9"),
        Refusal("I can't help with that."),
    ]


def test_whole_message_parts_take_the_done_items_id_and_phase() -> None:
    events = [
        added(0, id="msg_added", phase="commentary"),
        message_done(
            [{"type": "output_text", "text": "Done."}], id="msg_done", phase="final_answer"
        ),
        completed(),
    ]

    assert content(run_events(events)) == [
        PartStart("text", 0, "msg_done", "final_answer"),
        Text("Done."),
    ]


def test_whole_reasoning_gives_each_summary_and_raw_text_its_part_before_encrypted() -> None:
    done = {
        "type": "response.output_item.done",
        "output_index": 1,
        "item": {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [
                {"type": "summary_text", "text": "S1"},
                {"type": "summary_text", "text": ""},
            ],
            "content": [{"type": "reasoning_text", "text": "raw"}],
            "encrypted_content": "blob",
        },
    }

    assert run_events([done, completed()])[1:] == [
        PartStart("reasoning_summary", 1, "rs_1"),
        Reasoning("S1"),
        PartStart("reasoning", 1, "rs_1"),
        Reasoning("raw"),
        EncryptedReasoning("rs_1", "blob"),
        Done("end_turn"),
    ]


def test_a_part_streamed_before_a_whole_item_starts_again_after_it() -> None:
    events = [
        delta("text", "a", 0),
        message_done([{"type": "output_text", "text": "whole"}], index=1),
        delta("text", "b", 0),
        completed(),
    ]

    assert types(content(run_events(events))) == ["part_start", "text"] * 3


# ---- invariant 8 on generated streams and on every recording -------------------

kinds = st.sampled_from(["text", "refusal", "reasoning_summary", "reasoning"])
small = st.integers(0, 2)


@st.composite
def part_events(draw: st.DrawFn) -> Event:
    which = draw(st.sampled_from(["delta", "delta", "delta", "added", "call"]))
    index = draw(st.one_of(st.none(), small))
    if which == "added" or (which == "call" and index is None):
        item_type = draw(st.sampled_from(["message", "reasoning", "web_search_call"]))
        fields: dict[str, Any] = {"id": draw(st.sampled_from(["msg_1", "rs_1", "ws_1"]))}
        if item_type == "message":
            fields["phase"] = draw(st.sampled_from(["commentary", "final_answer", None]))
        return added(index or 0, item_type, **fields)
    if which == "call" and index is not None:
        return draw(st.sampled_from([function_call_added(index), args_delta("{}", index)]))
    more: dict[str, Any] = {"item_id": "msg_d"} if draw(st.booleans()) else {}
    more["sequence_number"] = draw(st.integers(0, 99))
    sub = draw(st.one_of(st.none(), small))
    return delta(draw(kinds), draw(st.sampled_from(["", "a", "é", "b c"])), index, sub, **more)


def model_parts(events: list[Event]) -> list[JSONObject]:
    """SPEC §1 Parts written out plainly: the part_starts and chunks the events give."""
    out: list[JSONObject] = []
    ids: dict[Any, Any] = {}
    phases: dict[Any, Any] = {}
    current: Any = None
    for event in events:
        kind = event["type"]
        index = event.get("output_index")
        if kind == "response.output_item.added":
            ids[index] = event["item"].get("id")
            phases[index] = event["item"].get("phase")
            continue
        part_kind = {
            "response.output_text.delta": "text",
            "response.refusal.delta": "refusal",
            "response.reasoning_summary_text.delta": "reasoning_summary",
            "response.reasoning_text.delta": "reasoning",
        }.get(kind)
        if part_kind is None or not event["delta"]:
            continue
        sub = event.get("summary_index" if part_kind == "reasoning_summary" else "content_index")
        if (part_kind, index, sub) != current:
            current = (part_kind, index, sub)
            item_id = (ids.get(index) if index is not None else None) or event.get("item_id")
            phase = phases.get(index) if index is not None else None
            out.append(
                {"type": "part_start", "kind": part_kind, "index": index, "id": item_id}
                | {"phase": phase}
            )
        chunk_type = "reasoning" if part_kind.startswith("reasoning") else part_kind
        out.append({"type": chunk_type, "chunk": event["delta"]})
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(part_events(), max_size=14), st.booleans())
def test_part_starts_follow_the_rule_for_any_responses_stream(
    events: list[Event], ends: bool
) -> None:
    data = sse([*events, completed()] if ends else events)
    items = _same_whatever_the_chunk_size(data, "sse")

    assert of_type(items, *CONTENT) == model_parts(events)


def _same_whatever_the_chunk_size(data: bytes, format: FrameFormat) -> list[JSONObject]:
    """The items at chunk sizes 1, 5 and 65536: identical but ``message_id``, invariants kept."""
    runs = [as_json(run_items(data, size, format)) for size in (1, 5, 65536)]
    for items in runs:
        check_invariants(items)  # invariant 8 among them
    first, *others = (without_message_id(items) for items in runs)
    assert all(other == first for other in others)
    return runs[-1]


def _recordings() -> list[Path]:
    return sorted(
        [
            *(FIXTURES / "pydantic_ai").glob("*.sse"),
            *(FIXTURES / "vercel_ai").glob("*.chunks.txt"),
            *(FIXTURES / "codex").glob("*.sse"),
        ]
    )


@pytest.mark.parametrize("path", _recordings(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recording_keeps_invariant_8_whatever_the_chunk_size(path: Path) -> None:
    data = path.read_bytes()
    format: FrameFormat = "jsonl" if path.name.endswith(".chunks.txt") else "sse"
    items = _same_whatever_the_chunk_size(data, format)

    check_parts(items)
