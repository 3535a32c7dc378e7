"""openai-python's typed stream events mapped to the library's items, as a user would write it."""

import uuid
from collections.abc import AsyncIterable, Callable
from typing import Any

from rxresponses.operators import (
    EncryptedReasoning,
    Item,
    Metadata,
    Reasoning,
    Start,
    Text,
    ToolRequestArg,
    ToolRequestStart,
)

from .floor import complete_call, finish_response


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
            complete_call(calls, event.output_index, event.arguments, emit)
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
                complete_call(calls, event.output_index, item.arguments, emit)
        elif kind in ("response.created", "response.in_progress"):
            if not metadata_sent and event.response.id:
                metadata_sent = True
                emit(Metadata(response_id=event.response.id, model=event.response.model))
        elif kind == "response.completed":
            finish_response(event.response.usage, event.response.status, calls, emit)
            return


__all__ = ["map_events"]
