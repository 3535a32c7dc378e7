"""Anthropic Messages: ``message_start`` … ``message_stop`` events → items (SPEC §3.3).

Blocks are keyed by their ``index``; each ``content_block_start`` begins a new
part. Tool blocks go on as tool events for ``collect_tools``; result blocks
become ``tool_result`` items. ``citations_delta`` come before the text they
cite, so they are held until their block stops. ``message_stop`` is the
terminal event.

Text, thinking and tool input deltas, most of a stream, are decoded first
as a union that requires their piece, so they need no check in Python;
anything else is read again with every check.
"""

from collections.abc import Callable
from typing import Any, TypeAlias

import msgspec
from reactivex import Observable

from ._errors import decode_error
from ._events import FunctionArgsDelta, ToolItem
from ._items import (
    Citation,
    Compaction,
    EncryptedReasoning,
    Error,
    Metadata,
    PartKind,
    PartStart,
    Reasoning,
    Refusal,
    StopReason,
    Text,
    TokenUsage,
    ToolResult,
    Usage,
)
from ._signals import CloseCall, Terminal
from ._sse import Frame
from ._stage import batch_stage
from ._wirebase import (
    DECODE_FAILURES,
    OVERSIZED,
    TYPED,
    PassesMarker,
    ending_stage,
    event_error,
    is_done,
    marking,
    plain,
    raw_text,
    stream_error,
)


class AnthropicCitation(msgspec.Struct, gc=False):
    type: str | None = None
    cited_text: str | None = None
    url: str | None = None
    title: str | None = None
    document_title: str | None = None
    file_id: str | None = None


class Caller(msgspec.Struct, gc=False):
    type: str | None = None
    tool_id: str | None = None


#: A raw field the block does not have (JSON ``null`` is read as ``b"null"``).
_ABSENT = msgspec.Raw(b"")


class Block(msgspec.Struct, gc=False):
    """A content block of any type: the fields of the types we read, all optional."""

    type: str
    text: str | None = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = _ABSENT
    server_name: str | None = None
    caller: Caller | None = None
    tool_use_id: str | None = None
    content: msgspec.Raw = _ABSENT
    is_error: bool | None = None
    citations: list[AnthropicCitation] | None = None


class AnthropicUsage(msgspec.Struct, gc=False):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None


class Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    content: list[Block] | None = None
    usage: AnthropicUsage | None = None
    stop_reason: Any = None  # remembered only when a string


class _DeltaFields(msgspec.Struct, gc=False, kw_only=True):
    """The fields we read of a block delta, of any type."""

    text: str | None = None
    thinking: str | None = None
    signature: str | None = None
    partial_json: str | None = None
    citation: AnthropicCitation | None = None
    content: Any = None  # compaction text, when a string


class BlockDeltaBody(_DeltaFields, kw_only=True):
    """A block delta of any type."""

    type: str


class _Piece(_DeltaFields, tag_field="type", kw_only=True):
    """A text, thinking or tool input delta with its piece: most events of a stream.

    The same fields as ``BlockDeltaBody``, the needed one required. What
    decodes as one would pass every check as a ``BlockDeltaBody``; what does
    not is read again as that.
    """


class TextPiece(_Piece, tag="text_delta", kw_only=True):
    text: str


class ThinkingPiece(_Piece, tag="thinking_delta", kw_only=True):
    thinking: str


class InputPiece(_Piece, tag="input_json_delta", kw_only=True):
    partial_json: str


class StopDetails(msgspec.Struct, gc=False):
    explanation: Any = None  # remembered only when a non-empty string


class MessageDeltaBody(msgspec.Struct, gc=False):
    stop_reason: str | None = None
    stop_details: StopDetails | None = None


class ErrorBody(msgspec.Struct, gc=False):
    type: str | None = None
    message: str | None = None
    code: Any = None


class AnthropicEvent(msgspec.Struct, tag_field="type", gc=False):
    pass


class MessageStart(AnthropicEvent, tag="message_start"):
    message: Message


class BlockStart(AnthropicEvent, tag="content_block_start"):
    index: int
    content_block: Block


class BlockDelta(AnthropicEvent, tag="content_block_delta"):
    index: int
    delta: BlockDeltaBody


class PieceDelta(AnthropicEvent, tag="content_block_delta"):
    """A ``content_block_delta`` of text, thinking or tool input that holds its piece."""

    index: int
    delta: TextPiece | ThinkingPiece | InputPiece


class BlockStop(AnthropicEvent, tag="content_block_stop"):
    index: int


class MessageDelta(AnthropicEvent, tag="message_delta"):
    delta: MessageDeltaBody | None = None
    usage: AnthropicUsage | None = None


class MessageStop(AnthropicEvent, tag="message_stop"):
    pass


class Ping(AnthropicEvent, tag="ping"):
    pass


class AnthropicError(AnthropicEvent, tag="error"):
    error: ErrorBody | None = None
    code: Any = None
    message: str | None = None


_EVENT_TYPES = (
    MessageStart,
    BlockStart,
    BlockDelta,
    BlockStop,
    MessageDelta,
    MessageStop,
    Ping,
    AnthropicError,
)
_AnyEvent: TypeAlias = (
    MessageStart
    | BlockStart
    | BlockDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | AnthropicError
)
AnthropicEventType: TypeAlias = PieceDelta | _AnyEvent
#: The event types of this wire (also what tells it apart, §3.4).
EVENT_NAMES = frozenset(cls.__struct_config__.tag for cls in _EVENT_TYPES)
#: Any event of this wire, each field optional where a row can do without it.
_DECODER = msgspec.json.Decoder(_AnyEvent)
_FastEvent: TypeAlias = (
    PieceDelta
    | MessageStart
    | BlockStart
    | BlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | AnthropicError
)
#: The same, with only the deltas that hold a piece: tried first.
_FAST = msgspec.json.Decoder(_FastEvent)
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
#: Delta type → the field it needs.
_DELTA_FIELD = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
    "input_json_delta": "partial_json",
    "citations_delta": "citation",
}


def _block_fault(block: Block) -> str | None:
    """Why a block breaks its row, or ``None``."""
    if block.type in _TOOL_BLOCKS:
        if block.id is None or block.name is None:
            return f"a {block.type} block needs an id and a name"
        raw_text(block.input)  # its input is read as text: it must be valid UTF-8
    elif block.type == "redacted_thinking" and block.data is None:
        return "a redacted_thinking block needs its data"
    elif block.tool_use_id is not None:
        raw_text(block.content)
    elif block.type == "compaction" and block.content:
        msgspec.json.decode(block.content)  # its content is read: it must be valid UTF-8
    return None


def _citation_fault(citation: AnthropicCitation) -> str | None:
    if citation.url is None and citation.file_id is None and citation.cited_text is None:
        return "a citation needs a url, a file_id or a cited_text"
    return None


def _delta_fault(delta: BlockDeltaBody) -> str | None:
    """Why a block delta breaks its row, or ``None``."""
    field = _DELTA_FIELD.get(delta.type)
    if field is not None and getattr(delta, field) is None:
        return f"a {delta.type} needs its {field}"
    if delta.citation is not None and delta.type == "citations_delta":
        return _citation_fault(delta.citation)
    return None


def _fault(event: _AnyEvent) -> str | None:
    """Why an event that parsed breaks its row (a field the row uses is missing), or ``None``."""
    if type(event) is BlockDelta:
        return _delta_fault(event.delta)
    if type(event) is BlockStart:
        return _block_fault(event.content_block)
    if type(event) is MessageStart:
        for block in event.message.content or ():
            if (why := _block_fault(block)) is not None:
                return why
    return None


def _read(name: bytes | None, data: bytes) -> _AnyEvent | Error | None:
    """One event of any type with every check: the event, its ``decode_error``, or
    ``None`` (an event of another type, or ``[DONE]``)."""
    try:
        event = _DECODER.decode(data)
        why = _fault(event)
    except msgspec.ValidationError as exc:
        try:
            known = TYPED.decode(data).type in EVENT_NAMES
        except Exception:  # not an object with a string type
            if is_done(data):
                return None
            return event_error(name, data, "not a JSON object with a string type")
        return event_error(name, data, str(exc)) if known else None  # another type: nothing
    except DECODE_FAILURES as exc:
        if is_done(data):
            return None
        return event_error(name, data, f"{type(exc).__name__}: {exc}")
    return event if why is None else event_error(name, data, why)


class AnthropicDecoder:
    """Frames → events, with no I/O; nothing after ``message_stop`` is read."""

    __slots__ = ("ended",)

    def __init__(self) -> None:
        self.ended = False

    def decode(self, frames: list[Frame]) -> list[AnthropicEventType | Error]:
        out: list[AnthropicEventType | Error] = []
        if self.ended:
            return out
        fast = _FAST.decode
        append = out.append
        for name, data, oversized in frames:
            if oversized:
                append(event_error(name, data, OVERSIZED))
                continue
            event: AnthropicEventType | Error | None
            try:
                event = fast(data)
            except DECODE_FAILURES:
                event = None
            if type(event) is PieceDelta:
                append(event)  # it holds its piece: nothing else to check
                continue
            if event is None or type(event) in _CHECKED:
                # Another delta, a block or message start, a broken event: all checks.
                event = _read(name, data)
                if event is None:
                    continue
            append(event)
            if type(event) is MessageStop:
                self.ended = True
                break
        return out


_CHECKED = frozenset({BlockStart, MessageStart})


def anthropic_decode_() -> Callable[
    [Observable[list[Frame]]], Observable[list[AnthropicEventType | Error]]
]:
    return batch_stage(lambda: marking(AnthropicDecoder().decode))


_STOP: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "pause_turn": "pause",
}
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


class _Block:
    """What is kept of one open block until it stops."""

    __slots__ = ("citations", "compaction", "input", "kind", "order", "signature", "streamed")

    def __init__(self, kind: str, order: int) -> None:
        self.kind = kind  # "text", "thinking", "tool", "compaction" or "other"
        self.order = order  # when it started: held citations are given in this order
        self.citations: list[Citation] = []
        self.signature: str | None = None
        self.compaction: list[str] = []
        self.input: str | None = None  # a tool block's input as given at its start
        self.streamed = False  # a tool block got a non-empty input piece


def _citation(citation: AnthropicCitation) -> Citation:
    return Citation(
        url=citation.url,
        title=citation.title if citation.title is not None else citation.document_title,
        file_id=citation.file_id,
        quote=citation.cited_text,
    )


_OBJECT_TYPE = msgspec.json.Decoder(dict[str, Any])


def _start_input(given: str | None) -> str:
    """A tool block's input as given at its start, as text; ``"{}"`` when empty or absent."""
    if given is None or given.strip() in ("{}", "null", ""):
        return "{}"
    try:
        value = _OBJECT_TYPE.decode(given)
    except Exception:  # not an object: the raw text stands
        return given
    return given if value else "{}"


def _is_error_content(content: str) -> bool:
    if not content.lstrip().startswith("{"):
        return False
    try:
        kind = _OBJECT_TYPE.decode(content).get("type")
    except Exception:
        return False
    return isinstance(kind, str) and kind.endswith("_error")


class AnthropicDispatcher:
    """Events → items and tool events, with no I/O; one per subscription."""

    __slots__ = (
        "_blocks",
        "_client_calls",
        "_explanation",
        "_message_id",
        "_metadata_sent",
        "_names",
        "_open_calls",
        "_order",
        "_part_index",
        "_part_kind",
        "_resulted",
        "_started",
        "_stop",
        "_usage",
        "ended",
    )

    def __init__(self) -> None:
        self.ended = False
        self._started = False  # a message_start came
        self._metadata_sent = False
        self._message_id: str | None = None
        self._blocks: dict[int, _Block] = {}
        self._order = 0
        # The current part: its kind (``None`` when there is none) and block index.
        # A block that starts at that index ends it.
        self._part_kind: PartKind | None = None
        self._part_index = 0
        self._stop: str | None = None
        self._explanation: str | None = None
        self._usage: dict[str, int] | None = None
        self._names: dict[str, str] = {}  # server-run call id → its name
        self._open_calls: dict[str, int] = {}  # tool call id → its block index, until it stops
        self._client_calls: set[str] = set()  # ids of calls the caller runs
        self._resulted: set[str] = set()  # call ids that got their result

    def step(self, events: list[AnthropicEventType | Error]) -> list[Any]:
        out: list[Any] = []
        if self.ended:
            return out
        append = out.append
        blocks = self._blocks
        for event in events:
            if type(event) is PieceDelta:
                # The text, reasoning and tool input pieces are most events: handled inline.
                delta = event.delta
                index = event.index
                if type(delta) is TextPiece:
                    if text := delta.text:
                        if self._part_index != index or self._part_kind != "text":
                            self._part_kind = "text"
                            self._part_index = index
                            append(PartStart("text", index))
                        append(Text(text))
                elif type(delta) is InputPiece:
                    block = blocks.get(index)
                    if block is not None and block.kind == "tool" and (piece := delta.partial_json):
                        block.streamed = True
                        append(FunctionArgsDelta(output_index=index, delta=piece))
                elif thought := delta.thinking:
                    if self._part_index != index or self._part_kind != "reasoning":
                        self._part_kind = "reasoning"
                        self._part_index = index
                        append(PartStart("reasoning", index))
                    append(Reasoning(thought))
            elif type(event) is BlockDelta:
                self._delta(event.index, event.delta)
            elif type(event) is BlockStart:
                self._start(event.index, event.content_block, out)
            elif type(event) is BlockStop:
                self._stop_block(event.index, out)
            elif type(event) is MessageStart:
                self._message(event.message, out)
            elif type(event) is MessageDelta:
                self._message_delta(event)
            elif type(event) is MessageStop:
                self._give_held(out)
                if self._explanation is not None:
                    self._part_kind = None
                    out.append(PartStart(kind="refusal", index=None))
                    out.append(Refusal(self._explanation))
                if (usage := self._usage_item()) is not None:
                    out.append(usage)
                out.append(Terminal(_STOP.get(self._stop) if self._stop else None))
                self.ended = True
                break
            elif type(event) is AnthropicError:
                error = event.error
                code = event.code
                if code is None and error is not None:
                    code = error.code if error.code is not None else error.type
                message = event.message or (error.message if error else None)
                out.append(stream_error(code, message, error.type if error else None))
            elif type(event) is not Ping:
                out.append(event)  # an error item
        return out

    def end(self, failed: bool) -> list[Any]:
        """When the stream ends (input or source): citations of blocks that never stopped."""
        out: list[Any] = []
        if not self.ended:
            self._give_held(out)
        return out

    # Messages

    def _message(self, message: Message, out: list[Any]) -> None:
        if self._started:
            if message.id is None or message.id == self._message_id:
                return  # the same message again: ignored with its content
            # Another message (a gateway spliced a retry in): start over.
            for index, block in sorted(self._blocks.items(), key=lambda kv: kv[1].order):
                if block.kind == "tool":
                    out.append(CloseCall(index, None, partial=True))
            self._open_calls.clear()
            self._give_held(out)
            self._blocks.clear()
        self._started = True
        self._message_id = message.id
        if not self._metadata_sent and message.id is not None:
            self._metadata_sent = True
            out.append(Metadata(response_id=message.id, model=message.model or None))
        self._usage = None
        self._merge_usage(message.usage)
        if isinstance(message.stop_reason, str):
            self._stop = message.stop_reason
        for index, given in enumerate(message.content or ()):
            self._start(index, given, out)
            self._stop_block(index, out)

    def _message_delta(self, event: MessageDelta) -> None:
        delta = event.delta
        if delta is not None:
            if delta.stop_reason is not None:
                self._stop = delta.stop_reason
            if delta.stop_details is not None and plain(delta.stop_details.explanation):
                self._explanation = delta.stop_details.explanation
        self._merge_usage(event.usage)

    def _merge_usage(self, usage: AnthropicUsage | None) -> None:
        if usage is None:
            return
        for field in _USAGE_FIELDS:
            value = getattr(usage, field)
            if value is not None:
                if self._usage is None:
                    self._usage = {}
                self._usage[field] = value

    def _usage_item(self) -> Usage | None:
        usage = self._usage
        if not usage:
            return None
        return Usage(
            tokens=TokenUsage(
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cache_read_tokens=usage.get("cache_read_input_tokens") or None,
                cache_creation_tokens=usage.get("cache_creation_input_tokens") or None,
            )
        )

    # Blocks

    def _chunk(self, kind: PartKind, index: int, out: list[Any]) -> None:
        """A ``part_start`` if this chunk does not belong to the current part."""
        if self._part_kind != kind or self._part_index != index:
            self._part_kind = kind
            self._part_index = index
            out.append(PartStart(kind=kind, index=index))

    def _start(self, index: int, block: Block, out: list[Any]) -> None:
        old = self._blocks.get(index)
        if old is not None:
            if old.kind == "tool":
                return  # a second start for a call in progress
            self._give(old, out)
        if self._part_index == index:
            self._part_kind = None  # a new block: its chunks are a new part
        self._order += 1
        kind = block.type
        if kind == "text":
            state = self._blocks[index] = _Block("text", self._order)
            if block.text:
                self._chunk("text", index, out)
                out.append(Text(block.text))
            for citation in block.citations or ():
                why = _citation_fault(citation)
                if why is None:
                    state.citations.append(_citation(citation))
                else:
                    out.append(decode_error(f"cannot read a citation of block {index}: {why}"))
        elif kind == "thinking":
            state = self._blocks[index] = _Block("thinking", self._order)
            if block.thinking:
                self._chunk("reasoning", index, out)
                out.append(Reasoning(block.thinking))
            state.signature = block.signature or None
        elif kind == "redacted_thinking":
            self._blocks[index] = _Block("other", self._order)
            out.append(EncryptedReasoning(f"redacted_thinking:{index}", block.data or ""))
        elif kind in _TOOL_BLOCKS:
            self._tool(index, block, out)
        elif kind == "compaction":
            state = self._blocks[index] = _Block("compaction", self._order)
            if block.content:
                content = msgspec.json.decode(block.content)
                if isinstance(content, str):
                    state.compaction.append(content)
        elif block.tool_use_id is not None:
            self._blocks[index] = _Block("other", self._order)
            self._result(block, out)
        else:
            self._blocks[index] = _Block("other", self._order)

    def _tool(self, index: int, block: Block, out: list[Any]) -> None:
        state = self._blocks[index] = _Block("tool", self._order)
        state.input = raw_text(block.input)
        id, name = block.id or "", block.name or ""
        client = block.type == "tool_use"
        caller = block.caller
        parent = caller.tool_id if caller is not None and caller.type != "direct" else None
        if client:
            self._client_calls.add(id)
        else:
            self._names[id] = name
        self._open_calls[id] = index
        out.append(
            ToolItem(
                done=False,
                output_index=index,
                id=id,
                call_id=id,
                name=name,
                kind="function" if client else "builtin",
                input=None,
                provider_executed=not client,
                namespace=block.server_name if block.type == "mcp_tool_use" else None,
                parent_id=parent,
            )
        )

    def _result(self, block: Block, out: list[Any]) -> None:
        id = block.tool_use_id or ""
        if id in self._client_calls or id in self._resulted:
            return  # results come only for calls the server ran, once
        self._resulted.add(id)
        index = self._open_calls.pop(id, None)
        if index is not None:  # its call never stopped: it is complete now
            self._blocks.pop(index, None)
            out.append(CloseCall(index, None, partial=True))
        content = raw_text(block.content)
        output = content if content is not None else "null"
        name = self._names.get(id)
        if name is None:
            name = block.type.removesuffix("_tool_result")
        out.append(
            ToolResult(
                id=id,
                name=name,
                output=output,
                is_error=block.is_error is True or _is_error_content(output),
            )
        )

    def _delta(self, index: int, delta: BlockDeltaBody) -> None:
        """A delta that is not a piece (``PieceDelta`` holds those): nothing is given now."""
        kind = delta.type
        if kind == "signature_delta":
            block = self._blocks.get(index)
            if block is not None:
                block.signature = delta.signature or None
        elif kind == "citations_delta":
            block = self._blocks.get(index)
            if block is None:
                block = self._blocks[index] = _Block("text", self._order)
            assert delta.citation is not None
            block.citations.append(_citation(delta.citation))
        elif kind == "compaction_delta":
            block = self._blocks.get(index)
            if block is not None and block.kind == "compaction" and isinstance(delta.content, str):
                block.compaction.append(delta.content)

    def _stop_block(self, index: int, out: list[Any]) -> None:
        block = self._blocks.pop(index, None)
        if block is None:
            return
        if block.kind == "thinking" and block.signature:
            out.append(EncryptedReasoning(f"thinking:{index}", block.signature))
        elif block.kind == "tool":
            for id, at in self._open_calls.items():
                if at == index:
                    del self._open_calls[id]
                    break
            final = None if block.streamed else _start_input(block.input)
            out.append(CloseCall(index, final))
        elif block.kind == "compaction":
            out.append(Compaction(f"compaction:{index}", "".join(block.compaction)))
        self._give(block, out)

    def _give(self, block: _Block, out: list[Any]) -> None:
        if block.citations:
            out.extend(block.citations)
            block.citations = []

    def _give_held(self, out: list[Any]) -> None:
        for block in sorted(self._blocks.values(), key=lambda b: b.order):
            self._give(block, out)


def anthropic_dispatch_() -> Callable[
    [Observable[list[AnthropicEventType | Error]]], Observable[list[Any]]
]:
    return ending_stage(lambda: PassesMarker(AnthropicDispatcher()))


__all__ = [
    "EVENT_NAMES",
    "AnthropicDecoder",
    "AnthropicDispatcher",
    "AnthropicEvent",
    "AnthropicEventType",
    "anthropic_decode_",
    "anthropic_dispatch_",
]
