"""Events → items: text, refusal, reasoning, metadata, usage, stop reason and server errors.

Tool-call events pass through untouched for ``collect_tools``; a terminal
event becomes its items followed by a ``Terminal`` signal, and nothing after
it in the batch is read.
"""

from collections.abc import Callable
from typing import TypeAlias

from reactivex import Observable

from ._decode import DecodedEvent, read_texts
from ._errors import code_text, server_error
from ._events import (
    ApplyPatchDiffDelta,
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
    Compaction,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    Reasoning,
    Refusal,
    StopReason,
    Text,
    TokenUsage,
    Usage,
)
from ._signals import CloseCall, EventsRead, OpenCall, Terminal
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
Dispatched: TypeAlias = Item | ToolEvent | Terminal | EventsRead | CloseCall | OpenCall
"""What ``dispatch`` emits: items, tool events for ``collect_tools``, and the signals
``Terminal`` and ``EventsRead`` (passed on for ``finalize``); the Chat and Anthropic
wires also emit ``CloseCall`` and ``OpenCall``."""


_PASSED_ON = frozenset(
    {
        FunctionArgsDelta,
        CustomInputDelta,
        FunctionArgsDone,
        CustomInputDone,
        ToolItem,
        Error,
        EventsRead,
    }
    # built-in calls, and compaction items (SPEC §3.1)
    | {CodeInterpreterCodeDelta, McpArgsDelta, ApplyPatchDiffDelta, PartialImage, Compaction}
)


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

    __slots__ = ("_error_told", "_metadata_sent", "_reasoning_at", "_text_at", "ended")

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

    def dispatch(self, events: list[DecodedEvent | Error]) -> list[Dispatched]:
        out: list[Dispatched] = []
        if self.ended:
            return out
        append = out.append
        text_at = self._text_at
        for event in events:
            if type(event) is TextDelta:
                if event.delta:
                    append(Text(event.delta))
                    text_at.add(event.output_index)
            elif type(event) in _PASSED_ON:  # tool events, error items, EVENTS_READ
                append(event)  # type: ignore[arg-type]
            elif type(event) is ReasoningSummaryDelta or type(event) is ReasoningTextDelta:
                if event.delta:
                    append(Reasoning(event.delta))
                    self._reasoning_at.add(event.output_index)
            elif type(event) is RefusalDelta:
                if event.delta:
                    append(Refusal(event.delta))
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
                if event.text.texts and not _seen(self._text_at, event.output_index):
                    texts = read_texts(event.text)
                    if isinstance(texts, Error):
                        append(texts)
                    elif text := "".join(texts):
                        append(Text(text))
            else:
                assert type(event) is ReasoningDone
                if event.summary.texts and not _seen(self._reasoning_at, event.output_index):
                    texts = read_texts(event.summary)
                    if isinstance(texts, Error):
                        append(texts)  # the event gives only its error
                        continue
                    if summary := "\n\n".join(text for text in texts if text):
                        append(Reasoning(summary))
                if event.id is not None and event.encrypted_content is not None:
                    append(EncryptedReasoning(event.id, event.encrypted_content))
        return out

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
