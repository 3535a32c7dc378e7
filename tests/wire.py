"""Building wire streams for tests: events as dicts → SSE bytes → items."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rxresponses import from_bytes, responses
from rxresponses.items import Item, ToolCall, ToolRequestComplete

Event = Mapping[str, Any]


def sse(events: Iterable[Event], *, named: bool = True) -> bytes:
    """``event: <type>`` (if ``named``) and ``data: <json>`` per event, then a blank line."""
    out = []
    for event in events:
        head = f"event: {event['type']}\n" if named and "type" in event else ""
        out.append(f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n")
    return "".join(out).encode()


def run(data: bytes, chunk_size: int = 65536, **options: Any) -> list[Item]:
    """Every item the whole chain gives for ``data``, read ``chunk_size`` bytes at a time."""
    items: list[Item] = []
    responses(from_bytes(data, chunk_size), **options).subscribe(items.append)
    return items


def run_events(events: Iterable[Event], **options: Any) -> list[Item]:
    return run(sse(events), **options)


def types(items: Iterable[Item]) -> list[str]:
    return [type(item).__struct_config__.tag for item in items]  # type: ignore[misc]


def tool_calls(items: Iterable[Item]) -> list[ToolCall]:
    return [item.tool_call for item in items if isinstance(item, ToolRequestComplete)]


# ---- event builders in the real shapes ------------------------------------


def created(response_id: str = "resp_1", model: str | None = "gpt-5") -> Event:
    return {
        "type": "response.created",
        "response": {"id": response_id, "model": model, "status": "in_progress"},
    }


def text_delta(delta: str, output_index: int | None = 0) -> Event:
    event: dict[str, Any] = {"type": "response.output_text.delta", "delta": delta}
    if output_index is not None:
        event["output_index"] = output_index
    return event


def reasoning_delta(delta: str, output_index: int = 0) -> Event:
    return {
        "type": "response.reasoning_summary_text.delta",
        "delta": delta,
        "output_index": output_index,
    }


def usage(
    input_tokens: int,
    output_tokens: int,
    cached: int | None = 0,
    reasoning: int | None = 0,
    cache_write: int | None = None,
) -> dict[str, Any]:
    details: dict[str, Any] = {"cached_tokens": cached}
    if cache_write is not None:
        details["cache_write_tokens"] = cache_write
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": details,
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def completed(
    status: str | None = "completed",
    usage: Mapping[str, Any] | None = None,
    **response: Any,
) -> Event:
    """A ``response.completed``; its response has only the fields given (no ``id`` unless set)."""
    body: dict[str, Any] = dict(response)
    if status is not None:
        body["status"] = status
    if usage is not None:
        body["usage"] = usage
    return {"type": "response.completed", "response": body}


def function_call_added(
    output_index: int = 0,
    item_id: str | None = "fc_1",
    call_id: str | None = "call_1",
    name: str = "read_file",
    arguments: str = "",
) -> Event:
    item: dict[str, Any] = {"type": "function_call", "name": name, "arguments": arguments}
    if item_id is not None:
        item["id"] = item_id
    if call_id is not None:
        item["call_id"] = call_id
    return {"type": "response.output_item.added", "output_index": output_index, "item": item}


def function_call_done_item(output_index: int = 0, **fields: Any) -> Event:
    added = function_call_added(output_index, **fields)
    return {**added, "type": "response.output_item.done"}


def args_delta(delta: str, output_index: int = 0) -> Event:
    return {
        "type": "response.function_call_arguments.delta",
        "output_index": output_index,
        "delta": delta,
    }


def args_done(arguments: str, output_index: int = 0) -> Event:
    return {
        "type": "response.function_call_arguments.done",
        "output_index": output_index,
        "arguments": arguments,
    }


def reasoning_item_done(
    encrypted_content: str | None, summary: Iterable[str] = (), output_index: int | None = 0
) -> Event:
    event: dict[str, Any] = {
        "type": "response.output_item.done",
        "item": {
            "type": "reasoning",
            "id": "r_1",
            "summary": [{"type": "summary_text", "text": text} for text in summary],
            "encrypted_content": encrypted_content,
        },
    }
    if output_index is not None:
        event["output_index"] = output_index
    return event


def message_item_done(*texts: str, output_index: int | None = 0) -> Event:
    event: dict[str, Any] = {
        "type": "response.output_item.done",
        "item": {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []} for text in texts],
        },
    }
    if output_index is not None:
        event["output_index"] = output_index
    return event
