"""SPEC §3.1 "Built-in calls": the provider's own tools as tool calls, their results,
approval requests and compaction items, through the whole chain from bytes.

Recorded streams (tests/fixtures/vercel_ai) cover every row but ``computer_call``;
hand-written events are checked against the ``openai`` package's own event types.
"""

import json
from collections.abc import Iterable
from functools import cache
from typing import Any, get_args

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import ResponseOutputItem, ResponseStreamEvent
from rxresponses import (
    ApprovalRequest,
    Compaction,
    Error,
    Item,
    ToolRequestArg,
    ToolRequestStart,
    ToolResult,
)

from tests.helpers import FIXTURES, check_items
from tests.wire import completed, run, sse, tool_calls, types

CHUNK_SIZES = (1, 5, 65536)
Event = dict[str, Any]


# ---- reading recordings and writing events ----------------------------------


@cache
def _recording(name: str) -> bytes:
    return (FIXTURES / "vercel_ai" / name).read_bytes()


def _recorded_events(name: str) -> list[Event]:
    return [json.loads(line) for line in _recording(name).decode().splitlines() if line.strip()]


def replay(name: str, chunk_size: int = 65536, **options: Any) -> list[Item]:
    items = run(_recording(name), chunk_size, format="jsonl", **options)
    check_items(items)
    return items


def done_items(name: str, item_type: str) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in _recorded_events(name)
        if e["type"] == "response.output_item.done" and e["item"]["type"] == item_type
    ]


def _by_type(union: Any) -> dict[str, Any]:
    """The ``openai`` package's models in a tagged union, by their ``type``."""
    return {
        get_args(model.model_fields["type"].annotation)[0]: model
        for model in get_args(get_args(union)[0])
    }


_MODELS = _by_type(ResponseStreamEvent)
_ITEM_MODELS = _by_type(ResponseOutputItem)


def valid(*events: Event) -> list[Event]:
    """The events, each numbered and checked against the ``openai`` package's model of it.

    ``response.completed`` is the tests' own short form (``tests.wire``), not checked.
    """
    out = []
    for number, event in enumerate(events):
        event = {**event, "sequence_number": number}
        if event["type"] != "response.completed":
            if "item" in event:  # the item first, for a readable failure
                _ITEM_MODELS[event["item"]["type"]].model_validate(event["item"])
            _MODELS[event["type"]].model_validate(event)
        out.append(event)
    return out


def chain(events: Iterable[Event], chunk_size: int = 65536, **options: Any) -> list[Item]:
    items = run(sse(events), chunk_size, **options)
    check_items(items)
    return items


def added(output_index: int, item: Event) -> Event:
    return {"type": "response.output_item.added", "output_index": output_index, "item": item}


def done(output_index: int, item: Event) -> Event:
    return {"type": "response.output_item.done", "output_index": output_index, "item": item}


def end() -> Event:
    return dict(completed())


def of(items: Iterable[Item], cls: type[Any]) -> list[Any]:
    return [item for item in items if isinstance(item, cls)]


def chunks(items: Iterable[Item], call_id: str) -> list[str]:
    return [item.chunk for item in items if isinstance(item, ToolRequestArg) and item.id == call_id]


def tool_types(items: Iterable[Item]) -> list[str]:
    return [t for t in types(items) if t.startswith(("tool_", "approval"))]


# ---- web_search_call ---------------------------------------------------------

WEB = "openai-web-search-tool.1.chunks.txt"


def test_web_search_calls_are_server_run_builtin_calls_with_their_sources() -> None:
    items = replay(WEB)
    recorded = done_items(WEB, "web_search_call")

    calls = tool_calls(items)
    assert len(calls) == len(recorded) == 6
    for call, item in zip(calls, recorded, strict=True):
        assert (call.id, call.call_id, call.name, call.kind) == (
            item["id"],
            None,
            "web_search",
            "builtin",
        )
        assert call.provider_executed is True
        assert call.partial is False
        assert json.loads(call.arguments) == {"action": item["action"]}
    results = of(items, ToolResult)
    assert [r.id for r in results] == [item["id"] for item in recorded]
    for result, item in zip(results, recorded, strict=True):
        assert json.loads(result.output) == {
            "status": item["status"],
            "sources": item["action"].get("sources"),
        }
        assert (result.name, result.is_error, result.preliminary) == ("web_search", False, False)
    assert of(items, ToolRequestStart)[0].provider_executed is True
    assert tool_types(items)[:4] == [
        "tool_request_start",
        "tool_request_arg",
        "tool_request_complete",
        "tool_result",
    ]


def test_web_search_arguments_and_result_keep_the_items_own_json_text() -> None:
    item = (
        '{"type":"web_search_call","id":"ws_1","status": "failed",'
        '"action": {"type": "search", "query": "caf\\u00e9", "sources": [ ]}}'
    )
    data = (
        b'data: {"type":"response.output_item.added","output_index":0,'
        b'"item":{"type":"web_search_call","id":"ws_1","status":"in_progress"}}\n\n'
        b'data: {"type":"response.output_item.done","output_index":0,"item":'
        + item.encode()
        + b"}\n\n"
        + sse([end()])
    )
    for size in CHUNK_SIZES:
        items = run(data, size)
        check_items(items)
        [call] = tool_calls(items)
        assert call.arguments == (
            '{"action":{"type": "search", "query": "caf\\u00e9", "sources": [ ]}}'
        )
        [result] = of(items, ToolResult)
        assert result.output == '{"status":"failed","sources":[ ]}'
        assert result.is_error is True


# ---- file_search_call --------------------------------------------------------

FILES = "openai-file-search-tool.2.chunks.txt"


def test_file_search_call_gives_its_queries_and_then_its_results() -> None:
    items = replay(FILES)
    [item] = done_items(FILES, "file_search_call")

    [call] = tool_calls(items)
    assert (call.name, call.kind, call.provider_executed) == ("file_search", "builtin", True)
    assert json.loads(call.arguments) == {"queries": item["queries"]}
    [result] = of(items, ToolResult)
    assert json.loads(result.output) == {"status": item["status"], "results": item["results"]}
    assert types(items).index("tool_result") == types(items).index("tool_request_complete") + 1


# ---- code_interpreter_call ---------------------------------------------------

CODE = "openai-code-interpreter-tool.1.chunks.txt"


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_code_interpreter_code_streams_into_its_arguments(size: int) -> None:
    items = replay(CODE, size)
    events = _recorded_events(CODE)
    recorded = done_items(CODE, "code_interpreter_call")
    deltas = [e for e in events if e["type"] == "response.code_interpreter_call_code.delta"]
    assert len(deltas) == 149

    calls = tool_calls(items)
    assert [c.id for c in calls] == [item["id"] for item in recorded]
    for call, item in zip(calls, recorded, strict=True):
        assert (call.name, call.kind, call.provider_executed) == (
            "code_interpreter",
            "builtin",
            True,
        )
        assert call.partial is False
        assert json.loads(call.arguments) == {
            "container_id": item["container_id"],
            "code": item["code"],
        }
        pieces = chunks(items, call.id)
        mine = [d["delta"] for d in deltas if d["item_id"] == item["id"]]
        head = '{"container_id":' + json.dumps(item["container_id"]) + ',"code":"'
        # the prefix comes with the first delta, then one piece per delta, then the close
        assert pieces[0] == head
        assert [json.loads(f'"{p}"') for p in pieces[1:-1]] == mine
        assert pieces[-1] == '"}'
    results = of(items, ToolResult)
    assert [json.loads(r.output) for r in results] == [
        {"status": item["status"], "outputs": item["outputs"]} for item in recorded
    ]


def _code_call(code: str | None, container: str | None = "cntr_1") -> Event:
    item: Event = {
        "type": "code_interpreter_call",
        "id": "ci_1",
        "status": "completed",
        "container_id": container,
        "code": code,
        "outputs": None,
    }
    return item


def _code_delta(delta: str) -> Event:
    return {
        "type": "response.code_interpreter_call_code.delta",
        "output_index": 0,
        "item_id": "ci_1",
        "delta": delta,
    }


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_code_deltas_are_escaped_as_json_string_text(size: int) -> None:
    code = 'print("é\\n")\n\t# ☃ "q"'
    cut = [code[:7], "", code[7:13], code[13:]]
    events = valid(
        added(0, {**_code_call("", "cntr_1"), "status": "in_progress"}),
        *(_code_delta(piece) for piece in cut),
        done(0, _code_call(code)),
        end(),
    )
    items = chain(events, size)

    [call] = tool_calls(items)
    assert json.loads(call.arguments) == {"container_id": "cntr_1", "code": code}
    assert call.arguments == msgspec.json.encode({"container_id": "cntr_1", "code": code}).decode()
    assert call.partial is False
    pieces = chunks(items, "ci_1")
    assert pieces[1:4] == [msgspec.json.encode(p).decode()[1:-1] for p in cut if p]
    assert len(pieces) == 5  # the prefix, three non-empty deltas, the closing characters


def test_code_call_without_deltas_gives_its_arguments_at_done_with_missing_code_empty() -> None:
    item = _code_call(None, None)
    del item["code"]
    # not a shape the openai types allow: what is tested is the rule for missing fields
    events = [added(0, {**_code_call("", None), "status": "in_progress"}), done(0, item), end()]
    items = chain(events)

    [call] = tool_calls(items)
    assert chunks(items, "ci_1") == ['{"container_id":null,"code":""}']
    assert call.arguments == '{"container_id":null,"code":""}'


def test_done_that_does_not_extend_the_streamed_code_leaves_the_call_partial() -> None:
    events = valid(
        added(0, {**_code_call(""), "status": "in_progress"}),
        _code_delta("x = 1"),
        done(0, _code_call("y = 2")),
        end(),
    )
    items = chain(events)

    [call] = tool_calls(items)
    assert call.arguments == '{"container_id":"cntr_1","code":"x = 1'
    assert call.partial is True


# ---- image_generation_call ---------------------------------------------------

IMAGE = "openai-image-generation-tool.1.chunks.txt"


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_image_preview_is_a_preliminary_result_before_the_final_image(size: int) -> None:
    items = replay(IMAGE, size)
    [item] = done_items(IMAGE, "image_generation_call")
    [preview] = [
        e
        for e in _recorded_events(IMAGE)
        if e["type"] == "response.image_generation_call.partial_image"
    ]

    assert tool_types(items) == [
        "tool_request_start",
        "tool_result",
        "tool_request_arg",
        "tool_request_complete",
        "tool_result",
    ]
    [call] = tool_calls(items)
    assert (call.name, call.arguments, call.provider_executed) == ("image_generation", "{}", True)
    first, last = of(items, ToolResult)
    assert first.preliminary is True
    assert last.preliminary is False
    assert json.loads(first.output) == {
        "partial_image_b64": preview["partial_image_b64"],
        "partial_image_index": preview["partial_image_index"],
    }
    assert json.loads(last.output) == {"status": item["status"], "result": item["result"]}


def test_image_preview_of_no_pending_image_call_gives_nothing() -> None:
    preview = {
        "type": "response.image_generation_call.partial_image",
        "output_index": 0,
        "item_id": "ig_1",
        "partial_image_b64": "AAAA",
        "partial_image_index": 0,
    }
    image = {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "AAAA"}
    items = chain(valid(preview, added(0, image), done(0, image), preview, end()))

    assert [r.preliminary for r in of(items, ToolResult)] == [False]


# ---- mcp_call and mcp_list_tools ---------------------------------------------

MCP = "openai-mcp-tool.1.chunks.txt"


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_mcp_calls_stream_their_arguments_and_give_output_and_error(size: int) -> None:
    items = replay(MCP, size)
    listed = done_items(MCP, "mcp_list_tools")
    called = done_items(MCP, "mcp_call")
    assert called

    calls = tool_calls(items)
    assert [c.id for c in calls] == [i["id"] for i in (*listed, *called)]
    results = {r.id: r for r in of(items, ToolResult)}
    for item in listed:
        [call] = [c for c in calls if c.id == item["id"]]
        assert (call.name, call.namespace, call.provider_executed) == (
            "mcp_list_tools",
            item["server_label"],
            True,
        )
        assert json.loads(call.arguments) == {"server": item["server_label"]}
        assert json.loads(results[item["id"]].output) == {
            "tools": item["tools"],
            "error": item.get("error"),
        }
    for item in called:
        [call] = [c for c in calls if c.id == item["id"]]
        assert (call.name, call.namespace, call.partial) == ("mcp", item["server_label"], False)
        assert json.loads(call.arguments) == {
            "server": item["server_label"],
            "tool": item["name"],
            "arguments": json.loads(item["arguments"]),
        }
        # A, the arguments text, goes in as it is
        assert item["arguments"] in call.arguments
        assert json.loads(results[item["id"]].output) == {
            "output": item["output"],
            "error": item["error"],
        }
        assert results[item["id"]].is_error is (item["error"] is not None)


def _mcp_call(arguments: str, error: Any = None) -> Event:
    return {
        "type": "mcp_call",
        "id": "mcp_1",
        "server_label": "srv",
        "name": "lookup",
        "arguments": arguments,
        "output": None if error else "ok",
        "error": error,
    }


def test_mcp_call_with_an_error_is_an_error_result_and_empty_arguments_are_an_object() -> None:
    error = {"type": "http_error", "code": 502, "message": "bad gateway"}
    items = chain(valid(added(0, _mcp_call("")), done(0, _mcp_call("", error)), end()))

    [call] = tool_calls(items)
    assert call.arguments == '{"server":"srv","tool":"lookup","arguments":{}}'
    [result] = of(items, ToolResult)
    assert result.output == '{"output":null,"error":' + json.dumps(error) + "}"
    assert result.is_error is True


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_mcp_argument_deltas_go_in_as_they_are(size: int) -> None:
    delta = {"type": "response.mcp_call_arguments.delta", "output_index": 0, "item_id": "mcp_1"}
    events = valid(
        added(0, _mcp_call("")),
        {**delta, "delta": '{"q": "a\\"b'},
        {**delta, "delta": '"}'},
        done(0, _mcp_call('{"q": "a\\"b"}')),
        end(),
    )
    items = chain(events, size)

    assert chunks(items, "mcp_1") == [
        '{"server":"srv","tool":"lookup","arguments":',
        '{"q": "a\\"b',
        '"}',
        "}",
    ]
    [call] = tool_calls(items)
    assert json.loads(call.arguments)["arguments"] == {"q": 'a"b'}
    assert call.partial is False


# ---- mcp_approval_request ----------------------------------------------------

APPROVAL = "openai-mcp-tool-approval.1.chunks.txt"


def test_mcp_approval_request_gives_an_approval_request_after_the_call() -> None:
    items = replay(APPROVAL)
    [item] = done_items(APPROVAL, "mcp_approval_request")

    [call] = [c for c in tool_calls(items) if c.id == item["id"]]
    assert (call.name, call.namespace, call.provider_executed) == ("mcp", "zip1", True)
    assert json.loads(call.arguments) == {
        "server": "zip1",
        "tool": item["name"],
        "arguments": json.loads(item["arguments"]),
    }
    assert of(items, ApprovalRequest) == [ApprovalRequest(id=item["id"], tool_id=item["id"])]
    complete = types(items).index("tool_request_complete", types(items).index("tool_result") + 1)
    assert types(items)[complete + 1] == "approval_request"
    assert [r.id for r in of(items, ToolResult)] == [
        done_items(APPROVAL, "mcp_list_tools")[0]["id"]
    ]


# ---- local_shell_call, shell_call --------------------------------------------


def test_local_shell_call_is_for_the_caller_to_run_and_gives_no_result() -> None:
    name = "openai-local-shell-tool.1.chunks.txt"
    items = replay(name)
    [item] = done_items(name, "local_shell_call")

    [call] = tool_calls(items)
    assert (call.id, call.call_id, call.name) == (item["id"], item["call_id"], "local_shell")
    assert (call.kind, call.provider_executed, call.partial) == ("builtin", False, False)
    assert json.loads(call.arguments) == {"action": item["action"]}
    assert of(items, ToolResult) == []


@pytest.mark.parametrize(
    ("name", "hosted"),
    [("openai-shell-tool.1.chunks.txt", False), ("openai-shell-container.1.chunks.txt", True)],
)
def test_shell_call_is_server_run_only_in_a_container(name: str, hosted: bool) -> None:
    items = replay(name)
    recorded = done_items(name, "shell_call")

    calls = tool_calls(items)
    assert [c.id for c in calls] == [i["id"] for i in recorded]
    for call, item in zip(calls, recorded, strict=True):
        assert (call.name, call.provider_executed) == ("shell", hosted)
        assert json.loads(call.arguments) == {"action": item["action"]}
    assert [s.provider_executed for s in of(items, ToolRequestStart)] == [hosted] * len(calls)
    assert of(items, ToolResult) == []


# ---- apply_patch_call --------------------------------------------------------

PATCH = "openai-apply-patch-tool.1.chunks.txt"


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_apply_patch_diff_streams_escaped_into_its_operation(size: int) -> None:
    items = replay(PATCH, size)
    [item] = done_items(PATCH, "apply_patch_call")
    deltas = [
        e["delta"]
        for e in _recorded_events(PATCH)
        if e["type"] == "response.apply_patch_call_operation_diff.delta" and e["delta"]
    ]

    [call] = tool_calls(items)
    assert (call.name, call.call_id, call.provider_executed) == (
        "apply_patch",
        item["call_id"],
        False,
    )
    operation = item["operation"]
    assert json.loads(call.arguments) == {
        "operation": {
            "type": operation["type"],
            "path": operation["path"],
            "diff": operation["diff"],
        }
    }
    pieces = chunks(items, call.id)
    assert pieces[0].endswith('"diff":"')
    assert [json.loads(f'"{p}"') for p in pieces[1 : len(deltas) + 1]] == deltas
    assert call.partial is False
    assert of(items, ToolResult) == []


def test_apply_patch_without_a_diff_builds_an_empty_one() -> None:
    item = {
        "type": "apply_patch_call",
        "id": "apc_1",
        "call_id": "call_1",
        "status": "completed",
        "operation": {"type": "delete_file", "path": "old.txt"},
    }
    items = chain(valid(added(0, item), done(0, item), end()))

    [call] = tool_calls(items)
    assert call.arguments == '{"operation":{"type":"delete_file","path":"old.txt","diff":""}}'


# ---- computer_call (no recording: events checked against the openai types) ---


def test_computer_call_gives_its_actions_at_done_for_the_caller_to_run() -> None:
    item = {
        "type": "computer_call",
        "id": "cu_1",
        "call_id": "call_cu",
        "status": "completed",
        "action": {"type": "click", "button": "left", "x": 10, "y": 20},
        "pending_safety_checks": [],
    }
    events = valid(added(0, {**item, "status": "in_progress"}), done(0, item), end())
    items = chain(events)

    [call] = tool_calls(items)
    assert (call.id, call.call_id, call.name, call.provider_executed) == (
        "cu_1",
        "call_cu",
        "computer",
        False,
    )
    # the item's own JSON text, as the server wrote it (spaces and all)
    assert call.arguments == (
        '{"action":' + json.dumps(item["action"]) + ',"actions":null,"pending_safety_checks":[]}'
    )
    assert of(items, ToolResult) == []


# ---- compaction --------------------------------------------------------------


def test_compaction_item_gives_its_encrypted_content() -> None:
    name = "openai-compaction.1.chunks.txt"
    items = replay(name)
    [item] = done_items(name, "compaction")

    assert of(items, Compaction) == [Compaction(id=item["id"], content=item["encrypted_content"])]


# ---- rules around the table --------------------------------------------------


def _web(status: str = "completed") -> Event:
    return {
        "type": "web_search_call",
        "id": "ws_1",
        "status": status,
        "action": {"type": "search", "query": "q"},
    }


def test_server_run_call_whose_completion_never_comes_gets_no_result() -> None:
    items = chain(valid(added(0, _web("in_progress"))))

    [call] = tool_calls(items)
    assert call.partial is True
    assert of(items, ToolResult) == []


def test_done_item_of_another_type_completes_the_call_and_gives_no_result() -> None:
    function = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "",
    }
    items = chain(
        valid(added(0, _web("in_progress")), done(0, {**function, "arguments": "{}"}), end())
    )

    [call] = tool_calls(items)
    assert (call.id, call.name, call.kind) == ("ws_1", "web_search", "builtin")
    assert of(items, ToolResult) == []


def test_deltas_of_a_call_whose_arguments_come_at_done_are_ignored() -> None:
    events = [
        added(0, _web("in_progress")),
        {"type": "response.code_interpreter_call_code.delta", "output_index": 0, "delta": "x"},
        {"type": "response.mcp_call_arguments.delta", "output_index": 0, "delta": "x"},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "x"},
        done(0, _web()),
        end(),
    ]
    items = chain(events)

    assert chunks(items, "ws_1") == ['{"action":' + json.dumps(_web()["action"]) + "}"]
    assert tool_calls(items)[0].partial is False


def test_a_second_done_gives_no_second_result() -> None:
    items = chain(valid(added(0, _web("in_progress")), done(0, _web()), done(0, _web()), end()))

    assert len(of(items, ToolResult)) == 1
    assert len(tool_calls(items)) == 1


def test_result_past_the_cap_is_cut_with_one_decode_error() -> None:
    item = {**_code_call("x"), "outputs": [{"type": "logs", "logs": "u" * 300}]}
    items = chain(valid(added(0, _code_call("")), done(0, item), end()), max_tool_input_bytes=200)

    [result] = of(items, ToolResult)
    assert json.loads(result.output) == {"truncated": True}
    assert [e.kind for e in of(items, Error)] == ["decode_error"]
    assert types(items).index("error") < types(items).index("tool_result")


def test_tool_item_without_id_or_call_id_is_a_decode_error_and_the_stream_goes_on() -> None:
    anonymous = {"type": "web_search_call", "status": "completed", "action": None}
    items = chain([added(0, anonymous), done(1, _web()), end()])

    assert [e.kind for e in of(items, Error)] == ["decode_error"]
    assert [c.id for c in tool_calls(items)] == ["ws_1"]


def test_mistyped_code_is_a_decode_error() -> None:
    items = chain([added(0, {**_code_call(""), "code": 5}), end()])

    assert [e.kind for e in of(items, Error)] == ["decode_error"]
    assert tool_calls(items) == []


def test_function_namespace_and_caller_are_kept_on_the_call() -> None:
    function = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "namespace": "crm",
        "caller": {"type": "program", "caller_id": "prog_1"},
        "arguments": "",
    }
    items = chain([added(0, function), done(0, {**function, "arguments": "{}"}), end()])

    [call] = tool_calls(items)
    assert (call.namespace, call.parent_id, call.kind, call.provider_executed) == (
        "crm",
        "prog_1",
        "function",
        False,
    )


def test_items_of_other_types_give_nothing() -> None:
    other = {"type": "tool_search_call", "id": "ts_1", "status": "completed"}
    items = chain([added(0, other), done(0, other), end()])

    assert types(items) == ["start", "done"]


# ---- invariants 3, 4 and 9 over generated streams ----------------------------


def _stream_call(index: int, kind: str, delta_texts: list[str], finish: str) -> list[Event]:
    """One call's events: its start, deltas, and a completion (or none)."""
    if kind == "function":
        item: Event = {
            "type": "function_call",
            "id": f"fc_{index}",
            "call_id": f"call_{index}",
            "name": "f",
            "arguments": "",
        }
        delta_type, final = (
            "response.function_call_arguments.delta",
            {"arguments": "".join(delta_texts)},
        )
    elif kind == "code":
        item = {**_code_call(""), "id": f"ci_{index}"}
        delta_type, final = (
            "response.code_interpreter_call_code.delta",
            {"code": "".join(delta_texts)},
        )
    elif kind == "mcp":
        item = {**_mcp_call(""), "id": f"mcp_{index}"}
        delta_type, final = "response.mcp_call_arguments.delta", {"arguments": "".join(delta_texts)}
    elif kind == "image":
        item = {"type": "image_generation_call", "id": f"ig_{index}", "status": "generating"}
        delta_type, final = "response.image_generation_call.partial_image", {"result": "AA"}
    else:
        item = {**_web("in_progress"), "id": f"ws_{index}"}
        delta_type, final = "response.web_search_call.searching", {"status": "completed"}
    events = [added(index, item)]
    for text in delta_texts:
        event = {"type": delta_type, "output_index": index, "delta": text}
        if kind == "image":
            event = {
                "type": delta_type,
                "output_index": index,
                "partial_image_b64": text,
                "partial_image_index": 0,
            }
        events.append(event)
    if finish == "done":
        events.append(done(index, {**item, **final}))
    elif finish == "twice":
        events += [done(index, {**item, **final}), done(index, {**item, **final})]
    elif finish == "other":
        events.append(done(index, {**_web(), "id": f"ws_{index}"}))
    return events


_calls = st.lists(
    st.tuples(
        st.sampled_from(["function", "code", "mcp", "image", "web"]),
        st.lists(st.text(max_size=4), max_size=3),
        st.sampled_from(["done", "twice", "other", "none"]),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(calls=_calls, order=st.randoms(use_true_random=False), size=st.sampled_from(CHUNK_SIZES))
def test_invariants_3_4_and_9_hold_for_mixed_function_and_builtin_calls(
    calls: list[tuple[str, list[str], str]], order: Any, size: int
) -> None:
    streams = [_stream_call(i, *call) for i, call in enumerate(calls)]
    events: list[Event] = []
    while any(streams):  # interleave the calls, each in its own order
        stream = order.choice([s for s in streams if s])
        events.append(stream.pop(0))
    if order.random() < 0.7:
        events.append(end())
    items = chain(events, size)  # check_items holds invariants 1-4, 7 and 9

    started = {s.id for s in of(items, ToolRequestStart)}
    assert {c.id for c in tool_calls(items)} == started
    finals = [r.id for r in of(items, ToolResult) if not r.preliminary]
    assert len(finals) == len(set(finals))
    complete = {c.id: c for c in tool_calls(items)}
    assert all(complete[r].provider_executed for r in finals)
