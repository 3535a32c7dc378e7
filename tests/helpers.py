"""Shared test helpers: run the chain, run the CLI, and check the SPEC §2 invariants."""

import json
import subprocess
import sys
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
from reactivex import Observable
from rxresponses import Item, from_bytes, from_chunks, responses
from rxresponses.operators import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_TOOL_INPUT_BYTES, FrameFormat

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: The ``kind`` values SPEC §4 documents.
ERROR_KINDS = frozenset(
    {
        "server_error",
        "rate_limited",
        "http_error",
        "connect_error",
        "stream_interrupted",
        "timeout",
        "decode_error",
        "usage_error",
        "cancelled",
    }
)
STOP_REASONS = frozenset({"end_turn", "tool_use", "length", "content_filter", "pause", None})
#: The part kinds a chunk of each type may belong to (SPEC §1 Parts).
PART_KINDS = {
    "text": ("text",),
    "refusal": ("refusal",),
    "reasoning": ("reasoning", "reasoning_summary"),
}

JSONObject = dict[str, Any]


def run_chunks(
    chunks: Sequence[bytes],
    format: FrameFormat = "sse",
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    max_tool_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
) -> list[Item]:
    """The items of one subscription to ``chunks`` (given exactly as split)."""
    source = from_chunks(lambda: iter(list(chunks)))
    return _run(source, format, max_event_bytes, max_tool_input_bytes)


def run_items(
    data: bytes,
    chunk_size: int = 64 * 1024,
    format: FrameFormat = "sse",
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    max_tool_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
) -> list[Item]:
    """The items of ``data`` read ``chunk_size`` bytes at a time, through ``from_bytes``."""
    source = from_bytes(data, chunk_size)
    return _run(source, format, max_event_bytes, max_tool_input_bytes)


def _run(
    source: Observable[bytes],
    format: FrameFormat,
    max_event_bytes: int,
    max_tool_input_bytes: int,
) -> list[Item]:
    """Every item of one subscription, which must complete once and never call ``on_error``."""
    out: list[Item] = []
    completed: list[bool] = []
    failures: list[Exception] = []
    responses(
        source,
        format=format,
        max_event_bytes=max_event_bytes,
        max_tool_input_bytes=max_tool_input_bytes,
    ).subscribe(out.append, failures.append, lambda: completed.append(True))
    assert failures == [], f"on_error was called: {failures!r}"
    assert completed == [True], "the observable did not complete exactly once"
    return out


def as_json(items: Iterable[Item]) -> list[JSONObject]:
    """Each item's JSON form, decoded back into plain Python objects."""
    return [json.loads(msgspec.json.encode(item)) for item in items]


def without_message_id(items: Iterable[JSONObject]) -> list[JSONObject]:
    """The items with ``start.message_id`` blanked, to compare two runs."""
    return [{**item, "message_id": "*"} if item.get("type") == "start" else item for item in items]


def of_type(items: Iterable[JSONObject], *types: str) -> list[JSONObject]:
    return [item for item in items if item["type"] in types]


def chunks_of(items: Iterable[JSONObject], type_: str) -> list[str]:
    return [item["chunk"] for item in items if item["type"] == type_]


def errors(items: Iterable[JSONObject], kind: str | None = None) -> list[JSONObject]:
    return [
        item for item in items if item["type"] == "error" and (kind is None or item["kind"] == kind)
    ]


def tool_calls(items: Iterable[JSONObject]) -> list[JSONObject]:
    return [item["tool_call"] for item in items if item["type"] == "tool_request_complete"]


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def check_items(items: Sequence[Item]) -> list[JSONObject]:
    """Check the SPEC §2 invariants on items; returns their JSON form."""
    for item in items:
        encoded = msgspec.json.encode(item)  # invariant 7: every item encodes to JSON
        assert b"\n" not in encoded
    objects = as_json(items)
    check_invariants(objects)
    return objects


def check_parts(items: Sequence[JSONObject]) -> None:
    """SPEC §2 invariant 8: each chunk belongs to the latest ``part_start``, of its kind.

    And a ``part_start`` comes right before its part's first chunk, never alone.
    """
    part: str | None = None
    for at, item in enumerate(items):
        kind = item["type"]
        if kind == "part_start":
            assert item["kind"] in ("text", "refusal", "reasoning", "reasoning_summary"), item
            assert item["index"] is None or isinstance(item["index"], int), item
            assert item["id"] is None or isinstance(item["id"], str), item
            assert item["phase"] is None or isinstance(item["phase"], str), item
            following = items[at + 1]["type"] if at + 1 < len(items) else None
            assert item["kind"] in PART_KINDS.get(following or "", ()), (
                f"part_start not followed by a chunk of its kind: {item!r}, then {following!r}"
            )
            part = item["kind"]
        elif kind in PART_KINDS:
            assert part in PART_KINDS[kind], f"{kind} chunk in a {part!r} part: {item!r}"


def check_invariants(items: Sequence[JSONObject]) -> None:
    """SPEC §2 invariants 1, 2, 3, 4, 7, 8, 9 and the §1/§4 field rules, on items in JSON form."""
    assert items, "no items at all"
    types = [item["type"] for item in items]
    # 1. exactly one start, first
    assert types[0] == "start", f"first item is {types[0]!r}"
    assert types.count("start") == 1, "more than one start"
    assert uuid.UUID(items[0]["message_id"]).version == 4
    # 2. exactly one done, last
    assert types[-1] == "done", f"last item is {types[-1]!r}"
    assert types.count("done") == 1, "more than one done"
    assert items[-1]["stop_reason"] in STOP_REASONS
    last_sequence_number = items[-1]["last_sequence_number"]
    assert last_sequence_number is None or isinstance(last_sequence_number, int)
    check_parts(items)
    assert types.count("metadata") <= 1, "more than one metadata"
    # 3. and 4. tool calls: opened by start, matched in order by one complete
    open_calls: dict[str, list[dict[str, Any]]] = {}
    started: dict[str, list[dict[str, Any]]] = {}  # 9. every call by id, in start order
    for item in items:
        assert not _has_lone_surrogate(item), f"lone surrogate in {item!r}"  # 7.
        kind = item["type"]
        if kind in ("text", "refusal", "reasoning"):
            assert isinstance(item["chunk"], str)
            assert item["chunk"], f"empty {kind} chunk"
        elif kind == "tool_request_start":
            open_calls.setdefault(item["id"], []).append(
                {"name": item["name"], "chunks": [], "ambiguous": False}
            )
            started.setdefault(item["id"], []).append(
                {"provider_executed": item["provider_executed"], "complete": False, "final": False}
            )
        elif kind == "tool_request_arg":
            assert item["chunk"], "empty tool_request_arg chunk"
            calls = open_calls.get(item["id"], [])
            assert calls, f"tool_request_arg for no open call: {item!r}"
            if len(calls) > 1:  # several open calls share this id: cannot attribute
                for call in calls:
                    call["ambiguous"] = True
            calls[0]["chunks"].append(item["chunk"])
        elif kind == "tool_request_complete":
            tool_call = item["tool_call"]
            calls = open_calls.get(tool_call["id"], [])
            assert calls, f"tool_request_complete with no tool_request_start: {item!r}"
            call = calls.pop(0)
            assert tool_call["name"] == call["name"]
            assert tool_call["kind"] in ("function", "custom", "builtin")
            state = next(c for c in started[tool_call["id"]] if not c["complete"])
            state["complete"] = True
            assert tool_call["provider_executed"] == state["provider_executed"]
            assert isinstance(tool_call["partial"], bool)
            assert tool_call["call_id"] is None or isinstance(tool_call["call_id"], str)
            if not call["ambiguous"]:
                assert "".join(call["chunks"]) == tool_call["arguments"], (
                    f"arg chunks {call['chunks']!r} do not add up to {tool_call['arguments']!r}"
                )
        elif kind in ("tool_result", "approval_request"):
            _check_result(
                item, started.get(item["id"] if kind == "tool_result" else item["tool_id"])
            )
        elif kind == "error":
            assert item["kind"] in ERROR_KINDS, f"undocumented error kind {item['kind']!r}"
            assert isinstance(item["message"], str)
            assert isinstance(item["retryable"], bool)
            if item["kind"] in ("decode_error", "stream_interrupted"):
                assert item["status"] is None
            if item["kind"] == "decode_error":
                assert item["retryable"] is False
                assert item["retry_after"] is None
            if item["kind"] == "stream_interrupted":
                assert item["retryable"] is True
        elif kind == "done":
            pending = {key: len(value) for key, value in open_calls.items() if value}
            assert not pending, f"calls never completed before done: {pending!r}"
        else:
            assert kind in (
                "start",
                "metadata",
                "encrypted_reasoning",
                "compaction",
                "usage",
                "part_start",
                "citation",
            ), kind


def _check_result(item: JSONObject, calls: list[dict[str, Any]] | None) -> None:
    """Invariant 9: a result or approval request only where its call allows it."""
    if calls is None:
        return  # names no call started in this stream (a paused turn's continuation)
    if item["type"] == "tool_result" and item["preliminary"]:
        allowed = [c for c in calls if c["provider_executed"] and not c["final"]]
        assert allowed, f"preliminary result with no open server-run call: {item!r}"
        return
    allowed = [c for c in calls if c["provider_executed"] and c["complete"] and not c["final"]]
    assert allowed, f"{item['type']} before its call completed, or after its result: {item!r}"
    if item["type"] == "tool_result":
        allowed[0]["final"] = True


# ---- the command line ------------------------------------------------------


def replay(
    *args: str, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """``rxresponses replay ARGS`` as a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "rxresponses", "replay", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def parse_jsonl(stdout: bytes) -> list[JSONObject]:
    """Strict JSON Lines: every line ends with ``\\n`` and is one JSON object, nothing else."""
    assert stdout.endswith(b"\n"), "output does not end with a line break"
    lines = stdout[:-1].split(b"\n")
    objects: list[JSONObject] = []
    for line in lines:
        value = json.loads(line.decode("utf-8"))
        assert isinstance(value, dict), f"line is not a JSON object: {line!r}"
        objects.append(value)
    return objects


def sse(*events: JSONObject | str, name: bool = True, eol: str = "\n") -> bytes:
    """Events as SSE: ``event: <type>`` (when ``name``) and one ``data:`` line, then a blank line.

    A ``str`` is used as the data as it is.
    """
    out: list[str] = []
    for event in events:
        if isinstance(event, str):
            out.append(f"data: {event}{eol}{eol}")
            continue
        data = json.dumps(event, separators=(",", ":"))
        head = f"event: {event['type']}{eol}" if name and isinstance(event.get("type"), str) else ""
        out.append(f"{head}data: {data}{eol}{eol}")
    return "".join(out).encode("utf-8")


def jsonl(*events: JSONObject | str) -> bytes:
    """Events as JSON Lines, one per line."""
    return "".join(
        (e if isinstance(e, str) else json.dumps(e, separators=(",", ":"))) + "\n" for e in events
    ).encode("utf-8")


# ---- event builders in the real shapes --------------------------------------


def created(response_id: str = "resp_1", model: str | None = "gpt-5") -> JSONObject:
    return {"type": "response.created", "response": {"id": response_id, "model": model}}


def text_delta(delta: str, output_index: int = 0) -> JSONObject:
    return {"type": "response.output_text.delta", "output_index": output_index, "delta": delta}


def completed(status: str | None = "completed", usage: Any = None) -> JSONObject:
    response: JSONObject = {"id": "resp_1", "model": "gpt-5"}
    if status is not None:
        response["status"] = status
    if usage is not None:
        response["usage"] = usage
    return {"type": "response.completed", "response": response}


def call_added(
    output_index: int, item_id: str = "fc_1", name: str = "f", call_id: str = "call_1"
) -> JSONObject:
    return {
        "type": "response.output_item.added",
        "output_index": output_index,
        "item": {
            "type": "function_call",
            "id": item_id,
            "call_id": call_id,
            "name": name,
            "arguments": "",
        },
    }


def args_delta(output_index: int, delta: str) -> JSONObject:
    return {
        "type": "response.function_call_arguments.delta",
        "output_index": output_index,
        "delta": delta,
    }


def args_done(output_index: int, arguments: str) -> JSONObject:
    return {
        "type": "response.function_call_arguments.done",
        "output_index": output_index,
        "arguments": arguments,
    }
