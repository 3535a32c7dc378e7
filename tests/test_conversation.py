"""The next turn's input items, built from a ``Response`` and the caller's tool outputs."""

from typing import Any

import pytest
from rxresponses import (
    ApprovalRequest,
    Compaction,
    Done,
    EncryptedReasoning,
    PartStart,
    Start,
    Text,
    ToolCall,
    ToolOutput,
    ToolRequestComplete,
    ToolResult,
    call_key,
    next_input,
    response_of,
)
from rxresponses import Reasoning as ReasoningChunk

START = Start(message_id="00000000-0000-4000-8000-000000000000")


def call(
    name: str, arguments: str, kind: Any = "builtin", *, server: bool = False, **extra: Any
) -> ToolCall:
    return ToolCall(
        id=f"{name}_id",
        call_id=f"{name}_call",
        name=name,
        arguments=arguments,
        kind=kind,
        partial=False,
        provider_executed=server,
        **extra,
    )


def test_a_function_call_goes_back_after_its_reasoning_and_commentary_with_its_output() -> None:
    lookup = call("get_capital", '{"country":"France"}', "function", namespace="geo")
    response = response_of(
        [
            START,
            PartStart(kind="reasoning_summary", index=0, id="rs_1"),
            ReasoningChunk(chunk="Look it up."),
            EncryptedReasoning(id="rs_1", content="gAAA"),
            PartStart(kind="text", index=1, id="msg_1", phase="commentary"),
            Text(chunk="Checking."),
            ToolRequestComplete(tool_call=lookup),
            Done(stop_reason="tool_use"),
        ]
    )
    assert next_input(response, {"get_capital_call": "Paris"}) == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Look it up."}],
            "encrypted_content": "gAAA",
        },
        {"type": "message", "role": "assistant", "content": "Checking.", "phase": "commentary"},
        {
            "type": "function_call",
            "id": "get_capital_id",
            "call_id": "get_capital_call",
            "name": "get_capital",
            "arguments": '{"country":"France"}',
            "namespace": "geo",
        },
        {"type": "function_call_output", "call_id": "get_capital_call", "output": "Paris"},
    ]


def test_a_mapping_output_is_sent_as_json_text_and_a_list_as_content_parts() -> None:
    lookup = call("f", "{}", "function")
    response = response_of([START, ToolRequestComplete(tool_call=lookup), Done("tool_use")])
    [_, output] = next_input(response, {"f_call": {"capital": "Paris"}})
    assert output["output"] == '{"capital": "Paris"}'
    parts = [{"type": "input_text", "text": "Paris"}]
    [_, output] = next_input(response, {"f_call": parts})
    assert output["output"] == parts


def test_each_caller_run_kind_goes_back_in_its_own_input_shape() -> None:
    calls = [
        call("apply_diff", "*** Begin Patch", "custom"),
        call("local_shell", '{"action":{"type":"exec","command":["ls"],"env":{}}}'),
        call("shell", '{"action":{"commands":["ls"],"timeout_ms":null}}'),
        call(
            "apply_patch",
            '{"operation":{"type":"update_file","path":"a.py","diff":"-a\\n+b"}}',
        ),
        call(
            "computer",
            '{"action":{"type":"screenshot"},"actions":null,"pending_safety_checks":[]}',
        ),
    ]
    response = response_of(
        [START, *(ToolRequestComplete(tool_call=c) for c in calls), Done("tool_use")]
    )
    outputs: dict[str, ToolOutput] = {
        "apply_diff_call": "applied",
        "local_shell_call": "a.py\n",
        "shell_call": "a.py\n",
        "apply_patch_call": {"status": "failed", "output": "no such file"},
        "computer_call": "data:image/png;base64,iVBO",
    }
    assert next_input(response, outputs) == [
        {
            "type": "custom_tool_call",
            "id": "apply_diff_id",
            "call_id": "apply_diff_call",
            "name": "apply_diff",
            "input": "*** Begin Patch",
        },
        {"type": "custom_tool_call_output", "call_id": "apply_diff_call", "output": "applied"},
        {
            "type": "local_shell_call",
            "id": "local_shell_id",
            "call_id": "local_shell_call",
            "action": {"type": "exec", "command": ["ls"], "env": {}},
            "status": "completed",
        },
        {"type": "local_shell_call_output", "id": "local_shell_call", "output": "a.py\n"},
        {
            "type": "shell_call",
            "id": "shell_id",
            "call_id": "shell_call",
            "action": {"commands": ["ls"], "timeout_ms": None},
            "status": "completed",
        },
        {
            "type": "shell_call_output",
            "call_id": "shell_call",
            "output": [
                {"stdout": "a.py\n", "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
            ],
        },
        {
            "type": "apply_patch_call",
            "id": "apply_patch_id",
            "call_id": "apply_patch_call",
            "operation": {"type": "update_file", "path": "a.py", "diff": "-a\n+b"},
            "status": "completed",
        },
        {
            "type": "apply_patch_call_output",
            "call_id": "apply_patch_call",
            "status": "failed",
            "output": "no such file",
        },
        {
            "type": "computer_call",
            "id": "computer_id",
            "call_id": "computer_call",
            "action": {"type": "screenshot"},
            "pending_safety_checks": [],
            "status": "completed",
        },
        {
            "type": "computer_call_output",
            "call_id": "computer_call",
            "output": {"type": "computer_screenshot", "image_url": "data:image/png;base64,iVBO"},
        },
    ]


def test_an_approval_goes_back_as_the_request_and_its_answer() -> None:
    mcp = call(
        "mcp",
        '{"server":"deepwiki","tool":"ask_question","arguments":{"q":"rx"}}',
        server=True,
        namespace="deepwiki",
    )
    response = response_of(
        [
            START,
            ToolRequestComplete(tool_call=mcp),
            ApprovalRequest(id="mcp_id", tool_id="mcp_id"),
            Done("tool_use"),
        ]
    )
    assert next_input(response, approvals={"mcp_id": False}) == [
        {
            "type": "mcp_approval_request",
            "id": "mcp_id",
            "server_label": "deepwiki",
            "name": "ask_question",
            "arguments": '{"q": "rx"}',
        },
        {"type": "mcp_approval_response", "approval_request_id": "mcp_id", "approve": False},
    ]


def test_server_run_calls_are_not_sent_back_but_compactions_are() -> None:
    search = call("web_search", '{"action":{"type":"search"}}', server=True)
    response = response_of(
        [
            START,
            ToolRequestComplete(tool_call=search),
            ToolResult(id="web_search_id", name="web_search", output='{"status":"completed"}'),
            Compaction(id="cmp_1", content="enc"),
            Text(chunk="Sunny."),
            Done("end_turn"),
        ]
    )
    assert next_input(response) == [
        {"type": "compaction", "id": "cmp_1", "encrypted_content": "enc"},
        {"type": "message", "role": "assistant", "content": "Sunny."},
    ]


def test_without_history_only_outputs_and_answers_are_sent() -> None:
    lookup = call("f", "{}", "function")
    response = response_of(
        [
            START,
            EncryptedReasoning(id="rs_1", content="gAAA"),
            Text(chunk="Checking."),
            ToolRequestComplete(tool_call=lookup),
            Done("tool_use"),
        ]
    )
    assert next_input(response, {"f_call": "ok"}, history=False) == [
        {"type": "function_call_output", "call_id": "f_call", "output": "ok"}
    ]


def test_a_call_or_approval_left_unanswered_is_refused() -> None:
    lookup = call("f", "{}", "function")
    response = response_of(
        [
            START,
            ToolRequestComplete(tool_call=lookup),
            ApprovalRequest(id="mcpr_1", tool_id="mcpr_1"),
            Done("tool_use"),
        ]
    )
    with pytest.raises(ValueError, match="f_call") as raised:
        next_input(response)
    assert "mcpr_1" in str(raised.value)


def test_a_partial_call_is_sent_only_when_the_caller_answered_it() -> None:
    cut = ToolCall(
        id="fc_1", call_id=None, name="f", arguments='{"a', kind="function", partial=True
    )
    response = response_of([START, ToolRequestComplete(tool_call=cut), Done(None)])
    assert call_key(cut) == "fc_1"  # no call_id: the item id
    assert next_input(response) == []
    assert [item["type"] for item in next_input(response, {"fc_1": "skipped"})] == [
        "function_call",
        "function_call_output",
    ]
