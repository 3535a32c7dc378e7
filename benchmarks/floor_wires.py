"""Honest floors for the other two wires: plain loops handing the library's items to a callback.

Like ``floor_fast`` for Responses: chunks in, one ``on_item`` call per item,
msgspec decoders made once, no caps, no errors as data, only the happy path
of the streams ``yardsticks/gen_chat.py`` and ``yardsticks/gen_anthropic.py``
write. The fastest loops we can write for the job, so the chain should not
beat them.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator

import msgspec
from rxresponses.operators import (
    Done,
    EncryptedReasoning,
    Item,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    Start,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    Usage,
)


def _frames(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The ``data:`` payload of each event, on blank lines (``\\n\\n``) only."""
    pending: list[bytes] = []
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
            start = frame.find(b"data: ")
            if start >= 0:
                yield frame[start + 6 :]


def _named_frames(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """The SSE ``event:`` name and the ``data:`` payload of each event, on blank lines only."""
    pending: list[bytes] = []
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
            newline = frame.find(b"\n")
            if frame[:7] == b"event: " and frame[newline : newline + 7] == b"\ndata: ":
                yield frame[7:newline], frame[newline + 7 :]


# ---- Chat Completions ---------------------------------------------------------


class _Function(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolDelta(msgspec.Struct):
    index: int = 0
    id: str | None = None
    function: _Function | None = None


class _ChatDelta(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[_ToolDelta] | None = None


class _Choice(msgspec.Struct):
    index: int = 0
    delta: _ChatDelta | None = None
    finish_reason: str | None = None


class _PromptDetails(msgspec.Struct):
    cached_tokens: int | None = None


class _CompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class _ChatUsage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None


class _Chunk(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    choices: list[_Choice] | None = None
    usage: _ChatUsage | None = None


_chunk = msgspec.json.Decoder(_Chunk).decode
_FINISH = {"stop": "end_turn", "length": "length", "tool_calls": "tool_use"}


def run_chat_floor(chunks: Iterable[bytes], on_item: Callable[[Item], None]) -> None:
    """The items of a generated Chat Completions stream, to ``on_item``."""
    emit = on_item
    emit(Start(str(uuid.uuid4())))
    meta = False
    kind: str | None = None
    calls: dict[int, tuple[str, str, list[str]]] = {}
    order: list[int] = []
    usage: _ChatUsage | None = None
    stop: str | None = None
    finished = False
    told = 0
    for data in _frames(chunks):
        if data == b"[DONE]":
            break
        chunk = _chunk(data)
        if not meta and chunk.id:
            meta = True
            emit(Metadata(chunk.id, chunk.model or None))
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                if delta.reasoning_content:
                    if kind != "reasoning":
                        kind = "reasoning"
                        emit(PartStart("reasoning", 0))
                    emit(Reasoning(delta.reasoning_content))
                if delta.content:
                    if kind != "text":
                        kind = "text"
                        emit(PartStart("text", 0))
                    emit(Text(delta.content))
                if delta.refusal:
                    if kind != "refusal":
                        kind = "refusal"
                        emit(PartStart("refusal", 0))
                    emit(Refusal(delta.refusal))
                for entry in delta.tool_calls or ():
                    function = entry.function
                    call = calls.get(entry.index)
                    if call is None:
                        if function is None or not function.name:
                            continue
                        call_id = entry.id or f"call_{entry.index}"
                        call = calls[entry.index] = (call_id, function.name, [])
                        order.append(entry.index)
                        emit(ToolRequestStart(call_id, function.name))
                    if function is not None and function.arguments:
                        call[2].append(function.arguments)
                        emit(ToolRequestArg(call[0], function.arguments))
            if choice.finish_reason:
                stop = _FINISH.get(choice.finish_reason)
                finished = True
                for index in order:
                    call_id, name, parts = calls.pop(index)
                    arguments = "".join(parts)
                    if not arguments:
                        arguments = "{}"
                        emit(ToolRequestArg(call_id, arguments))
                    told += 1
                    whole = ToolCall(call_id, call_id, name, arguments, "function", False)
                    emit(ToolRequestComplete(whole))
                order.clear()
    if usage is not None:
        cached = usage.prompt_tokens_details
        thought = usage.completion_tokens_details
        tokens = TokenUsage(
            usage.prompt_tokens,
            usage.completion_tokens,
            (cached.cached_tokens or None) if cached else None,
            None,
            (thought.reasoning_tokens or None) if thought else None,
        )
        emit(Usage(tokens))
    if not finished:
        stop = "end_turn"
    if stop == "end_turn" and told:
        stop = "tool_use"
    emit(Done(stop))  # type: ignore[arg-type]


# ---- Anthropic Messages -------------------------------------------------------


class _Block(msgspec.Struct):
    type: str
    text: str | None = None
    thinking: str | None = None
    signature: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = msgspec.Raw(b"")


class _AnthropicUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _AnthropicUsage | None = None


class _StopDelta(msgspec.Struct):
    stop_reason: str | None = None


class _Event(msgspec.Struct):
    type: str
    index: int = 0
    message: _Message | None = None
    content_block: _Block | None = None
    delta: msgspec.Raw = msgspec.Raw(b"")
    usage: _AnthropicUsage | None = None


class _TextDelta(msgspec.Struct, tag="text_delta"):
    text: str


class _ThinkingDelta(msgspec.Struct, tag="thinking_delta"):
    thinking: str


class _InputDelta(msgspec.Struct, tag="input_json_delta"):
    partial_json: str


class _SignatureDelta(msgspec.Struct, tag="signature_delta"):
    signature: str


class _DeltaEvent(msgspec.Struct):
    index: int
    delta: _TextDelta | _ThinkingDelta | _InputDelta | _SignatureDelta


_event = msgspec.json.Decoder(_Event).decode
_delta_event = msgspec.json.Decoder(_DeltaEvent).decode
_stop_delta = msgspec.json.Decoder(_StopDelta).decode
_STOPS = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "length",
    "refusal": "content_filter",
    "pause_turn": "pause",
}


def run_anthropic_floor(chunks: Iterable[bytes], on_item: Callable[[Item], None]) -> None:
    """The items of a generated Anthropic Messages stream, to ``on_item``."""
    emit = on_item
    emit(Start(str(uuid.uuid4())))
    blocks: dict[int, _Block] = {}
    started: set[int] = set()  # blocks whose part began
    inputs: dict[int, list[str]] = {}
    signatures: dict[int, str] = {}
    usage = _AnthropicUsage()
    stop: str | None = None
    told = 0
    for name, data in _named_frames(chunks):
        if name == b"content_block_delta":  # the most of them: one decode, by the delta's type
            piece = _delta_event(data)
            index = piece.index
            delta = piece.delta
            if type(delta) is _TextDelta:
                if delta.text:
                    if index not in started:
                        started.add(index)
                        emit(PartStart("text", index))
                    emit(Text(delta.text))
            elif type(delta) is _InputDelta:
                if delta.partial_json:
                    inputs[index].append(delta.partial_json)
                    emit(ToolRequestArg(blocks[index].id or "", delta.partial_json))
            elif type(delta) is _ThinkingDelta:
                if delta.thinking:
                    if index not in started:
                        started.add(index)
                        emit(PartStart("reasoning", index))
                    emit(Reasoning(delta.thinking))
            elif type(delta) is _SignatureDelta and delta.signature:
                signatures[index] = delta.signature
            continue
        event = _event(data)
        kind = event.type
        if kind == "content_block_start" and event.content_block is not None:
            block = blocks[event.index] = event.content_block
            if block.type == "tool_use":
                inputs[event.index] = []
                emit(ToolRequestStart(block.id or "", block.name or ""))
            elif block.type == "thinking" and block.signature:
                signatures[event.index] = block.signature
        elif kind == "content_block_stop":
            index = event.index
            block = blocks[index]
            if block.type == "thinking" and signatures.get(index):
                emit(EncryptedReasoning(f"thinking:{index}", signatures[index]))
            elif block.type == "tool_use":
                arguments = "".join(inputs.pop(index))
                if not arguments:
                    raw = bytes(block.input)
                    arguments = "{}" if raw in (b"", b"{}", b"null") else raw.decode()
                    emit(ToolRequestArg(block.id or "", arguments))
                told += 1
                call = ToolCall(
                    block.id or "", block.id, block.name or "", arguments, "function", False
                )
                emit(ToolRequestComplete(call))
        elif kind == "message_start" and event.message is not None:
            message = event.message
            if message.usage is not None:
                usage = message.usage
            emit(Metadata(message.id or "", message.model))
        elif kind == "message_delta":
            if event.delta:
                reason = _stop_delta(event.delta).stop_reason
                if reason is not None:
                    stop = _STOPS.get(reason)
            if event.usage is not None:
                merged = msgspec.structs.asdict(usage)
                merged.update(
                    {k: v for k, v in msgspec.structs.asdict(event.usage).items() if v is not None}
                )
                usage = _AnthropicUsage(**merged)
        elif kind == "message_stop":
            emit(
                Usage(
                    TokenUsage(
                        usage.input_tokens or 0,
                        usage.output_tokens or 0,
                        usage.cache_read_input_tokens or None,
                        usage.cache_creation_input_tokens or None,
                        None,
                    )
                )
            )
            break
    if stop == "end_turn" and told:
        stop = "tool_use"
    emit(Done(stop))  # type: ignore[arg-type]


__all__ = ["run_anthropic_floor", "run_chat_floor"]
