"""The RxPY operators of the chain: frame → decode → dispatch → collect_tools → finalize.

Each factory returns an operator for ``Observable.pipe``. Every operator is a
direct ``Observable(subscribe)`` loop that makes its state per subscription
and calls ``on_next`` synchronously; between the inner stages, one list
travels per input chunk, and ``finalize`` delivers one item per ``on_next``.
``rxresponses.responses`` composes them; use these to build your own chain.
"""

from collections.abc import Callable
from typing import Any, overload

from reactivex import Observable

from ._decode import DecodedEvent, EventDecoder, decode_
from ._dispatch import Dispatched, Dispatcher, dispatch_
from ._errors import (
    ConnectError,
    DecodeError,
    HTTPStatusError,
    PipelineError,
    RateLimited,
    ServerError,
    StreamInterrupted,
    StreamTimeout,
    UsageError,
    exception_from_item,
    item_from_exception,
)
from ._finalize import finalize_
from ._frame import frame_
from ._items import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
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
    ToolResult,
    Usage,
)
from ._signals import EVENTS_READ, CloseCall, EventsRead, OpenCall, SequenceNumber, Terminal
from ._sse import (
    DEFAULT_MAX_EVENT_BYTES,
    AutoFramer,
    Frame,
    FrameFormat,
    JSONLinesFramer,
    SSEFramer,
)
from ._tool_collect import DEFAULT_MAX_TOOL_INPUT_BYTES, Collected, ToolCollector, collect_tools_
from ._wire import WIRES, Wire, WireChoice, detect_wire, wire_decode, wire_dispatch


def frame(
    format: FrameFormat = "sse",
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    done: bool = False,
) -> Callable[[Observable[bytes]], Observable[list[Frame]]]:
    """Split bytes into event frames, one list per input chunk.

    The same bytes give the same frames however they are chunked. An event
    over ``max_event_bytes`` becomes one oversized frame (``decode`` reports
    it) and is never buffered past the cap.

    .. code::

        -b"data: {..}\\n\\nda"--b"ta: {..}\\n\\n"-|
        [              frame()                ]
        -[f1]--------------------[f2]---------|

    Args:
        format: ``"sse"`` (server-sent events), ``"jsonl"`` (one event's JSON per
            line) or ``"auto"`` (JSON Lines if the first byte that is not
            whitespace nor a byte-order mark is ``{``, else SSE).
        max_event_bytes: The cap on one event's data, and on any one line.
        done: Pass ``[DONE]`` events on (the end of a Chat Completions stream);
            by default they are dropped, as on the other wires.

    Returns:
        An operator from byte chunks to lists of frames ``(event, data, oversized)``.
    """
    return frame_(format, max_event_bytes, done)


@overload
def decode() -> Callable[[Observable[list[Frame]]], Observable[list[DecodedEvent | Error]]]: ...


@overload
def decode(wire: WireChoice) -> Callable[[Observable[list[Frame]]], Observable[list[Any]]]: ...


def decode(wire: WireChoice = "responses") -> Callable[[Observable[list[Frame]]], Observable[Any]]:
    """Decode frames into typed events; a broken event becomes a ``decode_error`` item.

    Unknown event types are dropped without being parsed further. Nothing
    after the first terminal event is decoded. ``wire`` is ``"responses"``,
    ``"chat"`` (Chat Completions: frame with ``done=True``), ``"anthropic"``
    or ``"auto"`` (told by the first event that is a JSON object; pair it
    with ``dispatch("auto")``).

    .. code::

        -[f1, f2]--[f3]-|
        [   decode()   ]
        -[e1, e2]--[err]-|
    """
    return decode_() if wire == "responses" else wire_decode(wire)


@overload
def dispatch() -> Callable[
    [Observable[list[DecodedEvent | Error]]], Observable[list[Dispatched]]
]: ...


@overload
def dispatch(wire: WireChoice) -> Callable[[Observable[list[Any]]], Observable[list[Any]]]: ...


def dispatch(wire: WireChoice = "responses") -> Callable[[Observable[Any]], Observable[Any]]:
    """Map events to items (text, reasoning, metadata, usage, errors, stop reason).

    Tool events pass through for ``collect_tools``; a terminal event ends its
    batch with a ``Terminal`` signal. ``wire`` is that of ``decode``.

    .. code::

        -[delta, delta]--[completed]---|
        [         dispatch()          ]
        -[text, text]----[usage, T]----|
    """
    return dispatch_() if wire == "responses" else wire_dispatch(wire)


def collect_tools(
    max_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
) -> Callable[[Observable[list[Dispatched]]], Observable[list[Collected]]]:
    """Turn tool-call events into ``tool_request_start``/``_arg``/``_complete`` items.

    Calls are keyed by ``output_index``; built-in calls (web search, code
    interpreter, MCP, …) too, and a server-run call's ``tool_result`` or an
    ``approval_request`` follows its completion. Input past
    ``max_input_bytes`` is dropped with one ``decode_error``, and the call
    completes as partial; a result past it is cut to ``{"truncated":true}``.

    .. code::

        -[added]--[delta]--[delta]--[args.done]-----|
        [            collect_tools()               ]
        -[start]--[arg]----[arg]----[complete]------|
    """
    return collect_tools_(max_input_bytes)


def finalize(
    start: bool = False, *, framing: str = "sse", wire: str = "responses"
) -> Callable[[Observable[list[Collected]]], Observable[Item]]:
    """End every stream with ``done``: the terminal operator of the chain.

    With ``start=True`` it also begins every stream with ``start`` (a fresh
    UUID4 ``message_id`` per subscription), sent with the first thing the
    stream emits rather than at subscribe time, so that all subscribers of a
    shared asynchronous stream see it.

    After a terminal event it completes pending calls, emits ``done`` and
    disposes its source. If the source completes or fails first, it emits
    the one error item that says why, completes pending calls as partial,
    then ``done``. It never calls ``on_error`` for a stream fault. ``framing``
    and ``wire`` are named in the end-of-input error when not one event of the
    wire was read (a JSON Lines file read as SSE, another provider's stream).

    .. code::

        -[text]--[start]--X(connection lost)
        [            finalize()            ]
        -text----start----error-complete-done|
    """
    return finalize_(start, framing=framing, wire=wire)


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_TOOL_INPUT_BYTES",
    "EVENTS_READ",
    "WIRES",
    "ApprovalRequest",
    "AutoFramer",
    "Citation",
    "CloseCall",
    "Collected",
    "Compaction",
    "ConnectError",
    "DecodeError",
    "DecodedEvent",
    "Dispatched",
    "Dispatcher",
    "Done",
    "EncryptedReasoning",
    "Error",
    "EventDecoder",
    "EventsRead",
    "Frame",
    "FrameFormat",
    "HTTPStatusError",
    "Item",
    "JSONLinesFramer",
    "Metadata",
    "OpenCall",
    "PartStart",
    "PipelineError",
    "RateLimited",
    "Reasoning",
    "Refusal",
    "SSEFramer",
    "SequenceNumber",
    "ServerError",
    "Start",
    "StreamInterrupted",
    "StreamTimeout",
    "Terminal",
    "Text",
    "TokenUsage",
    "ToolCall",
    "ToolCollector",
    "ToolRequestArg",
    "ToolRequestComplete",
    "ToolRequestStart",
    "ToolResult",
    "Usage",
    "UsageError",
    "Wire",
    "WireChoice",
    "collect_tools",
    "decode",
    "detect_wire",
    "dispatch",
    "exception_from_item",
    "finalize",
    "frame",
    "item_from_exception",
]
