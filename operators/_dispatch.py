"""Events → items: parts and their chunks, citations, metadata, usage, stop reason, errors.

Tool-call events pass through untouched for ``collect_tools``; a terminal
event becomes its items followed by a ``Terminal`` signal, and nothing after
it in the batch is read.

A part is one ``(output_index, content_index)`` of a message, one
``(output_index, summary_index)`` of a reasoning summary; its ``part_start``
comes with its first non-empty chunk, and again whenever a chunk of another
part came in between.
"""

from collections.abc import Callable
from typing import TypeAlias

from reactivex import Observable

from ._decode import DecodedEvent, read_citations, read_texts
from ._errors import code_text, server_error
from ._events import (
    ApplyPatchDiffDelta,
    CitationAdded,
    CodeInterpreterCodeDelta,
    Completed,
    Created,
    CustomInputDelta,
    CustomInputDone,
    ErrorEvent,
    Failed,
    FinalResponse,
    FunctionArgsDelta,
    FunctionArgsDone,
    Incomplete,
    InProgress,
    ItemAdded,
    LifecycleResponse,
    McpArgsDelta,
    MessageDone,
    PartialImage,
    Queued,
    ReasoningDone,
    ReasoningSummaryDelta,
    ReasoningTextDelta,
    RefusalDelta,
    TextDelta,
    ToolItem,
    WireUsage,
)
from ._items import (
    Citation,
    Compaction,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    PartKind,
    PartStart,
    Reasoning,
    Refusal,
    StopReason,
    Text,
    TokenUsage,
    Usage,
)
from ._signals import CloseCall, EventsRead, OpenCall, SequenceNumber, Terminal
from ._stage import batch_stage

ToolEvent: TypeAlias = (
    FunctionArgsDelta
    | CustomInputDelta
    | FunctionArgsDone
    | CustomInputDone
    | ToolItem
    # built-in calls (SPEC §3.1)
    | CodeInterpreterCodeDelta
    | McpArgsDelta
    | ApplyPatchDiffDelta
    | PartialImage
)
Dispatched: TypeAlias = (
    Item | ToolEvent | Terminal | EventsRead | SequenceNumber | CloseCall | OpenCall
)
"""What ``dispatch`` emits: items, tool events for ``collect_tools``, and the signals
``Terminal``, ``EventsRead`` and ``SequenceNumber`` (passed on for ``finalize``); the
Chat and Anthropic wires also emit ``CloseCall`` and ``OpenCall``."""


_PASSED_ON = frozenset(
    {
        FunctionArgsDelta,
        CustomInputDelta,
        FunctionArgsDone,
        CustomInputDone,
        ToolItem,
        Error,
        EventsRead,
        SequenceNumber,
    }
    # built-in calls, and compaction items (SPEC §3.1)
    | {CodeInterpreterCodeDelta, McpArgsDelta, ApplyPatchDiffDelta, PartialImage, Compaction}
)
#: A part: its kind, output index, and content (or summary) index.
_Part: TypeAlias = tuple[PartKind | None, int | None, int | None]
_CHUNKS: dict[PartKind, type[Text | Refusal | Reasoning]] = {
    "text": Text,
    "refusal": Refusal,
    "reasoning": Reasoning,
    "reasoning_summary": Reasoning,
}


def usage_from_wire(usage: WireUsage | None) -> Usage | None:
    """The ``usage`` item for a response's usage; ``None`` when absent, null or empty."""
    if usage is None:
        return None
    inp, out = usage.input_tokens_details, usage.output_tokens_details
    if usage.input_tokens is None and usage.output_tokens is None and inp is None and out is None:
        return None
    return Usage(
        tokens=TokenUsage(
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            cache_read_tokens=(inp.cached_tokens or None) if inp else None,
            cache_creation_tokens=(inp.cache_write_tokens or None) if inp else None,
            reasoning_tokens=(out.reasoning_tokens or None) if out else None,
        )
    )


def _incomplete_reason(response: FinalResponse) -> StopReason:
    details = response.incomplete_details
    return "content_filter" if details and details.reason == "content_filter" else "length"


def stop_reason_of(event: Completed | Incomplete) -> StopReason | None:
    """The stop reason a terminal event gives (``failed`` gives none)."""
    response = event.response
    if isinstance(event, Incomplete):
        return _incomplete_reason(response)
    status = response.status
    if status is None or status == "completed":
        return "end_turn"
    if status == "incomplete":
        return _incomplete_reason(response)
    return None


def error_from_event(event: ErrorEvent) -> Error:
    """The ``error`` item for an ``error`` event (the stream goes on after it).

    The message is the server's own, as it is: no prefix.
    """
    nested = event.error
    code = event.code if code_text(event.code) else (nested.code if nested else None)
    message = (
        event.message or (nested.message if nested else None) or code_text(code) or "unknown error"
    )
    return server_error(message, code=code, error_type=nested.type if nested else None)


def error_from_failed(event: Failed) -> Error:
    """The ``error`` item for ``response.failed``."""
    body = event.response.error
    return server_error(
        (body.message if body else None) or "response failed",
        code=body.code if body else None,
        error_type=body.type if body else None,
    )


class Dispatcher:
    """Maps decoded events to items, with no I/O; one per subscription."""

    __slots__ = (
        "_cited_at",
        "_error_told",
        "_ids",
        "_metadata_sent",
        "_part",
        "_phases",
        "_reasoning_at",
        "_text_at",
        "ended",
    )

    def __init__(self) -> None:
        self.ended = False
        self._metadata_sent = False
        # An ``error`` event gave its item: a ``response.failed`` after it adds
        # none (one failure, one error item).
        self._error_told = False
        # The output indexes that streamed non-empty deltas (``None`` for deltas
        # without one), so whole items in output_item.done are not told twice.
        self._text_at: set[int | None] = set()
        self._reasoning_at: set[int | None] = set()
        self._cited_at: set[int | None] = set()  # ... and that had annotation.added
        # What output_item.added announced at each output index.
        self._ids: dict[int, str | None] = {}
        self._phases: dict[int, str | None] = {}
        self._part: _Part = (None, None, None)  # the part the last chunk belonged to

    def dispatch(self, events: list[DecodedEvent | Error]) -> list[Dispatched]:
        out: list[Dispatched] = []
        if self.ended:
            return out
        append = out.append
        text_at = self._text_at
        # The current part, as (kind, output index, content or summary index):
        # compared field by field, the usual delta of the same part builds nothing.
        kind, index, sub = self._part
        for event in events:
            if type(event) is TextDelta:
                if event.delta:
                    if event.content_index != sub or event.output_index != index or kind != "text":
                        kind, index, sub = "text", event.output_index, event.content_index
                        self._start(kind, index, event.item_id, out)
                        text_at.add(index)  # the part's later chunks have this index too
                    append(Text(event.delta))
            elif type(event) in _PASSED_ON:  # tool events, error items, signals
                append(event)  # type: ignore[arg-type]
                if type(event) is ToolItem and not event.done:
                    self._ids[event.output_index] = event.id
                    self._phases.pop(event.output_index, None)
            elif type(event) is ReasoningSummaryDelta:
                if event.delta:
                    if (
                        event.summary_index != sub
                        or event.output_index != index
                        or kind != "reasoning_summary"
                    ):
                        kind, index, sub = (
                            "reasoning_summary",
                            event.output_index,
                            event.summary_index,
                        )
                        self._start(kind, index, event.item_id, out)
                        self._reasoning_at.add(index)
                    append(Reasoning(event.delta))
            elif type(event) is ReasoningTextDelta:
                if event.delta:
                    if (
                        event.content_index != sub
                        or event.output_index != index
                        or kind != "reasoning"
                    ):
                        kind, index, sub = "reasoning", event.output_index, event.content_index
                        self._start(kind, index, event.item_id, out)
                        self._reasoning_at.add(index)
                    append(Reasoning(event.delta))
            elif type(event) is RefusalDelta:
                if event.delta:
                    if (
                        event.content_index != sub
                        or event.output_index != index
                        or kind != "refusal"
                    ):
                        kind, index, sub = "refusal", event.output_index, event.content_index
                        self._start(kind, index, event.item_id, out)
                        text_at.add(index)
                    append(Refusal(event.delta))
            elif type(event) is ItemAdded:
                self._ids[event.output_index] = event.id
                self._phases[event.output_index] = event.phase
            elif type(event) is CitationAdded:
                self._cited_at.add(event.output_index)
                if event.citation is not None:
                    append(event.citation)
            elif type(event) is Created or type(event) is InProgress or type(event) is Queued:
                self._metadata(event.response, out)
            elif type(event) is Completed or type(event) is Incomplete:
                self._metadata(event.response, out)
                usage = usage_from_wire(event.response.usage)
                if usage is not None:
                    append(usage)
                append(Terminal(stop_reason_of(event)))
                self.ended = True
                break
            elif type(event) is Failed:
                self._metadata(event.response, out)
                if not self._error_told:
                    append(error_from_failed(event))
                append(Terminal(None))
                self.ended = True
                break
            elif type(event) is ErrorEvent:
                append(error_from_event(event))
                self._error_told = True
            elif type(event) is MessageDone:
                given = event.parts.texts and not _seen(self._text_at, event.output_index)
                if given and self._whole_message(event, out):
                    kind = None  # a chunk of another part came
            else:
                assert type(event) is ReasoningDone
                if event.parts.texts and not _seen(self._reasoning_at, event.output_index):
                    texts = read_texts(event.parts)
                    if isinstance(texts, Error):
                        append(texts)  # the event gives only its error
                        continue
                    for text, part_kind in zip(texts, event.parts.kinds, strict=True):
                        if text:
                            append(PartStart(part_kind, event.output_index, event.id))
                            append(Reasoning(text))
                            kind = None  # a chunk of another part came
                if event.id is not None and event.encrypted_content is not None:
                    append(EncryptedReasoning(event.id, event.encrypted_content))
        self._part = (kind, index, sub)
        return out

    def _start(
        self, kind: PartKind, index: int | None, item_id: str | None, out: list[Dispatched]
    ) -> None:
        """The ``part_start`` of a part whose first chunk (since another part's) comes next."""
        if index is None:
            out.append(PartStart(kind, None, item_id))
        else:
            out.append(
                PartStart(kind, index, self._ids.get(index) or item_id, self._phases.get(index))
            )

    def _whole_message(self, event: MessageDone, out: list[Dispatched]) -> bool:
        """A message that came whole: each part's ``part_start`` and text, then its citations.

        Whether it gave a chunk.
        """
        texts = read_texts(event.parts)
        if isinstance(texts, Error):
            out.append(texts)  # the event gives only its error
            return False
        if _seen(self._cited_at, event.output_index):
            cited: list[list[Citation]] | Error = [[] for _ in texts]
        else:
            cited = read_citations(event.parts, event.annotations)
        if isinstance(cited, Error):
            out.append(cited)
            return False
        chunked = False
        for text, kind, citations in zip(texts, event.parts.kinds, cited, strict=True):
            if text:
                out.append(PartStart(kind, event.output_index, event.id, event.phase))
                out.append(_CHUNKS[kind](text))
                chunked = True
            out.extend(citations)
        return chunked

    def _metadata(self, response: LifecycleResponse, out: list[Dispatched]) -> None:
        if not self._metadata_sent and response.id is not None:
            self._metadata_sent = True
            out.append(Metadata(response_id=response.id, model=response.model))


def _seen(indexes: set[int | None], index: int | None) -> bool:
    """Whether deltas came for this output (any output, for an item with no index)."""
    if index is None:
        return bool(indexes)
    return index in indexes or None in indexes


def dispatch_() -> Callable[[Observable[list[DecodedEvent | Error]]], Observable[list[Dispatched]]]:
    return batch_stage(lambda: Dispatcher().dispatch)


__all__ = [
    "Dispatched",
    "Dispatcher",
    "ToolEvent",
    "dispatch_",
    "error_from_event",
    "error_from_failed",
    "stop_reason_of",
    "usage_from_wire",
]
