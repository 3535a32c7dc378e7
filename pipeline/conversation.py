"""The next turn: a ``Response`` plus the caller's tool outputs as Responses API ``input`` items.

An agent loop sends the model's own output back with the results of the
calls it asked for. Without server-side storage (``store: false``, the
default of ``build_request``) the history must travel in full: the
assistant's messages (with their ``phase``), the reasoning items with their
``encrypted_content``, compactions, each call the caller ran and its output::

    input = [{"role": "user", "content": "What is the capital of France?"}]
    while True:
        response = await final_response(stream_responses(build_request(model, input, tools=tools)))
        if not response.calls_to_run and not response.approval_requests:
            break
        outputs = {call_key(call): run(call) for call in response.calls_to_run}
        input += next_input(response, outputs)

With ``previous_response_id`` (``store: true``) the server has the history:
pass ``history=False`` to get only the outputs and approval answers.

The shapes are the Responses API's input items (``function_call`` +
``function_call_output``, ``custom_tool_call`` + ``custom_tool_call_output``,
``local_shell_call`` + ``local_shell_call_output``, ``shell_call`` +
``shell_call_output``, ``apply_patch_call`` + ``apply_patch_call_output``,
``computer_call`` + ``computer_call_output``, ``mcp_approval_request`` +
``mcp_approval_response``, ``reasoning``, ``compaction``, assistant
``message``). Calls the server ran (web search, code interpreter, …) are not
sent back: their results are in the messages that follow them.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from .items import ApprovalRequest, Compaction, EncryptedReasoning, ToolCall, ToolRequestComplete
from .response import Message, Response

#: What a caller gives as a call's output: text, a list of content parts or
#: output chunks, or a mapping (see ``next_input`` for each kind).
ToolOutput: TypeAlias = str | Sequence[Mapping[str, Any]] | Mapping[str, Any]

JSON: TypeAlias = dict[str, Any]


def call_key(call: ToolCall) -> str:
    """The key of ``call`` in ``next_input``'s ``outputs``: its ``call_id``, else its ``id``."""
    return call.call_id or call.id


def _text(output: ToolOutput) -> str:
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


def _function(call: ToolCall, output: ToolOutput) -> list[JSON]:
    item: JSON = {
        "type": "function_call",
        "id": call.id,
        "call_id": call_key(call),
        "name": call.name,
        "arguments": call.arguments,
    }
    if call.namespace is not None:
        item["namespace"] = call.namespace
    result: str | list[Mapping[str, Any]] = (
        list(output)
        if isinstance(output, Sequence) and not isinstance(output, str)
        else _text(output)
    )
    return [item, {"type": "function_call_output", "call_id": call_key(call), "output": result}]


def _custom(call: ToolCall, output: ToolOutput) -> list[JSON]:
    item: JSON = {
        "type": "custom_tool_call",
        "id": call.id,
        "call_id": call_key(call),
        "name": call.name,
        "input": call.arguments,
    }
    if call.namespace is not None:
        item["namespace"] = call.namespace
    result: str | list[Mapping[str, Any]] = (
        list(output)
        if isinstance(output, Sequence) and not isinstance(output, str)
        else _text(output)
    )
    return [item, {"type": "custom_tool_call_output", "call_id": call_key(call), "output": result}]


def _arguments(call: ToolCall) -> JSON:
    try:
        arguments = json.loads(call.arguments)
    except ValueError as exc:
        raise ValueError(f"the arguments of call {call.id} ({call.name}) are not JSON") from exc
    if not isinstance(arguments, dict):
        raise ValueError(f"the arguments of call {call.id} ({call.name}) are not a JSON object")
    return arguments


def _local_shell(call: ToolCall, output: ToolOutput) -> list[JSON]:
    action = _arguments(call).get("action")
    return [
        {
            "type": "local_shell_call",
            "id": call.id,
            "call_id": call_key(call),
            "action": action,
            "status": "completed",
        },
        # The API names the call by ``id`` here, and means the model's call id.
        {"type": "local_shell_call_output", "id": call_key(call), "output": _text(output)},
    ]


def _shell(call: ToolCall, output: ToolOutput) -> list[JSON]:
    action = _arguments(call).get("action")
    if isinstance(output, str):
        chunks: list[Mapping[str, Any]] = [
            {"stdout": output, "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
        ]
    elif isinstance(output, Mapping):
        chunks = [output]
    else:
        chunks = list(output)
    return [
        {
            "type": "shell_call",
            "id": call.id,
            "call_id": call_key(call),
            "action": action,
            "status": "completed",
        },
        {"type": "shell_call_output", "call_id": call_key(call), "output": chunks},
    ]


def _apply_patch(call: ToolCall, output: ToolOutput) -> list[JSON]:
    operation = _arguments(call).get("operation")
    result: JSON = {"type": "apply_patch_call_output", "call_id": call_key(call)}
    if isinstance(output, str):
        result.update(status="completed", output=output)
    elif isinstance(output, Mapping):
        result.update(status="completed")
        result.update(output)
        result.update(type="apply_patch_call_output", call_id=call_key(call))
    else:
        raise ValueError(f"the output of apply_patch call {call.id} is text or a mapping")
    return [
        {
            "type": "apply_patch_call",
            "id": call.id,
            "call_id": call_key(call),
            "operation": operation,
            "status": "completed",
        },
        result,
    ]


def _computer(call: ToolCall, output: ToolOutput) -> list[JSON]:
    arguments = _arguments(call)
    item: JSON = {"type": "computer_call", "id": call.id, "call_id": call_key(call)}
    for name in ("action", "actions"):
        if arguments.get(name) is not None:
            item[name] = arguments[name]
    item["pending_safety_checks"] = arguments.get("pending_safety_checks") or []
    item["status"] = "completed"
    result: JSON = {"type": "computer_call_output", "call_id": call_key(call)}
    if isinstance(output, str):  # a screenshot's URL (``data:image/png;base64,…``)
        result["output"] = {"type": "computer_screenshot", "image_url": output}
    elif isinstance(output, Mapping) and "output" in output:  # with acknowledged_safety_checks
        result.update(output)
        result.update(type="computer_call_output", call_id=call_key(call))
    elif isinstance(output, Mapping):  # the screenshot object itself
        result["output"] = {"type": "computer_screenshot", **output}
    else:
        raise ValueError(f"the output of computer call {call.id} is a URL or a mapping")
    return [item, result]


_BUILTIN = {
    "local_shell": _local_shell,
    "shell": _shell,
    "apply_patch": _apply_patch,
    "computer": _computer,
}


def _call_items(call: ToolCall, output: ToolOutput) -> list[JSON]:
    if call.kind == "function":
        return _function(call, output)
    if call.kind == "custom":
        return _custom(call, output)
    build = _BUILTIN.get(call.name)
    if build is None:
        raise ValueError(f"no input item for the output of a {call.name} call ({call.id})")
    return build(call, output)


def _approval_request(call: ToolCall) -> JSON:
    arguments = _arguments(call)
    return {
        "type": "mcp_approval_request",
        "id": call.id,
        "server_label": arguments.get("server") or call.namespace or "",
        "name": arguments.get("tool") or "",
        "arguments": json.dumps(arguments.get("arguments", {}), ensure_ascii=False),
    }


def _message(message: Message) -> JSON:
    item: JSON = {
        "type": "message",
        "role": "assistant",
        "content": message.text or message.refusal,
    }
    if message.phase is not None:
        item["phase"] = message.phase
    return item


def next_input(
    response: Response,
    outputs: Mapping[str, ToolOutput] | None = None,
    *,
    approvals: Mapping[str, bool] | None = None,
    history: bool = True,
) -> list[JSON]:
    """The input items that continue ``response``, in its output order.

    ``outputs`` maps each call to run (``response.calls_to_run``, keyed by
    ``call_key(call)``) to its output: for functions and custom tools text (a
    mapping is sent as JSON text) or a list of content parts; for
    ``local_shell`` text; for ``shell`` text (stdout of a command that exited
    with 0) or the API's list of output chunks; for ``apply_patch`` text (the
    log of an applied patch) or ``{"status": "failed", "output": ...}``; for
    ``computer`` a screenshot URL or the ``computer_call_output`` fields.
    ``approvals`` maps each ``approval_request`` id to yes or no.

    A call to run without an output, or an approval request without an
    answer, is a ``ValueError``: the API would refuse the request. A partial
    call is sent only if ``outputs`` has it.
    """
    outputs = outputs or {}
    approvals = approvals or {}
    missing = [call_key(call) for call in response.calls_to_run if call_key(call) not in outputs]
    missing += [request.id for request in response.approval_requests if request.id not in approvals]
    if missing:
        raise ValueError(f"no output or answer given for: {', '.join(missing)}")
    calls = {call.id: call for call in response.tool_calls}
    summaries: dict[str, list[JSON]] = {}
    for part in response.reasoning:
        if part.id is not None and part.kind == "reasoning_summary" and part.text:
            summaries.setdefault(part.id, []).append({"type": "summary_text", "text": part.text})
    items: list[JSON] = []
    for entry in response.output:
        match entry:
            case ToolRequestComplete(tool_call=call) if (
                not call.provider_executed and call_key(call) in outputs
            ):
                pairs = _call_items(call, outputs[call_key(call)])
                items.extend(pairs if history else pairs[1:])
            case ApprovalRequest(id=request_id, tool_id=tool_id):
                asked = calls.get(tool_id)
                if history and asked is not None:
                    items.append(_approval_request(asked))
                items.append(
                    {
                        "type": "mcp_approval_response",
                        "approval_request_id": request_id,
                        "approve": bool(approvals[request_id]),
                    }
                )
            case _ if not history:
                pass
            case Message() if entry.text or entry.refusal:
                items.append(_message(entry))
            case EncryptedReasoning(id=reasoning_id, content=content):
                items.append(
                    {
                        "type": "reasoning",
                        "id": reasoning_id,
                        "summary": summaries.get(reasoning_id, []),
                        "encrypted_content": content,
                    }
                )
            case Compaction(id=compaction_id, content=content):
                items.append(
                    {"type": "compaction", "id": compaction_id, "encrypted_content": content}
                )
    return items


__all__ = ["ToolOutput", "call_key", "next_input"]
