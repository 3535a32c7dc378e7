"""The in-process floor: the yardstick's plain loop, handing each item to a callback.

``yardsticks/floor_replay.py`` is the whole job as one process (read, split,
decode, build items, write JSON Lines). This is the same loop without the
file and the JSON: chunks in, the library's own item structs out, one
``on_item`` call each — what ``responses(from_bytes(...)).subscribe(on_item)``
does, with none of its duties (no caps, no errors as data, no chunking
guarantees beyond blank lines, only the event types of the generated stream).
It is the honest floor for per-item delivery: the fastest loop we can write
for that job, so the library should not beat it.
"""

import uuid
from collections.abc import Callable, Iterable

import msgspec
from rxresponses.operators import (
    Done,
    EncryptedReasoning,
    Item,
    Metadata,
    PartStart,
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


class _Delta(msgspec.Struct):
    delta: str
    output_index: int = 0
    content_index: int = 0


class _SummaryDelta(msgspec.Struct):
    delta: str
    output_index: int = 0
    summary_index: int = 0


class _Item(msgspec.Struct):
    type: str
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    encrypted_content: str | None = None
    phase: str | None = None


class _ItemEvent(msgspec.Struct):
    output_index: int
    item: _Item


class _ArgsDone(msgspec.Struct):
    output_index: int


class _InDetails(msgspec.Struct):
    cached_tokens: int = 0


class _OutDetails(msgspec.Struct):
    reasoning_tokens: int = 0


class _Usage(msgspec.Struct):
    input_tokens: int
    output_tokens: int
    input_tokens_details: _InDetails | None = None
    output_tokens_details: _OutDetails | None = None


class _Response(msgspec.Struct):
    status: str | None = None
    usage: _Usage | None = None


class _Completed(msgspec.Struct):
    response: _Response
    sequence_number: int | None = None


class _MetaResponse(msgspec.Struct):
    id: str | None = None
    model: str | None = None


class _Created(msgspec.Struct):
    response: _MetaResponse


_delta = msgspec.json.Decoder(_Delta).decode
_summary = msgspec.json.Decoder(_SummaryDelta).decode
_item = msgspec.json.Decoder(_ItemEvent).decode
_args = msgspec.json.Decoder(_ArgsDone).decode
_completed = msgspec.json.Decoder(_Completed).decode
_created = msgspec.json.Decoder(_Created).decode


def run_fast_floor(chunks: Iterable[bytes], on_item: Callable[[Item], None]) -> None:
    """The items of a generated Responses stream, to ``on_item``, as fast as plain Python goes."""
    emit = on_item
    announced: dict[int, tuple[str | None, str | None]] = {}
    tools: dict[int, tuple[str, str | None, str, list[str]]] = {}
    part: tuple[str, int, int] | None = None
    completed_calls = 0
    meta = False
    stop: str | None = None
    last_seq: int | None = None
    pending: list[bytes] = []
    emit(Start(str(uuid.uuid4())))
    for chunk in chunks:
        if b"\n\n" not in chunk and not (
            pending and pending[-1][-1:] == b"\n" and chunk[:1] == b"\n"
        ):
            pending.append(chunk)
            continue
        pending.append(chunk)
        frames = b"".join(pending).split(b"\n\n")
        tail = frames.pop()
        pending = [tail] if tail else []
        for frame in frames:
            if not frame.startswith(b"event: "):
                continue
            newline = frame.find(b"\n")
            name = frame[7:newline]
            payload = frame[newline + 7 :]
            if name == b"response.output_text.delta":
                e = _delta(payload)
                if e.delta:
                    key = ("text", e.output_index, e.content_index)
                    if key != part:
                        part = key
                        seen = announced.get(e.output_index, (None, None))
                        emit(PartStart("text", e.output_index, seen[0], seen[1]))
                    emit(Text(e.delta))
            elif name == b"response.reasoning_summary_text.delta":
                s = _summary(payload)
                if s.delta:
                    key = ("reasoning_summary", s.output_index, s.summary_index)
                    if key != part:
                        part = key
                        seen = announced.get(s.output_index, (None, None))
                        emit(PartStart("reasoning_summary", s.output_index, seen[0], None))
                    emit(Reasoning(s.delta))
            elif name == b"response.function_call_arguments.delta":
                e = _delta(payload)
                call = tools.get(e.output_index)
                if call is not None and e.delta:
                    call[3].append(e.delta)
                    emit(ToolRequestArg(call[0], e.delta))
            elif name == b"response.output_item.added":
                added = _item(payload)
                item = added.item
                phase = item.phase if item.type == "message" else None
                announced[added.output_index] = (item.id, phase)
                if item.type == "function_call" and item.name is not None:
                    call_id = item.id or item.call_id or ""
                    tools[added.output_index] = (call_id, item.call_id, item.name, [])
                    emit(ToolRequestStart(call_id, item.name))
            elif name == b"response.function_call_arguments.done":
                done = tools.pop(_args(payload).output_index, None)
                if done is not None:
                    completed_calls += 1
                    whole = ToolCall(done[0], done[1], done[2], "".join(done[3]), "function", False)
                    emit(ToolRequestComplete(whole))
            elif name == b"response.output_item.done":
                item = _item(payload).item
                if item.type == "reasoning" and item.id and item.encrypted_content:
                    emit(EncryptedReasoning(item.id, item.encrypted_content))
            elif name == b"response.created" and not meta:
                response = _created(payload).response
                if response.id is not None:
                    meta = True
                    emit(Metadata(response.id, response.model))
            elif name == b"response.completed":
                end = _completed(payload)
                last_seq = end.sequence_number
                usage = end.response.usage
                if usage is not None:
                    cached = usage.input_tokens_details
                    reasoning = usage.output_tokens_details
                    emit(
                        Usage(
                            TokenUsage(
                                usage.input_tokens,
                                usage.output_tokens,
                                (cached.cached_tokens or None) if cached else None,
                                None,
                                (reasoning.reasoning_tokens or None) if reasoning else None,
                            )
                        )
                    )
                stop = "end_turn" if end.response.status in ("completed", None) else "length"
                break
        if last_seq is not None or stop is not None:
            break  # the response ended: nothing after it is read
    for open_id, open_call_id, open_name, parts in tools.values():
        whole = ToolCall(open_id, open_call_id, open_name, "".join(parts), "function", True)
        emit(ToolRequestComplete(whole))
    if stop == "end_turn" and completed_calls:
        stop = "tool_use"
    emit(Done(stop, last_seq))  # type: ignore[arg-type]


__all__ = ["run_fast_floor"]
