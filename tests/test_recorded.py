"""Recorded streams replayed through ``rxresponses replay --jsonl`` (see fixtures/README.md).

What each must give is computed here from the fixture with plain ``json``,
independently of the library, or written out from the recording by hand.
"""

import functools
import importlib.util
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    FIXTURES,
    JSONObject,
    check_invariants,
    chunks_of,
    errors,
    of_type,
    parse_jsonl,
    replay,
    tool_calls,
    without_message_id,
)

TERMINAL = ("response.completed", "response.incomplete", "response.failed")
LIFECYCLE = ("response.created", "response.queued", "response.in_progress", *TERMINAL)


def _fixtures() -> list[str]:
    names = [
        *(f"pydantic_ai/{p.name}" for p in sorted((FIXTURES / "pydantic_ai").glob("*.sse"))),
        *(f"vercel_ai/{p.name}" for p in sorted((FIXTURES / "vercel_ai").glob("*.chunks.txt"))),
        *(f"codex/{p.name}" for p in sorted((FIXTURES / "codex").glob("*.sse"))),
    ]
    assert len(names) == 34, names  # 11 + 20 + 3: every recorded stream is here
    return names


ALL = _fixtures()
#: Fixtures whose events are all whole JSON and that end with a terminal event.
MALFORMED = {"vercel_ai/parallel-tool-call-wrapper.1.chunks.txt", "codex/incomplete_sse.sse"}
WELL_FORMED = [name for name in ALL if name not in MALFORMED]


def _format_args(name: str) -> list[str]:
    return ["--format", "jsonl"] if name.endswith(".chunks.txt") else []


@functools.cache
def _stdout(name: str, *extra: str) -> bytes:
    result = replay(str(FIXTURES / name), "--jsonl", *_format_args(name), *extra)
    failed = any(item["type"] == "error" for item in parse_jsonl(result.stdout))
    assert result.returncode == (1 if failed else 0), result.stderr.decode()  # SPEC §6
    assert result.stderr == b"", result.stderr.decode()
    return result.stdout


def _items(name: str, *extra: str) -> list[JSONObject]:
    items = parse_jsonl(_stdout(name, *extra))
    check_invariants(items)
    return items


# ---- reading the fixtures, independently of the library --------------------


def read_events(name: str) -> list[JSONObject | None]:
    """The fixture's events in order; ``None`` for an event that is not valid JSON."""
    raw = (FIXTURES / name).read_text(encoding="utf-8")
    datas: list[str] = []
    if name.endswith(".chunks.txt"):
        datas = [line for line in raw.split("\n") if line.strip()]
    else:  # the SSE fixtures use "\n" only and single-line data
        for block in raw.split("\n\n"):
            lines = [line[len("data:") :] for line in block.split("\n") if line.startswith("data:")]
            if lines:
                datas.append("\n".join(line.removeprefix(" ") for line in lines))
    events: list[JSONObject | None] = []
    for data in datas:
        if data.strip() == "[DONE]":
            continue
        try:
            events.append(json.loads(data))
        except json.JSONDecodeError:
            events.append(None)
    return events


def first_response(events: Sequence[JSONObject | None]) -> list[JSONObject]:
    """The whole events up to and including the first terminal event."""
    out: list[JSONObject] = []
    for event in events:
        if event is None:
            continue
        out.append(event)
        if event["type"] in TERMINAL:
            break
    return out


@dataclass
class Expected:
    metadata: JSONObject | None = None
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    encrypted: list[JSONObject] = field(default_factory=list)
    calls: list[JSONObject] = field(default_factory=list)
    usage: list[JSONObject] = field(default_factory=list)
    stop_reason: str | None = None
    owed_builtin: bool = False  # a caller-run built-in call or an approval request came
    terminal: bool = False
    server_errors: int = 0
    #: part_start, text, refusal, reasoning and citation items, in order.
    content: list[JSONObject] = field(default_factory=list)
    last_sequence_number: int | None = None


def _citation(annotation: Any) -> JSONObject | None:
    """SPEC §3.1 Citations, for one annotation."""
    if not isinstance(annotation, dict):
        return None
    kind = annotation.get("type")
    fields: JSONObject = {
        key: None
        for key in ("url", "title", "file_id", "filename", "container_id", "quote", "start", "end")
    }
    if kind == "url_citation":
        fields.update(url=annotation["url"], title=annotation.get("title"))
        fields.update(start=annotation.get("start_index"), end=annotation.get("end_index"))
    elif kind in ("file_citation", "file_path"):
        fields.update(file_id=annotation["file_id"], start=annotation.get("index"))
        fields.update(end=annotation.get("index"))
        if kind == "file_citation":
            fields.update(filename=annotation.get("filename"))
    elif kind == "container_file_citation":
        fields.update(file_id=annotation["file_id"], filename=annotation.get("filename"))
        fields.update(container_id=annotation.get("container_id"))
        fields.update(start=annotation.get("start_index"), end=annotation.get("end_index"))
    else:
        return None
    return {"type": "citation", **fields}


class _Parts:
    """SPEC §1 Parts, written out plainly: where each part_start goes and what it says."""

    def __init__(self, content: list[JSONObject]) -> None:
        self.content = content
        self.ids: dict[Any, Any] = {}
        self.phases: dict[Any, Any] = {}
        self.current: Any = None

    def added(self, index: Any, item: JSONObject) -> None:
        self.ids[index] = item.get("id")
        self.phases[index] = item.get("phase") if item["type"] == "message" else None

    def delta(self, kind: str, event: JSONObject, sub: str) -> None:
        index = event.get("output_index")
        key = (kind, index, event.get(sub))
        if key != self.current:
            self.current = key
            item_id = (self.ids.get(index) if index is not None else None) or event.get("item_id")
            phase = self.phases.get(index) if index is not None else None
            self.start(kind, index, item_id, phase)
        self.chunk(kind, event["delta"])

    def start(self, kind: str, index: Any, item_id: Any, phase: Any) -> None:
        part = {"type": "part_start", "kind": kind, "index": index, "id": item_id}
        self.content.append({**part, "phase": phase})

    def chunk(self, kind: str, text: str) -> None:
        chunk_type = "reasoning" if kind.startswith("reasoning") else kind
        self.content.append({"type": chunk_type, "chunk": text})

    def whole(self, kind: str, index: Any, item: JSONObject, text: str) -> None:
        if text:
            self.start(kind, index, item.get("id"), item.get("phase"))
            self.chunk(kind, text)
            self.current = None


def _usage(usage: Any) -> list[JSONObject]:
    if not usage:
        return []
    inp = usage.get("input_tokens_details") or {}
    out = usage.get("output_tokens_details") or {}
    return [
        {
            "type": "usage",
            "tokens": {
                "input_tokens": usage.get("input_tokens", 0),
                "output_tokens": usage.get("output_tokens", 0),
                "cache_read_tokens": inp.get("cached_tokens") or None,
                "cache_creation_tokens": inp.get("cache_write_tokens") or None,
                "reasoning_tokens": out.get("reasoning_tokens") or None,
            },
        }
    ]


def _streamed(seen_at: set[Any], index: Any) -> bool:
    """SPEC §3: whether deltas came for this output (any, for an item without an index)."""
    if index is None:
        return bool(seen_at)
    return index in seen_at or None in seen_at


def _owed_builtin(item: JSONObject) -> bool:
    """A built-in call the caller must run, or an approval it must give (the ``tool_use`` rule)."""
    kind = item["type"]
    if kind in ("local_shell_call", "apply_patch_call", "computer_call", "mcp_approval_request"):
        return True
    environment = item.get("environment") or {}
    return kind == "shell_call" and environment.get("type") != "container_reference"


def expected(events: list[JSONObject]) -> Expected:
    """What SPEC §3 says these (whole, well-formed) events give."""
    exp = Expected()
    text_at: set[Any] = set()
    reasoning_at: set[Any] = set()
    cited_at: set[Any] = set()
    pending: dict[Any, JSONObject] = {}
    parts = _Parts(exp.content)
    for event in events:
        kind = event["type"]
        index = event.get("output_index")
        seq = event.get("sequence_number")
        if type(seq) is int:
            last = exp.last_sequence_number
            exp.last_sequence_number = seq if last is None else max(last, seq)
        if kind in LIFECYCLE and exp.metadata is None and isinstance(event["response"]["id"], str):
            exp.metadata = {
                "type": "metadata",
                "response_id": event["response"]["id"],
                "model": event["response"].get("model"),
            }
        if kind == "response.output_text.delta" and event["delta"]:
            exp.text.append(event["delta"])
            text_at.add(index)
            parts.delta("text", event, "content_index")
        elif kind == "response.refusal.delta" and event["delta"]:
            text_at.add(index)
            parts.delta("refusal", event, "content_index")
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            if event["delta"]:
                exp.reasoning.append(event["delta"])
                reasoning_at.add(index)
                if kind == "response.reasoning_text.delta":
                    parts.delta("reasoning", event, "content_index")
                else:
                    parts.delta("reasoning_summary", event, "summary_index")
        elif kind == "response.output_text.annotation.added":
            cited_at.add(index)
            citation = _citation(event["annotation"])
            if citation is not None:
                exp.content.append(citation)
        elif kind == "response.output_item.added":
            item = event["item"]
            parts.added(index, item)
            if item["type"] in ("function_call", "custom_tool_call"):
                pending[index] = {
                    "id": item.get("id") or item["call_id"],
                    "call_id": item.get("call_id"),
                    "name": item["name"],
                    "arguments": None,
                    "kind": "function" if item["type"] == "function_call" else "custom",
                    "partial": False,
                    "provider_executed": False,
                    "namespace": None,
                    "parent_id": None,
                }
        elif kind in (
            "response.function_call_arguments.done",
            "response.custom_tool_call_input.done",
        ):
            call = pending.pop(index)
            call["arguments"] = event.get("arguments", event.get("input"))
            exp.calls.append(call)
        elif kind == "response.output_item.done":
            item = event["item"]
            if item["type"] == "message" and not _streamed(text_at, index):
                for part in item["content"]:
                    if part["type"] not in ("output_text", "refusal"):
                        continue
                    text = part["text"] if part["type"] == "output_text" else part["refusal"]
                    part_kind = "text" if part["type"] == "output_text" else "refusal"
                    if text and part_kind == "text":
                        exp.text.append(text)
                    parts.whole(part_kind, index, item, text or "")
                    if not _streamed(cited_at, index):
                        for annotation in part.get("annotations") or []:
                            citation = _citation(annotation)
                            if citation is not None:
                                exp.content.append(citation)
            elif item["type"] == "reasoning":
                if not _streamed(reasoning_at, index):
                    for part_kind, key in (
                        ("reasoning_summary", "summary"),
                        ("reasoning", "content"),
                    ):
                        for part in item.get(key) or []:
                            if part.get("text"):
                                exp.reasoning.append(part["text"])
                                parts.whole(part_kind, index, item, part["text"])
                if item.get("id") and item.get("encrypted_content"):
                    exp.encrypted.append(
                        {
                            "type": "encrypted_reasoning",
                            "id": item["id"],
                            "content": item["encrypted_content"],
                        }
                    )
            elif item["type"] in ("function_call", "custom_tool_call") and index in pending:
                call = pending.pop(index)
                call["arguments"] = item.get("arguments", item.get("input"))
                exp.calls.append(call)
            elif _owed_builtin(item):
                exp.owed_builtin = True
        elif kind in ("response.completed", "response.incomplete"):
            exp.terminal = True
            response = event["response"]
            exp.usage = _usage(response.get("usage"))
            status = response.get("status")
            reason = (response.get("incomplete_details") or {}).get("reason")
            if kind == "response.incomplete" or status == "incomplete":
                exp.stop_reason = "content_filter" if reason == "content_filter" else "length"
            elif status in (None, "completed"):
                owed = exp.owed_builtin or any(not call["partial"] for call in exp.calls)
                exp.stop_reason = "tool_use" if owed else "end_turn"
        elif kind == "response.failed":
            exp.terminal = True
            exp.server_errors = max(exp.server_errors, 1)  # none after an error event
        elif kind == "error":
            exp.server_errors += 1
    assert not pending, "a fixture call never completed"
    return exp


# ---- every fixture ------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_replay_prints_strict_json_lines_that_keep_the_invariants(name: str) -> None:
    stdout = _stdout(name)
    assert b"\r" not in stdout
    items = parse_jsonl(stdout)  # one JSON object per line, every line ends with "\n"
    assert len(items) == stdout.count(b"\n")
    check_invariants(items)


@pytest.mark.parametrize("name", WELL_FORMED)
def test_replay_gives_what_the_recording_holds(name: str) -> None:
    items = _items(name)
    exp = expected(first_response(read_events(name)))
    assert exp.terminal
    assert of_type(items, "metadata") == ([exp.metadata] if exp.metadata else [])
    if exp.metadata is not None:
        assert items[1] == exp.metadata  # before the lifecycle event's other items
    assert chunks_of(items, "text") == exp.text
    assert "".join(chunks_of(items, "text")) == "".join(exp.text)
    assert chunks_of(items, "reasoning") == exp.reasoning
    assert chunks_of(items, "refusal") == []
    assert of_type(items, "encrypted_reasoning") == exp.encrypted
    assert [c for c in tool_calls(items) if c["kind"] != "builtin"] == exp.calls
    assert of_type(items, "usage") == exp.usage
    assert [e["kind"] for e in errors(items)] == ["server_error"] * exp.server_errors
    assert of_type(items, "part_start", "text", "refusal", "reasoning", "citation") == exp.content
    assert items[-1] == {
        "type": "done",
        "stop_reason": exp.stop_reason,
        "last_sequence_number": exp.last_sequence_number,
    }


@pytest.mark.parametrize("name", WELL_FORMED)
def test_function_call_arguments_are_json_equal_to_the_recorded_done(name: str) -> None:
    events = first_response(read_events(name))
    recorded = [
        e["arguments"] for e in events if e["type"] == "response.function_call_arguments.done"
    ]
    calls = [c for c in tool_calls(_items(name)) if c["kind"] == "function"]
    assert [c["arguments"] for c in calls] == recorded
    for call in calls:
        json.loads(call["arguments"])
        assert call["partial"] is False


@pytest.mark.parametrize("name", ALL)
def test_items_do_not_depend_on_chunk_size(name: str) -> None:
    sizes = ("1", "7", "512")
    with ThreadPoolExecutor(len(sizes)) as pool:
        outputs = list(pool.map(lambda n: _stdout(name, "--chunk-size", n), sizes))
    reference = without_message_id(_items(name))
    for size, stdout in zip(sizes, outputs, strict=True):
        items = parse_jsonl(stdout)
        check_invariants(items)
        assert without_message_id(items) == reference, f"--chunk-size {size}"


# ---- what particular recordings must give -----------------------------------


def _usage_item(
    inp: int, out: int, cached: int | None, write: int | None, reasoning: int | None
) -> JSONObject:
    return {
        "type": "usage",
        "tokens": {
            "input_tokens": inp,
            "output_tokens": out,
            "cache_read_tokens": cached,
            "cache_creation_tokens": write,
            "reasoning_tokens": reasoning,
        },
    }


def test_azure_text_recording_gives_hello_usage_and_end_turn() -> None:
    items = without_message_id(_items("vercel_ai/azure-text.1.chunks.txt"))
    assert items == [
        {"type": "start", "message_id": "*"},
        {
            "type": "metadata",
            "response_id": "resp_02ce8deeb6197db200698c5196e9588197a572bbea62d38cd1",
            "model": "gpt-5.1",
        },
        {
            "type": "part_start",
            "kind": "text",
            "index": 0,
            "id": "msg_02ce8deeb6197db200698c5198ca0c81979bedbe6c98a8ab93",
            "phase": None,
        },
        {"type": "text", "chunk": "Hello"},
        _usage_item(11, 11, None, None, None),
        {"type": "done", "stop_reason": "end_turn", "last_sequence_number": 8},
    ]


def test_azure_tool_call_recording_gives_one_whole_weather_call() -> None:
    items = _items("vercel_ai/azure-tool-call.1.chunks.txt")
    assert tool_calls(items) == [
        {
            "id": "fc_04041325ab8ae30400698c51c5468c8197a395f18875a5339f",
            "call_id": "call_H5DxLSFnsGhiROnUiDHmgyc8",
            "name": "weather",
            "arguments": '{"location":"San Francisco"}',
            "kind": "function",
            "partial": False,
            "provider_executed": False,
            "namespace": None,
            "parent_id": None,
        }
    ]
    assert len(of_type(items, "tool_request_arg")) == 6
    assert of_type(items, "usage") == [_usage_item(45, 24, None, None, None)]


def test_error_recording_gives_one_server_error_and_no_stop_reason() -> None:
    quota = (
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    items = without_message_id(_items("vercel_ai/openai-error.1.chunks.txt"))
    assert items == [
        {"type": "start", "message_id": "*"},
        {
            "type": "metadata",
            "response_id": "resp_05500b38c2cd9bfc00691c7c9d222481a3b595421266dab424",
            "model": "gpt-5-nano-2025-08-07",
        },
        {
            "type": "error",
            "kind": "server_error",
            "code": "insufficient_quota",
            "message": quota,
            "status": None,
            "retryable": False,
            "retry_after": None,
        },
        {"type": "done", "stop_reason": None, "last_sequence_number": 3},
    ]


def test_broken_json_lines_give_decode_errors_and_the_stream_goes_on() -> None:
    items = _items("vercel_ai/parallel-tool-call-wrapper.1.chunks.txt")
    arguments = (
        '{"tool_uses":[{"recipient_name":"functions.weather","parameters":'
        '{"location":"San Francisco"}},{"recipient_name":"functions.cityAttractions",'
        '"parameters":{"city":"Rome"}}]}'
    )
    shape = [(i["type"], i.get("kind")) for i in items]
    assert shape == [
        ("start", None),
        ("error", "decode_error"),  # line 1, response.created without its last "}"
        ("tool_request_start", None),
        ("tool_request_arg", None),
        ("tool_request_complete", None),
        ("error", "decode_error"),  # line 6, response.completed, broken: not terminal
        ("error", "stream_interrupted"),
        ("done", None),
    ]
    assert tool_calls(items) == [
        {
            "id": "fc_parallel",
            "call_id": "call_parallel",
            "name": "parallel",
            "arguments": arguments,
            "kind": "function",
            "partial": False,
            "provider_executed": False,
            "namespace": None,
            "parent_id": None,
        }
    ]
    for error in errors(items, "decode_error"):
        assert error["code"] is None
        assert error["retry_after"] is None
    assert items[-1] == {"type": "done", "stop_reason": None, "last_sequence_number": None}


def test_four_response_recording_gives_only_the_first_response() -> None:
    name = "vercel_ai/openai-reasoning-encrypted-content.1.chunks.txt"
    events = [e for e in read_events(name) if e is not None]
    assert sum(e["type"] == "response.completed" for e in events) == 4
    first = first_response(events)
    added = next(e for e in first if e["type"] == "response.output_item.added")
    done = next(e for e in first if e["type"] == "response.output_item.done")
    assert added["item"]["encrypted_content"] != done["item"]["encrypted_content"]

    items = _items(name)
    assert of_type(items, "metadata") == [
        {
            "type": "metadata",
            "response_id": "resp_01830d662ab3856501693c321345c88190b0de00f3b9975691",
            "model": "gpt-5.1-codex-max",
        }
    ]
    assert of_type(items, "encrypted_reasoning") == [
        {
            "type": "encrypted_reasoning",
            "id": "rs_01830d662ab3856501693c321405c88190be3ab04d5782d5f9",
            "content": done["item"]["encrypted_content"],
        }
    ]
    assert [(c["name"], c["arguments"]) for c in tool_calls(items)] == [
        ("calculator", '{"a":12,"b":7,"op":"add"}')
    ]
    assert chunks_of(items, "text") == []  # the final text is in the fourth response
    assert len(chunks_of(items, "reasoning")) == 32
    assert of_type(items, "usage") == [_usage_item(134, 28, None, None, None)]
    assert errors(items) == []
    # The calculator call is the caller's to run: the turn is the caller's.
    assert items[-1] == {"type": "done", "stop_reason": "tool_use", "last_sequence_number": 55}


def test_codex_incomplete_stream_gives_decode_error_then_interruption() -> None:
    items = _items("codex/incomplete_sse.sse")
    assert [(i["type"], i.get("kind")) for i in items] == [
        ("start", None),
        ("error", "decode_error"),  # output_item.done without its item
        ("error", "stream_interrupted"),
        ("done", None),
    ]
    assert items[-1]["stop_reason"] is None
    assert "response.output_item.done" in items[1]["message"]


def test_codex_cli_fixture_gives_the_text_of_its_output_item_done() -> None:
    items = without_message_id(_items("codex/cli_responses_fixture.sse"))
    assert items == [
        {"type": "start", "message_id": "*"},
        {"type": "metadata", "response_id": "resp1", "model": None},
        {"type": "part_start", "kind": "text", "index": None, "id": None, "phase": None},
        {"type": "text", "chunk": "fixture hello"},
        {"type": "done", "stop_reason": "end_turn", "last_sequence_number": None},
    ]


def test_codex_completed_template_gives_zero_usage_with_null_details() -> None:
    items = without_message_id(_items("codex/completed_template.sse"))
    assert items == [
        {"type": "start", "message_id": "*"},
        {"type": "metadata", "response_id": "__ID__", "model": None},
        _usage_item(0, 0, None, None, None),
        {"type": "done", "stop_reason": "end_turn", "last_sequence_number": None},
    ]


def test_converted_codex_fixtures_match_their_json_originals() -> None:
    spec = importlib.util.spec_from_file_location("convert_codex", FIXTURES / "convert_codex.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for stem in ("completed_template", "incomplete_sse"):
        source = FIXTURES / "codex" / f"{stem}.json"
        events = json.loads(source.read_text(encoding="utf-8"))
        assert (FIXTURES / "codex" / f"{stem}.sse").read_bytes() == module.convert(source)
        assert [e for e in read_events(f"codex/{stem}.sse")] == events


def test_openrouter_comment_and_done_marker_give_no_error() -> None:
    name = "pydantic_ai/test_openai_responses_raw_cot_stream_openrouter.0.sse"
    raw = (FIXTURES / name).read_bytes()
    assert raw.startswith(b": OPENROUTER PROCESSING\n")
    assert raw.endswith(b"data: [DONE]\n\n")
    assert b"\nevent:" not in raw
    items = _items(name)
    assert errors(items) == []
    assert of_type(items, "metadata") == [
        {
            "type": "metadata",
            "response_id": "gen-1764265411-Fu1iEX7h5MRWiL79lb94",
            "model": "openai/gpt-oss-20b",
        }
    ]
    assert len(chunks_of(items, "reasoning")) == 26
    assert of_type(items, "usage") == [_usage_item(78, 37, None, None, 22)]
    assert items[-1] == {"type": "done", "stop_reason": "end_turn", "last_sequence_number": 39}


def test_done_marker_in_the_middle_is_ignored(tmp_path: Path) -> None:
    name = "pydantic_ai/test_openai_responses_raw_cot_stream_openrouter.0.sse"
    raw = (FIXTURES / name).read_bytes()
    cut = raw.index(b"\n\n", raw.index(b"response.in_progress")) + 2
    moved = tmp_path / "done-in-the-middle.sse"
    moved.write_bytes(raw[:cut] + b"data:  [DONE] \n\n" + raw[cut:])
    result = replay(str(moved), "--jsonl")
    assert result.returncode == 0
    items = parse_jsonl(result.stdout)
    assert without_message_id(items) == without_message_id(_items(name))


def test_copilot_rotating_ids_give_first_ids_and_no_repeated_text() -> None:
    items = _items("vercel_ai/github-copilot-id-rotation.1.chunks.txt")
    assert of_type(items, "metadata") == [
        {"type": "metadata", "response_id": "capture-id-1", "model": "gpt-5.3-codex"}
    ]
    # the output_item.done of each item carries a new id: keyed by output_index,
    # the reasoning and text already streamed are not told again
    assert chunks_of(items, "reasoning") == ["**Counting character occurrences**"]
    text = "".join(chunks_of(items, "text"))
    assert text.startswith("There are **3** letter")
    assert len(chunks_of(items, "text")) == 55
    assert of_type(items, "encrypted_reasoning") == []  # encrypted_content is null
    assert of_type(items, "usage") == [_usage_item(19, 105, None, None, 44)]


def test_copilot_style_rotating_ids_on_a_tool_call_keep_the_first_id(tmp_path: Path) -> None:
    """A call in the recording's style: every event has a new item id, one output_index."""
    events: list[JSONObject] = [
        {"response": {"id": "capture-id-1", "model": "m"}, "type": "response.created"},
        {
            "item": {
                "arguments": "",
                "call_id": "call_x",
                "id": "capture-id-2",
                "name": "lookup",
                "type": "function_call",
            },
            "output_index": 0,
            "type": "response.output_item.added",
        },
        *(
            {
                "delta": piece,
                "item_id": f"capture-id-{3 + n}",
                "output_index": 0,
                "type": "response.function_call_arguments.delta",
            }
            for n, piece in enumerate(['{"q"', ':"r"', "}"])
        ),
        {
            "arguments": '{"q":"r"}',
            "item_id": "capture-id-6",
            "output_index": 0,
            "type": "response.function_call_arguments.done",
        },
        {
            "item": {
                "arguments": '{"q":"r"}',
                "call_id": "call_x",
                "id": "capture-id-7",
                "name": "lookup",
                "type": "function_call",
            },
            "output_index": 0,
            "type": "response.output_item.done",
        },
        {"response": {"id": "capture-id-8", "status": "completed"}, "type": "response.completed"},
    ]
    path = tmp_path / "rotation.chunks.txt"
    path.write_text("\n".join(json.dumps(e) for e in events), encoding="utf-8")
    result = replay(str(path), "--jsonl", "--format", "jsonl", "--chunk-size", "5")
    assert result.returncode == 0
    items = parse_jsonl(result.stdout)
    check_invariants(items)
    assert of_type(items, "tool_request_start") == [
        {
            "type": "tool_request_start",
            "id": "capture-id-2",
            "name": "lookup",
            "provider_executed": False,
        }
    ]
    assert {i["id"] for i in of_type(items, "tool_request_arg")} == {"capture-id-2"}
    assert tool_calls(items) == [
        {
            "id": "capture-id-2",
            "call_id": "call_x",
            "name": "lookup",
            "arguments": '{"q":"r"}',
            "kind": "function",
            "partial": False,
            "provider_executed": False,
            "namespace": None,
            "parent_id": None,
        }
    ]


def test_lmstudio_arguments_sent_only_in_done_come_as_one_piece() -> None:
    items = _items("vercel_ai/lmstudio-tool-call.1.chunks.txt")
    tool_items = of_type(items, "tool_request_start", "tool_request_arg", "tool_request_complete")
    call_id = "fc_z9synwu0kvc33k6e9u3dq4"
    assert tool_items == [
        {
            "type": "tool_request_start",
            "id": call_id,
            "name": "weather",
            "provider_executed": False,
        },
        {"type": "tool_request_arg", "id": call_id, "chunk": '{"location":"San Francisco"}'},
        {
            "type": "tool_request_complete",
            "tool_call": {
                "id": call_id,
                "call_id": "call_2025306790300011",
                "name": "weather",
                "arguments": '{"location":"San Francisco"}',
                "kind": "function",
                "partial": False,
                "provider_executed": False,
                "namespace": None,
                "parent_id": None,
            },
        },
    ]
    position = items.index(tool_items[1])
    assert items[position + 1] == tool_items[2]  # the missing rest comes just before complete
    assert len(chunks_of(items, "reasoning")) == 48
    assert of_type(items, "usage") == [_usage_item(182, 61, 2, None, 48)]


def test_custom_tool_input_is_free_text_completed_by_output_item_done() -> None:
    items = _items("vercel_ai/openai-custom-tool.1.chunks.txt")
    assert chunks_of(items, "tool_request_arg") == ["SELECT * ", "FROM users ", "WHERE age > 25"]
    assert tool_calls(items) == [
        {
            "id": "ct_abc123def456",
            "call_id": "call_custom_sql_001",
            "name": "write_sql",
            "arguments": "SELECT * FROM users WHERE age > 25",
            "kind": "custom",
            "partial": False,
            "provider_executed": False,
            "namespace": None,
            "parent_id": None,
        }
    ]


def test_apply_patch_item_is_a_builtin_call_the_caller_runs() -> None:
    items = _items("vercel_ai/openai-apply-patch-tool.1.chunks.txt")
    [call] = tool_calls(items)
    assert (call["name"], call["kind"], call["provider_executed"]) == (
        "apply_patch",
        "builtin",
        False,
    )
    assert json.loads(call["arguments"])["operation"]["path"] == "shopping-checklist.md"
    assert of_type(items, "tool_result") == []
    assert errors(items) == []
    # the caller must apply the patch: the turn ends owing it
    assert items[-1] == {"type": "done", "stop_reason": "tool_use", "last_sequence_number": 37}


def test_encrypted_reasoning_usage_and_call_of_the_streaming_usage_recording() -> None:
    items = _items("pydantic_ai/test_openai_responses_streaming_usage.0.sse")
    assert [i["id"] for i in of_type(items, "encrypted_reasoning")] == [
        "rs_0050471a34b36ae60068c97bac4dcc819595fd0f80d6b3c405"
    ]
    assert [(c["name"], c["arguments"]) for c in tool_calls(items)] == [
        ("final_result", '{"result":6666}')
    ]
    assert of_type(items, "usage") == [_usage_item(53, 469, None, None, 448)]


def test_web_search_recording_gives_cached_tokens_and_two_encrypted_reasonings() -> None:
    items = _items("pydantic_ai/test_openai_responses_model_web_search_tool_stream.0.sse")
    assert [i["id"] for i in of_type(items, "encrypted_reasoning")] == [
        "rs_00a60507bf41223d0068c9d2fc927081a088e0b920cdfe3866",
        "rs_00a60507bf41223d0068c9d300b23481a0b77a03d911213220",
    ]
    assert len(chunks_of(items, "text")) == 44
    assert of_type(items, "usage") == [_usage_item(9463, 582, 8320, None, 512)]


def test_resumed_background_stream_takes_metadata_from_queued() -> None:
    items = _items("pydantic_ai/test_background_mode_streaming_starting_after_vcr.1.sse")
    assert items[1] == {
        "type": "metadata",
        "response_id": "resp_0850765c843cca5300699cc47d93c0819089a181f5feeff8eb",
        "model": "gpt-4o-2024-08-06",
    }
    assert len(chunks_of(items, "text")) == 8
