"""openai-python's typed stream events mapped to the library's items, as a user would write it."""

import uuid
from collections.abc import AsyncIterable, Callable
from typing import Any

from rxresponses.operators import (
    EncryptedReasoning,
    Item,
    Metadata,
    PartStart,
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
    ids: dict[int, str | None] = {}
    phases: dict[int, str | None] = {}
    part: tuple[str, int, int] | None = None
    owed = [False]
    sequence: int | None = None
    metadata_sent = False
    async for event in events:
        kind = event.type
        number = getattr(event, "sequence_number", None)
        if type(number) is int and (sequence is None or number > sequence):
            sequence = number
        if kind == "response.output_text.delta":
            if event.delta:
                if part != ("text", event.output_index, event.content_index):
                    part = ("text", event.output_index, event.content_index)
                    index = event.output_index
                    item_id = ids.get(index) or event.item_id
                    emit(PartStart("text", index, item_id, phases.get(index)))
                emit(Text(chunk=event.delta))
                text_at.add(event.output_index)
        elif kind == "response.function_call_arguments.delta":
            call = calls.get(event.output_index)
            if call is not None and event.delta:
                call[3].append(event.delta)
                emit(ToolRequestArg(id=call[0], chunk=event.delta))
        elif kind == "response.reasoning_summary_text.delta":
            if event.delta:
                if part != ("reasoning_summary", event.output_index, event.summary_index):
                    part = ("reasoning_summary", event.output_index, event.summary_index)
                    item_id = ids.get(event.output_index) or event.item_id
                    emit(PartStart("reasoning_summary", event.output_index, item_id))
                emit(Reasoning(chunk=event.delta))
                reasoning_at.add(event.output_index)
        elif kind == "response.function_call_arguments.done":
            complete_call(calls, event.output_index, event.arguments, emit, owed)
        elif kind == "response.output_item.added":
            item = event.item
            ids[event.output_index] = getattr(item, "id", None)
            phases[event.output_index] = getattr(item, "phase", None)
            if item.type == "function_call" and event.output_index not in calls:
                item_id = item.id or item.call_id
                calls[event.output_index] = (item_id, item.call_id, item.name, [])
                emit(ToolRequestStart(id=item_id, name=item.name))
        elif kind == "response.output_item.done":
            item = event.item
            index = event.output_index
            if item.type == "reasoning":
                if index not in reasoning_at:
                    for piece in item.summary:
                        if piece.text:
                            emit(PartStart("reasoning_summary", index, item.id))
                            emit(Reasoning(chunk=piece.text))
                            part = None
                if item.encrypted_content is not None:
                    emit(EncryptedReasoning(id=item.id, content=item.encrypted_content))
            elif item.type == "message":
                if index not in text_at:
                    for piece in item.content:
                        if piece.type == "output_text" and piece.text:
                            phase = getattr(item, "phase", None)
                            emit(PartStart("text", index, item.id, phase))
                            emit(Text(chunk=piece.text))
                            part = None
            elif item.type == "function_call":
                complete_call(calls, index, item.arguments, emit, owed)
        elif kind in ("response.created", "response.in_progress"):
            if not metadata_sent and event.response.id:
                metadata_sent = True
                emit(Metadata(response_id=event.response.id, model=event.response.model))
        elif kind == "response.completed":
            response = event.response
            finish_response(
                response.usage, response.status, calls, emit, owed=owed[0], sequence=sequence
            )
            return


__all__ = ["map_events"]
