"""Frames → typed events: unknown types skipped cheaply, broken ones as ``decode_error`` items.

The JSON ``type`` decides what an event is (the SSE ``event:`` name only
labels errors). Real servers put ``type`` first, so a frame that starts with
``{"type":"…"`` is routed by that prefix: an unknown type is skipped without
parsing the rest, a known one goes straight to its own decoder. Anything else
takes the slow path through the union decoder.
"""

from collections.abc import Callable
from typing import TypeAlias

import msgspec
from reactivex import Observable, abc

from ._builtin import build
from ._errors import decode_error
from ._events import (
    ANNOTATION_DECODER,
    ANNOTATIONS_DECODER,
    DECODER_BY_TYPE,
    EVENT_DECODER,
    ITEM_DECODER,
    KNOWN_ITEM_TYPES,
    KNOWN_TYPES,
    TYPED_DECODER,
    AnnotationAdded,
    AnyItem,
    BuiltinItem,
    CallItem,
    CitationAdded,
    CompactionItem,
    Completed,
    CustomToolCallItem,
    Failed,
    FunctionCallItem,
    HeldTexts,
    Incomplete,
    ItemAdded,
    ItemHead,
    KnownItemAdded,
    KnownItemDone,
    MessageDone,
    MessageItem,
    OutputItemAdded,
    OutputItemDone,
    ReasoningDone,
    ReasoningItem,
    ToolItem,
    WireAnnotation,
    WireEvent,
)
from ._items import Citation, Compaction, Error, PartKind
from ._signals import EVENTS_READ, EventsRead, SequenceNumber
from ._sse import Frame
from ._stage import batch_step
from ._wirebase import OVERSIZED, preview

DecodedEvent: TypeAlias = (
    WireEvent
    | ToolItem
    | ItemAdded
    | MessageDone
    | ReasoningDone
    | CitationAdded
    | Compaction
    | EventsRead
    | SequenceNumber
)
"""What ``decode`` emits (output items and annotations are normalized; ``SequenceNumber``
when the largest ``sequence_number`` read grew), and once, before the first of them,
``EVENTS_READ``."""

_PREFIX = b'{"type":"'
#: Events that need more than passing on: output items, and the terminal ones.
_SPECIAL = frozenset(
    {
        OutputItemAdded,
        OutputItemDone,
        KnownItemAdded,
        KnownItemDone,
        AnnotationAdded,
        Completed,
        Incomplete,
        Failed,
    }
)
_Decode: TypeAlias = Callable[[bytes], "WireEvent | KnownItemAdded | KnownItemDone"]


def _output_item_decoder(
    one_pass: type[KnownItemAdded | KnownItemDone], careful: msgspec.json.Decoder[WireEvent]
) -> _Decode:
    """An output-item event in one pass if its item is of a type we read, else the careful way.

    The careful way keeps the item raw until its type is known: an item of
    another type costs nothing more, and a broken one gives the same error
    as it always did.
    """
    decode_one_pass = msgspec.json.Decoder(one_pass).decode

    def decode(data: bytes) -> WireEvent | KnownItemAdded | KnownItemDone:
        try:
            return decode_one_pass(data)
        except Exception:  # any failure: the careful way decides what it is
            return careful.decode(data)

    return decode


_SPECIAL_TYPES = frozenset(cls.__struct_config__.tag.encode() for cls in _SPECIAL)  # type: ignore[union-attr]
_ADDED, _DONE = b"response.output_item.added", b"response.output_item.done"
_DECODE_BY_TYPE: dict[bytes, _Decode] = {
    **{name: decoder.decode for name, decoder in DECODER_BY_TYPE.items()},
    _ADDED: _output_item_decoder(KnownItemAdded, DECODER_BY_TYPE[_ADDED]),
    _DONE: _output_item_decoder(KnownItemDone, DECODER_BY_TYPE[_DONE]),
}
#: SSE event name → (length, the start its JSON must have, the decoding for that
#: type, whether the event is passed on as it is decoded).
_ROUTES: dict[bytes | None, tuple[int, bytes, _Decode, bool]] = {
    name: (len(_PREFIX + name) + 1, _PREFIX + name + b'"', decode, name not in _SPECIAL_TYPES)
    for name, decode in _DECODE_BY_TYPE.items()
}
#: SSE event name of a type we do not read → the start its JSON has (bounded).
_UNKNOWN_PREFIXES: dict[bytes, bytes] = {}


def _unknown(name: bytes) -> bytes:
    prefix = _PREFIX + name + b'"'
    if len(_UNKNOWN_PREFIXES) < 256:
        _UNKNOWN_PREFIXES[name] = prefix
    return prefix


_ITEM_HEAD = msgspec.json.Decoder(ItemHead)
#: Below any sequence number a server sends (msgspec reads larger integers than 64 bits as floats).
_NO_SEQUENCE_NUMBER = -(1 << 64)
_DECODE_FAILURES = (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError)


class _Broken(Exception):
    """An event whose content breaks the rules (a tool item without a name, …)."""


def _label(name: bytes | None, data: bytes) -> str:
    if name:
        return f"event {name.decode('utf-8', 'replace')!r}"
    try:
        return f"event {TYPED_DECODER.decode(data).type!r}"
    except Exception:  # the whole may not parse, but a leading "type" can still be read
        kind = _leading_type(data)
        return "unknown event" if kind is None else f"event {kind.decode('utf-8', 'replace')!r}"


def _leading_type(data: bytes) -> bytes | None:
    """The ``type`` of ``{"type":"…"`` at the very start, if it is written plainly (no escapes)."""
    if not data.startswith(_PREFIX):
        return None
    end = data.find(b'"', len(_PREFIX))
    kind = data[len(_PREFIX) : end]
    return kind if end > 0 and b"\\" not in kind else None


def _error(name: bytes | None, data: bytes, why: str) -> Error:
    return decode_error(f"cannot decode {_label(name, data)}: {why}; data: {preview(data)!r}")


def _known(data: bytes) -> bool | None:
    """Whether the JSON ``type`` is one we read; ``None`` if there is no readable type."""
    try:
        return TYPED_DECODER.decode(data).type in KNOWN_TYPES
    except Exception:
        return None


def _tool_item(
    event: OutputItemAdded | OutputItemDone | KnownItemAdded | KnownItemDone,
    item: FunctionCallItem | CustomToolCallItem | BuiltinItem,
) -> ToolItem:
    if event.output_index is None:
        raise _Broken("a tool call item needs an output_index")
    call_id = item.call_id
    item_id = item.id if item.id is not None else call_id
    if item_id is None:
        raise _Broken("a tool call item needs an id or a call_id")
    done = isinstance(event, OutputItemDone | KnownItemDone)
    caller = item.caller
    parent_id = caller.caller_id if caller is not None else None
    item_type: str = item.__struct_config__.tag  # type: ignore[assignment]
    if not isinstance(item, FunctionCallItem | CustomToolCallItem):
        built = build(item, done)
        return ToolItem(
            done=done,
            output_index=event.output_index,
            id=item_id,
            call_id=call_id,
            name=built.name,
            kind="builtin",
            input=built.arguments,
            item_type=item_type,
            provider_executed=built.provider_executed,
            namespace=built.namespace,
            parent_id=parent_id,
            prefix=built.prefix,
            escape=built.escape,
            result=built.result,
            is_error=built.is_error,
            approval=built.approval,
        )
    if item.name is None:
        raise _Broken("a tool call item needs a name")
    if isinstance(item, FunctionCallItem):
        kind, text = "function", item.arguments
    else:
        kind, text = "custom", item.input
    return ToolItem(
        done=done,
        output_index=event.output_index,
        id=item_id,
        call_id=call_id,
        name=item.name,
        kind=kind,  # type: ignore[arg-type]
        input=text,
        item_type=item_type,
        namespace=item.namespace,
        parent_id=parent_id,
    )


def _normalize(
    event: OutputItemAdded | OutputItemDone, name: bytes | None, data: bytes
) -> DecodedEvent | None:
    """Decode a raw output item; ``None`` for items nobody reads."""
    try:
        item = ITEM_DECODER.decode(event.item)
    except msgspec.ValidationError:
        try:
            item_type = TYPED_DECODER.decode(event.item).type
        except msgspec.ValidationError:
            if not bytes(event.item).lstrip().startswith(b"{"):
                raise  # "item" must be an object
            return None  # an object with no string type: not an item we read
        if item_type in KNOWN_ITEM_TYPES:
            raise
        if isinstance(event, OutputItemAdded) and event.output_index is not None:
            # Any item announced at an output index names the parts there.
            item_id = _ITEM_HEAD.decode(event.item).id
            return ItemAdded(event.output_index, item_id if type(item_id) is str else None, None)
        return None
    return _from_item(event, item, name, data)


def _is_string(text: msgspec.Raw) -> bool:
    """Whether a part's text (still JSON) is a string, not null; any other type is broken."""
    first = memoryview(text)[0]
    if first == 0x22:  # '"'
        return True
    if first == 0x6E:  # "n": the JSON has parsed, so it is null
        return False
    raise _Broken("the text of an item's part must be a string or null")


def _from_item(
    event: OutputItemAdded | OutputItemDone | KnownItemAdded | KnownItemDone,
    item: AnyItem,
    name: bytes | None,
    data: bytes,
) -> DecodedEvent | None:
    """What an output item of a type we read is normalized to; ``None`` if nobody reads it."""
    if isinstance(item, CallItem):
        return _tool_item(event, item)
    if isinstance(event, OutputItemAdded | KnownItemAdded):
        if event.output_index is None:
            return None
        phase = item.phase if isinstance(item, MessageItem) else None
        return ItemAdded(event.output_index, item.id, phase)
    if isinstance(item, CompactionItem):
        if item.id is None or item.encrypted_content is None:
            return None
        return Compaction(id=item.id, content=item.encrypted_content)
    texts: list[msgspec.Raw] = []
    kinds: list[PartKind] = []
    if isinstance(item, MessageItem):
        annotations: list[msgspec.Raw] = []
        for part in item.content or ():
            if part.type == "output_text":
                text, kind = part.text, "text"
            elif part.type == "refusal":
                text, kind = part.refusal, "refusal"
            else:
                continue
            if _is_string(text):
                texts.append(text)
                kinds.append(kind)  # type: ignore[arg-type]
                annotations.append(part.annotations)
        held = HeldTexts(texts, kinds, name, data)
        return MessageDone(event.output_index, item.id, item.phase, held, annotations)
    assert isinstance(item, ReasoningItem)
    for kind, parts in (("reasoning_summary", item.summary), ("reasoning", item.content)):
        for piece in parts or ():
            if _is_string(piece.text):
                texts.append(piece.text)
                kinds.append(kind)  # type: ignore[arg-type]
    return ReasoningDone(
        output_index=event.output_index,
        id=item.id,
        parts=HeldTexts(texts, kinds, name, data),
        encrypted_content=item.encrypted_content,
    )


#: A citation's fields, by annotation type (any other type gives nothing).
_CITED = frozenset({"url_citation", "file_citation", "container_file_citation", "file_path"})


def citation_of(annotation: msgspec.Raw) -> Citation | None:
    """The citation an annotation gives; ``None`` for ``null`` or a type we do not read.

    Raises what msgspec raises for a broken annotation of a type we read, and
    ``_Broken`` for one that names neither a URL nor a file.
    """
    try:
        wire = ANNOTATION_DECODER.decode(annotation)
    except msgspec.ValidationError:
        if not bytes(annotation).lstrip().startswith(b"{"):
            raise  # an annotation must be an object
        try:
            kind = TYPED_DECODER.decode(annotation).type
        except msgspec.ValidationError:
            return None  # an object with no string type: not a citation
        if kind in _CITED:
            raise
        return None  # another type: its fields are nobody's business
    if wire is None or wire.type not in _CITED:
        return None
    return _citation(wire)


def _citation(wire: WireAnnotation) -> Citation:
    if wire.url is None and wire.file_id is None:
        raise _Broken(f"a {wire.type} annotation needs a url or a file_id")
    if wire.type == "url_citation":
        return Citation(url=wire.url, title=wire.title, start=wire.start_index, end=wire.end_index)
    if wire.type == "container_file_citation":
        return Citation(
            file_id=wire.file_id,
            filename=wire.filename,
            container_id=wire.container_id,
            start=wire.start_index,
            end=wire.end_index,
        )
    filename = wire.filename if wire.type == "file_citation" else None
    return Citation(file_id=wire.file_id, filename=filename, start=wire.index, end=wire.index)


_STRING = msgspec.json.Decoder(str)


def read_texts(held: HeldTexts) -> list[str] | Error:
    """The held texts, decoded; the event's ``decode_error`` if one is not valid UTF-8."""
    try:
        return [_STRING.decode(text) for text in held.texts]
    except _DECODE_FAILURES as exc:
        return _error(held.name, held.data, f"{type(exc).__name__}: {exc}")


def read_citations(held: HeldTexts, annotations: list[msgspec.Raw]) -> list[list[Citation]] | Error:
    """Each held part's citations; the event's ``decode_error`` if one is broken."""
    try:
        out: list[list[Citation]] = []
        for raw in annotations:
            listed = ANNOTATIONS_DECODER.decode(raw) or ()
            out.append([c for c in map(citation_of, listed) if c is not None])
        return out
    except _Broken as exc:
        return _error(held.name, held.data, str(exc))
    except _DECODE_FAILURES as exc:
        return _error(held.name, held.data, f"{type(exc).__name__}: {exc}")


class EventDecoder:
    """Decodes frames into events with no I/O; stops reading after the first terminal event.

    Keeps the largest integer ``sequence_number`` of the events that decode;
    it is told on (``SequenceNumber``) just before the terminal event, or by
    ``last_sequence_number`` when the input ends or fails first: once, not
    per batch, which would cost a signal per event when chunks are small.
    """

    __slots__ = ("ended", "read_any", "sequence_number")

    def __init__(self) -> None:
        self.ended = False
        self.read_any = False  # an event of the wire was read: ``EVENTS_READ`` went out
        self.sequence_number = _NO_SEQUENCE_NUMBER

    def decode(self, frames: list[Frame]) -> list[DecodedEvent | Error]:
        out: list[DecodedEvent | Error] = []
        if self.ended:
            return out
        append = out.append
        touched = False  # an event was read that gives nothing (an item nobody reads)
        by_type = DECODER_BY_TYPE
        routes = _ROUTES
        unknown = _UNKNOWN_PREFIXES
        special = _SPECIAL
        top = self.sequence_number
        for name, data, oversized in frames:
            if oversized:
                out.append(_error(name, data, OVERSIZED))
                continue
            event: WireEvent | KnownItemAdded | KnownItemDone
            try:
                route = routes.get(name)  # the SSE name, checked against the JSON type
                if route is not None and data[: route[0]] == route[1]:
                    event = route[2](data)
                    if route[3]:  # most events: passed on as they are
                        append(event)  # type: ignore[arg-type]
                        seq = event.sequence_number
                        if type(seq) is int and seq > top:
                            top = seq
                        continue
                elif name and data[: len(name) + 10] == (unknown.get(name) or _unknown(name)):
                    continue  # named, and its JSON type agrees: a type we do not read
                else:
                    kind = _leading_type(data)
                    decoder = by_type.get(kind) if kind is not None else None
                    if kind is not None and decoder is None:
                        continue  # an unknown type: not decoded further
                    event = (decoder or EVENT_DECODER).decode(data)
                if type(event) in special:
                    normalized: DecodedEvent | None
                    if type(event) is KnownItemAdded or type(event) is KnownItemDone:
                        normalized = _from_item(event, event.item, name, data)
                    elif type(event) is OutputItemAdded or type(event) is OutputItemDone:
                        normalized = _normalize(event, name, data)
                    elif type(event) is AnnotationAdded:
                        normalized = CitationAdded(
                            event.output_index, citation_of(event.annotation)
                        )
                    else:  # a terminal event: nothing after it is read
                        seq = event.sequence_number
                        if type(seq) is int and seq > top:
                            top = seq
                        self.sequence_number = top
                        if top != _NO_SEQUENCE_NUMBER:
                            append(SequenceNumber(top))
                        append(event)  # type: ignore[arg-type]
                        self.ended = True
                        break
                    touched = True  # read, even when it gives nothing
                    if normalized is not None:
                        append(normalized)
                    seq = event.sequence_number
                    if type(seq) is int and seq > top:
                        top = seq
                    continue
            except msgspec.ValidationError as exc:
                known = _known(data)
                if known is False:
                    continue  # an unknown type
                why = str(exc) if known else "not a JSON object with a string type"
                out.append(_error(name, data, why))
                continue
            except _Broken as exc:
                out.append(_error(name, data, str(exc)))
                continue
            except _DECODE_FAILURES as exc:
                out.append(_error(name, data, f"{type(exc).__name__}: {exc}"))
                continue
            append(event)  # type: ignore[arg-type]
            seq = event.sequence_number
            if type(seq) is int and seq > top:
                top = seq
        self.sequence_number = top
        if not self.read_any and (touched or _any_event(out)):
            self.read_any = True
            out.insert(0, EVENTS_READ)
        return out

    def last_sequence_number(self) -> list[SequenceNumber]:
        """The largest sequence number read, for the end of input (none after a terminal event)."""
        if self.ended or self.sequence_number == _NO_SEQUENCE_NUMBER:
            return []
        return [SequenceNumber(self.sequence_number)]


def _any_event(out: list[DecodedEvent | Error]) -> bool:
    """Whether a batch holds a decoded event (not only ``decode_error`` items)."""
    return any(type(event) is not Error for event in out)


def decode_() -> Callable[[Observable[list[Frame]]], Observable[list[DecodedEvent | Error]]]:
    def _decode(source: Observable[list[Frame]]) -> Observable[list[DecodedEvent | Error]]:
        def subscribe(
            observer: abc.ObserverBase[list[DecodedEvent | Error]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            decoder = EventDecoder()  # the state lives here: one per subscription
            step = batch_step(decoder.decode, observer)

            def on_error(exc: Exception) -> None:
                if told := decoder.last_sequence_number():
                    observer.on_next(told)  # type: ignore[arg-type]
                observer.on_error(exc)

            def on_completed() -> None:
                if told := decoder.last_sequence_number():
                    observer.on_next(told)  # type: ignore[arg-type]
                observer.on_completed()

            return source.subscribe(step, on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return _decode


__all__ = ["DecodedEvent", "EventDecoder", "citation_of", "decode_", "read_citations", "read_texts"]
