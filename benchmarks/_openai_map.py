"""openai-python's typed stream events mapped to the library's items, as a user would write it."""

import uuid
from collections.abc import AsyncIterable, Callable
from typing import Any

from operators import (
    Done,
    EncryptedReasoning,
    Item,
    Metadata,
    Reasoning,
    Start,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    Usage,
)


async def map_events(events: AsyncIterable[Any], emit: Callable[[Item], object]) -> None:
    """Map openai-python's ``ResponseStreamEvent`` objects to items, calling ``emit`` per item."""
    emit(Start(message_id=str(uuid.uuid4())))
    calls: dict[int, tuple[str, str, str, list[str]]] = {}
    text_at: set[int] = set()
    reasoning_at: set[int] = set()
    metadata_sent = False
    async for event in events:
        kind = event.type
        if kind == "response.output_text.delta":
            if event.delta:
                emit(Text(chunk=event.delta))
                text_at.add(event.output_index)
        elif kind == "response.function_call_arguments.delta":
            call = calls.get(event.output_index)
            if call is not None and event.delta:
                call[3].append(event.delta)
                emit(ToolRequestArg(id=call[0], chunk=event.delta))
        elif kind == "response.reasoning_summary_text.delta":
            if event.delta:
                emit(Reasoning(chunk=event.delta))
                reasoning_at.add(event.output_index)
        elif kind == "response.function_call_arguments.done":
            _complete(calls, event.output_index, event.arguments, emit)
        elif kind == "response.output_item.added":
            item = event.item
            if item.type == "function_call" and event.output_index not in calls:
                item_id = item.id or item.call_id
                calls[event.output_index] = (item_id, item.call_id, item.name, [])
                emit(ToolRequestStart(id=item_id, name=item.name))
        elif kind == "response.output_item.done":
            item = event.item
            if item.type == "reasoning":
                if event.output_index not in reasoning_at:
                    summary = "\n\n".join(p.text for p in item.summary if p.text)
                    if summary:
                        emit(Reasoning(chunk=summary))
                if item.encrypted_content is not None:
                    emit(EncryptedReasoning(id=item.id, content=item.encrypted_content))
            elif item.type == "message":
                if event.output_index not in text_at:
                    text = "".join(p.text for p in item.content if p.type == "output_text")
                    if text:
                        emit(Text(chunk=text))
            elif item.type == "function_call":
                _complete(calls, event.output_index, item.arguments, emit)
        elif kind in ("response.created", "response.in_progress"):
            if not metadata_sent and event.response.id:
                metadata_sent = True
                emit(Metadata(response_id=event.response.id, model=event.response.model))
        elif kind == "response.completed":
            response = event.response
            usage = response.usage
            if usage is not None:
                inp, out = usage.input_tokens_details, usage.output_tokens_details
                tokens = TokenUsage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=(inp.cached_tokens or None) if inp else None,
                    cache_creation_tokens=None,
                    reasoning_tokens=(out.reasoning_tokens or None) if out else None,
                )
                emit(Usage(tokens=tokens))
            for index in list(calls):
                item_id, call_id, name, parts = calls.pop(index)
                whole = ToolCall(item_id, call_id, name, "".join(parts), "function", True)
                emit(ToolRequestComplete(tool_call=whole))
            status = response.status
            emit(Done(stop_reason="end_turn" if status in (None, "completed") else None))
            return


def _complete(
    calls: dict[int, tuple[str, str, str, list[str]]],
    index: int,
    arguments: str,
    emit: Callable[[Item], object],
) -> None:
    call = calls.pop(index, None)
    if call is None:
        return
    item_id, call_id, name, parts = call
    streamed = "".join(parts)
    if len(arguments) > len(streamed) and arguments.startswith(streamed):
        rest = arguments[len(streamed) :]
        emit(ToolRequestArg(id=item_id, chunk=rest))
        streamed = arguments
    whole = ToolCall(item_id, call_id, name, streamed, "function", False)
    emit(ToolRequestComplete(tool_call=whole))


__all__ = ["map_events"]
