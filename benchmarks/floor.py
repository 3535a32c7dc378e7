"""The floor: a hand-written loop that turns the benchmark stream into the library's items.

No ReactiveX, no framing rules beyond what the benchmark stream uses
(``event:`` + ``data:`` lines, ``\\n\\n`` between events), routing by the SSE
``event:`` name to one msgspec decoder per event type, and the mapping
written inline. It produces exactly the items ``rxresponses.responses`` gives
for that stream, so the ratio between the two is the price of the library's
generality (any line ending, JSON ``type`` routing, caps, errors as data, the
operator chain).

This lives in ``benchmarks/`` only: the library must honour the JSON ``type``.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec
from rxresponses.items import StopReason
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


class _Resp(msgspec.Struct):
    id: str
    model: str | None = None


class _Lifecycle(msgspec.Struct):
    response: _Resp
    sequence_number: int = 0


class _Delta(msgspec.Struct):
    delta: str
    output_index: int
    sequence_number: int = 0
    content_index: int | None = None
    summary_index: int | None = None
    item_id: str | None = None


class _ArgsDone(msgspec.Struct):
    output_index: int
    arguments: str
    sequence_number: int = 0


class _Call(msgspec.Struct, tag="function_call", tag_field="type"):
    id: str
    call_id: str
    name: str


class _Other(msgspec.Struct, tag="message", tag_field="type"):
    id: str | None = None
    phase: str | None = None


class _ReasoningAdded(msgspec.Struct, tag="reasoning", tag_field="type"):
    id: str | None = None


class _Added(msgspec.Struct):
    output_index: int
    item: _Call | _Other | _ReasoningAdded
    sequence_number: int = 0


class _Summary(msgspec.Struct):
    text: msgspec.Raw  # whole items' texts are decoded only if no deltas gave them


class _ReasoningItem(msgspec.Struct, tag="reasoning", tag_field="type"):
    id: str
    encrypted_content: str | None = None
    summary: list[_Summary] = []


class _Part(msgspec.Struct):
    type: str
    text: msgspec.Raw = msgspec.Raw(b'""')


class _MessageItem(msgspec.Struct, tag="message", tag_field="type"):
    id: str | None = None
    phase: str | None = None
    content: list[_Part] = []


class _CallDone(msgspec.Struct, tag="function_call", tag_field="type"):
    arguments: str


class _ItemDone(msgspec.Struct):
    output_index: int
    item: _ReasoningItem | _MessageItem | _CallDone
    sequence_number: int = 0


class _InDetails(msgspec.Struct):
    cached_tokens: int = 0


class _OutDetails(msgspec.Struct):
    reasoning_tokens: int = 0


class _Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0
    input_tokens_details: _InDetails | None = None
    output_tokens_details: _OutDetails | None = None


class _Final(msgspec.Struct):
    id: str
    status: str | None = None
    usage: _Usage | None = None


class _Completed(msgspec.Struct):
    response: _Final
    sequence_number: int = 0


_LIFECYCLE = msgspec.json.Decoder(_Lifecycle)
_DELTA = msgspec.json.Decoder(_Delta)
_ARGS_DONE = msgspec.json.Decoder(_ArgsDone)
_ADDED = msgspec.json.Decoder(_Added)
_ITEM_DONE = msgspec.json.Decoder(_ItemDone)
_COMPLETED = msgspec.json.Decoder(_Completed)
_STRING = msgspec.json.Decoder(str)

# Event names to a small integer, so the loop is one dict lookup and an if-chain.
_TEXT, _REASONING, _ARGS, _ARGS_END, _ADD, _DONE, _LIFE, _END = range(8)
_ROUTE = {
    b"response.output_text.delta": _TEXT,
    b"response.reasoning_summary_text.delta": _REASONING,
    b"response.function_call_arguments.delta": _ARGS,
    b"response.function_call_arguments.done": _ARGS_END,
    b"response.output_item.added": _ADD,
    b"response.output_item.done": _DONE,
    b"response.created": _LIFE,
    b"response.in_progress": _LIFE,
    b"response.completed": _END,
}


def run_floor(chunks: Iterable[bytes], emit: Callable[[Item], object]) -> None:
    """Read ``chunks`` of the benchmark stream and call ``emit`` once per item."""
    reader = FloorReader(emit)
    for chunk in chunks:
        if reader.feed(chunk):
            return
    raise ValueError("the benchmark stream ended without response.completed")


class FloorReader:
    """The floor's loop, fed a chunk at a time; ``feed`` is true once the response completed.

    By default a chunk's events are split at once and then mapped: the
    throughput floor. With ``as_found=True`` each event is mapped as soon as
    its blank line is found (one-byte searches), and held bytes are joined
    with the first event only, so the first item of a large chunk does not
    wait for the rest of it: the latency floor of ``benchmarks.http``.
    """

    __slots__ = (
        "_as_found",
        "_calls",
        "_emit",
        "_ids",
        "_metadata_sent",
        "_owed",
        "_part",
        "_pending",
        "_phases",
        "_reasoning_at",
        "_seq",
        "_text_at",
        "ended",
    )

    def __init__(self, emit: Callable[[Item], object], *, as_found: bool = False) -> None:
        self._emit = emit
        self._as_found = as_found
        self._calls: dict[int, tuple[str, str, str, list[str]]] = {}
        self._text_at: set[int] = set()
        self._reasoning_at: set[int] = set()
        self._metadata_sent = False
        self._ids: dict[int, str | None] = {}
        self._phases: dict[int, str | None] = {}
        self._part: tuple[str, int, int | None] | None = None
        self._seq = -1
        self._owed = [False]  # a call the caller must run completed
        self._pending: list[bytes] = []
        self.ended = False
        emit(Start(message_id=str(uuid.uuid4())))

    def feed(self, chunk: bytes) -> bool:
        if self.ended:
            return True
        if self._as_found:
            self.ended = self._map(self._each_event(chunk))
            return self.ended
        pending = self._pending
        if pending:
            pending.append(chunk)
            if b"\n\n" not in chunk and not (chunk[:1] == b"\n" and pending[-2][-1:] == b"\n"):
                return False
            chunk = b"".join(pending)
            pending.clear()
        frames = chunk.split(b"\n\n")
        rest = frames.pop()
        if rest:
            pending.append(rest)
        self.ended = self._map(frames)
        return self.ended

    def _each_event(self, chunk: bytes) -> Iterator[bytes]:
        """The events ``chunk`` ends, one by one as their blank lines are found."""
        pending = self._pending
        start = 0
        if pending:
            if pending[-1][-1:] == b"\n" and chunk[:1] == b"\n":
                event = b"".join(pending)[:-1]
                start = 1
            else:
                end = _blank_line(chunk, 0)
                if end < 0:
                    pending.append(chunk)
                    return
                event = b"".join([*pending, chunk[:end]])
                start = end + 2
            pending.clear()
            yield event
        while (end := _blank_line(chunk, start)) >= 0:
            yield chunk[start:end]
            start = end + 2
        if start < len(chunk):
            pending.append(chunk[start:])

    def _map(self, frames: Iterable[bytes]) -> bool:
        """Each event's items, written inline; true at ``response.completed``."""
        emit = self._emit
        route = _ROUTE.get
        calls = self._calls
        text_at = self._text_at
        reasoning_at = self._reasoning_at
        ids = self._ids
        seq = self._seq
        for frame in frames:
            # b"event: NAME\ndata: JSON"
            newline = frame.find(b"\n", 7)
            kind = route(frame[7:newline])
            if kind is None:
                continue
            data = frame[newline + 7 :]
            if kind == _TEXT:
                d = _DELTA.decode(data)
                if d.sequence_number > seq:
                    seq = d.sequence_number
                if d.delta:
                    part = ("text", d.output_index, d.content_index)
                    if part != self._part:
                        self._part = part
                        index = d.output_index
                        item_id = ids.get(index) or d.item_id
                        emit(PartStart("text", index, item_id, self._phases.get(index)))
                    emit(Text(chunk=d.delta))
                    text_at.add(d.output_index)
            elif kind == _ARGS:
                d = _DELTA.decode(data)
                if d.sequence_number > seq:
                    seq = d.sequence_number
                call = calls.get(d.output_index)
                if call is not None and d.delta:
                    call[3].append(d.delta)
                    emit(ToolRequestArg(id=call[0], chunk=d.delta))
            elif kind == _REASONING:
                d = _DELTA.decode(data)
                if d.sequence_number > seq:
                    seq = d.sequence_number
                if d.delta:
                    part = ("reasoning_summary", d.output_index, d.summary_index)
                    if part != self._part:
                        self._part = part
                        index = d.output_index
                        item_id = ids.get(index) or d.item_id
                        emit(PartStart("reasoning_summary", index, item_id))
                    emit(Reasoning(chunk=d.delta))
                    reasoning_at.add(d.output_index)
            elif kind == _ARGS_END:
                a = _ARGS_DONE.decode(data)
                if a.sequence_number > seq:
                    seq = a.sequence_number
                complete_call(calls, a.output_index, a.arguments, emit, self._owed)
            elif kind == _ADD:
                added = _ADDED.decode(data)
                if added.sequence_number > seq:
                    seq = added.sequence_number
                item = added.item
                ids[added.output_index] = item.id
                self._phases[added.output_index] = item.phase if type(item) is _Other else None
                if type(item) is _Call and added.output_index not in calls:
                    calls[added.output_index] = (item.id, item.call_id, item.name, [])
                    emit(ToolRequestStart(id=item.id, name=item.name))
            elif kind == _DONE:
                done = _ITEM_DONE.decode(data)
                if done.sequence_number > seq:
                    seq = done.sequence_number
                whole = done.item
                index = done.output_index
                if type(whole) is _ReasoningItem:
                    if index not in reasoning_at:
                        for summary in whole.summary:
                            text = _STRING.decode(summary.text)
                            if text:
                                emit(PartStart("reasoning_summary", index, whole.id))
                                emit(Reasoning(chunk=text))
                                self._part = None
                    if whole.encrypted_content is not None:
                        emit(EncryptedReasoning(id=whole.id, content=whole.encrypted_content))
                elif type(whole) is _MessageItem:
                    if index not in text_at:
                        for p in whole.content:
                            text = _STRING.decode(p.text) if p.type == "output_text" else ""
                            if text:
                                emit(PartStart("text", index, whole.id, whole.phase))
                                emit(Text(chunk=text))
                                self._part = None
                elif type(whole) is _CallDone:
                    complete_call(calls, index, whole.arguments, emit, self._owed)
            elif kind == _LIFE:
                if not self._metadata_sent:
                    life = _LIFECYCLE.decode(data)
                    if life.sequence_number > seq:
                        seq = life.sequence_number
                    self._metadata_sent = True
                    emit(Metadata(response_id=life.response.id, model=life.response.model))
                else:  # read only for its sequence number
                    number = _LIFECYCLE.decode(data).sequence_number
                    if number > seq:
                        seq = number
            else:  # response.completed
                completed = _COMPLETED.decode(data)
                final = completed.response
                seq = max(seq, completed.sequence_number)
                owed = self._owed[0]
                sequence = seq if seq >= 0 else None
                finish_response(
                    final.usage, final.status, calls, emit, owed=owed, sequence=sequence
                )
                return True
        self._seq = seq
        return False


def _blank_line(data: bytes, start: int) -> int:
    """Where the first ``\\n\\n`` from ``start`` begins, or -1 (memchr-fast one-byte searches)."""
    at = data.find(b"\n", start)
    while at >= 0:
        if data[at + 1 : at + 2] == b"\n":
            return at
        at = data.find(b"\n", at + 2)
    return -1


def complete_call(
    calls: dict[int, tuple[str, str, str, list[str]]],
    index: int,
    arguments: str,
    emit: Callable[[Item], object],
    owed: list[bool],
) -> None:
    """A call's ``.done``: the part of ``arguments`` never streamed, then the whole call.

    ``owed[0]`` is set: the caller must run the call.
    """
    call = calls.pop(index, None)
    if call is None:
        return
    item_id, call_id, name, parts = call
    streamed = "".join(parts)
    if len(arguments) > len(streamed) and arguments.startswith(streamed):
        emit(ToolRequestArg(id=item_id, chunk=arguments[len(streamed) :]))
        streamed = arguments
    tool_call = ToolCall(item_id, call_id, name, streamed, "function", False)
    owed[0] = True
    emit(ToolRequestComplete(tool_call=tool_call))


def finish_response(
    usage: Any,
    status: str | None,
    calls: dict[int, tuple[str, str, str, list[str]]],
    emit: Callable[[Item], object],
    *,
    owed: bool,
    sequence: int | None,
) -> None:
    """``response.completed``: its usage, the calls still open (partial), ``done``.

    ``owed`` when a call the caller must run completed (``tool_use``);
    ``sequence`` is the largest sequence number read.

    ``usage`` is any object with the Responses API's usage fields (this
    module's struct, or openai-python's model).
    """
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
    stop: StopReason | None = "end_turn" if status in (None, "completed") else None
    if stop and owed:
        stop = "tool_use"
    emit(Done(stop_reason=stop, last_sequence_number=sequence))


__all__ = ["FloorReader", "complete_call", "finish_response", "run_floor"]
