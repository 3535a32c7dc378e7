"""Running a Chat Completions or Anthropic Messages stream, and the SPEC §2 rules its items keep."""

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
from rxresponses import from_bytes, responses

FIXTURES = Path(__file__).resolve().parent / "fixtures"
JSONObject = dict[str, Any]
CHUNK_SIZES = (1, 5, 65536)


def chat_sse(*chunks: Mapping[str, Any] | str, done: bool = True) -> bytes:
    """Chat chunks as SSE (``data:`` only), then ``data: [DONE]`` when ``done``."""
    out = [f"data: {c if isinstance(c, str) else json.dumps(c)}\n\n" for c in chunks]
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def anthropic_sse(*events: Mapping[str, Any] | str) -> bytes:
    """Anthropic events as SSE: ``event: <type>`` and ``data: <json>``."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(f"data: {event}\n\n")
        else:
            out.append(f"event: {event.get('type')}\ndata: {json.dumps(event)}\n\n")
    return "".join(out).encode()


def run(
    data: bytes, wire: str, chunk_size: int = 65536, *, parts: bool = True, **options: Any
) -> list[JSONObject]:
    """The items of ``data`` in JSON form, after checking the invariants they must keep
    (with ``parts``, invariant 8 too)."""
    items: list[Any] = []
    failures: list[Exception] = []
    completed: list[bool] = []
    responses(from_bytes(data, chunk_size), wire=wire, **options).subscribe(  # type: ignore[arg-type]
        items.append, failures.append, lambda: completed.append(True)
    )
    assert failures == []
    assert completed == [True]
    objects = [json.loads(msgspec.json.encode(item)) for item in items]
    check(objects, parts)
    return objects


def run_all_sizes(
    data: bytes, wire: str, *, parts: bool = True, **options: Any
) -> list[JSONObject]:
    """The items at every chunk size of ``CHUNK_SIZES``, which must all be the same."""
    runs = [blank(run(data, wire, size, parts=parts, **options)) for size in CHUNK_SIZES]
    for other in runs[1:]:
        assert other == runs[0]
    return runs[0]


def blank(items: Iterable[JSONObject]) -> list[JSONObject]:
    return [{**i, "message_id": "*"} if i["type"] == "start" else i for i in items]


def without(items: Iterable[JSONObject], *types: str) -> list[JSONObject]:
    return [i for i in items if i["type"] not in types]


def of(items: Iterable[JSONObject], *types: str) -> list[JSONObject]:
    return [i for i in items if i["type"] in types]


def kinds(items: Iterable[JSONObject]) -> list[str]:
    return [i["type"] for i in items]


def calls(items: Iterable[JSONObject]) -> list[JSONObject]:
    return [i["tool_call"] for i in items if i["type"] == "tool_request_complete"]


def check(items: Sequence[JSONObject], parts: bool = True) -> None:
    """Invariants 1-4, 7, 8 (with ``parts``) and 9 of SPEC §2."""
    types = kinds(items)
    assert types[0] == "start"
    assert types.count("start") == 1
    assert uuid.UUID(items[0]["message_id"]).version == 4
    assert types[-1] == "done"
    assert types.count("done") == 1
    assert types.count("metadata") <= 1
    opened: dict[str, list[JSONObject]] = {}
    completed: dict[str, JSONObject] = {}
    started: dict[str, JSONObject] = {}
    final_results: set[str] = set()
    part: str | None = None
    for item in items:
        json.dumps(item).encode("utf-8")  # 7: no lone surrogates
        kind = item["type"]
        if kind == "part_start":
            part = item["kind"]
        elif kind in ("text", "refusal", "reasoning"):
            assert item["chunk"]
            want = ("reasoning", "reasoning_summary") if kind == "reasoning" else (kind,)
            assert part in want or not parts, f"{kind} chunk in a {part} part"
        elif kind == "tool_request_start":
            opened.setdefault(item["id"], []).append({**item, "chunks": []})
            started[item["id"]] = item
        elif kind == "tool_request_arg":
            assert item["chunk"]
            sharing = opened[item["id"]]
            if len(sharing) > 1:  # open calls share this id: the piece cannot be told apart
                for call in sharing:
                    call["ambiguous"] = True
            sharing[0]["chunks"].append(item["chunk"])
        elif kind == "tool_request_complete":
            call = item["tool_call"]
            mine = opened[call["id"]].pop(0)
            assert mine["name"] == call["name"]
            assert mine["provider_executed"] == call["provider_executed"]
            if not mine.get("ambiguous"):
                assert "".join(mine["chunks"]) == call["arguments"]
            completed[call["id"]] = call
        elif kind == "tool_result":
            assert item["id"] not in final_results
            if item["id"] in started:
                assert item["id"] in completed
                assert completed[item["id"]]["provider_executed"]
            final_results.add(item["id"])
        elif kind == "done":
            assert not any(opened.values()), "a call never completed"
        elif kind == "error":
            assert isinstance(item["retryable"], bool)
            assert isinstance(item["message"], str)
            if item["kind"] == "decode_error":
                assert item["retryable"] is False
                assert item["retry_after"] is None
