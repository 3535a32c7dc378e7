"""Which wire a stream speaks (SPEC §3.4), and ``decode``/``dispatch`` for each.

With ``wire="auto"`` the first event whose data is a JSON object decides,
once per subscription; every event from it on goes to that wire's decoder,
and ``dispatch`` follows the kind of events it gets. A ``[DONE]`` before the
decision is ignored.
"""

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import msgspec
from reactivex import Observable

from ._anthropic import (
    EVENT_NAMES,
    AnthropicDecoder,
    AnthropicDispatcher,
    AnthropicEvent,
    anthropic_decode_,
    anthropic_dispatch_,
)
from ._chat import ChatChunk, ChatDecoder, ChatDispatcher, ChatDone, chat_decode_, chat_dispatch_
from ._decode import EventDecoder, decode_
from ._dispatch import Dispatcher, dispatch_
from ._items import Error
from ._signals import EVENTS_READ
from ._sse import Frame
from ._stage import batch_stage
from ._wirebase import (
    DECODE_FAILURES,
    OVERSIZED,
    PassesMarker,
    ending_stage,
    event_error,
    is_done,
    marking,
)

Wire: TypeAlias = Literal["responses", "chat", "anthropic"]
WireChoice: TypeAlias = Literal["responses", "chat", "anthropic", "auto"]
WIRES: tuple[WireChoice, ...] = ("responses", "chat", "anthropic", "auto")


class _Probe(msgspec.Struct):
    """The top-level fields that tell the wire, of any type."""

    choices: Any = msgspec.UNSET
    object: Any = None
    type: Any = None
    error: Any = None
    code: Any = None
    sequence_number: Any = None


_PROBE = msgspec.json.Decoder(_Probe)


def detect_wire(data: bytes) -> Wire | None:
    """The wire an event's data tells, or ``None`` if it is not a JSON object."""
    try:
        probe = _PROBE.decode(data)
    except DECODE_FAILURES:
        return None
    kind = probe.type
    if probe.choices is not msgspec.UNSET or (
        isinstance(probe.object, str) and probe.object.startswith("chat.completion")
    ):
        return "chat"
    if isinstance(kind, str) and kind in EVENT_NAMES and kind != "error":
        return "anthropic"
    error = probe.error
    if kind == "error":
        if (
            isinstance(error, dict)
            and isinstance(error.get("type"), str)
            and probe.code is None
            and probe.sequence_number is None
            and error.get("code") is None
            and error.get("sequence_number") is None
        ):
            return "anthropic"
        return "responses"
    if kind is None and isinstance(error, dict):
        return "chat"
    return "responses"


#: The first bytes a ``[DONE]`` frame's data can start with (whitespace around it counts).
_MAYBE_DONE = frozenset({b"[", b" ", b"\t", b"\r", b"\n"})


def _skip_done(decode: Callable[[list[Frame]], list[Any]]) -> Callable[[list[Frame]], list[Any]]:
    """A decoder of a wire that has no ``[DONE]``: such frames are ignored."""

    def decode_without_done(frames: list[Frame]) -> list[Any]:
        for frame in frames:
            if frame[1][:1] in _MAYBE_DONE and is_done(frame[1]):
                frames = [f for f in frames if not is_done(f[1])]
                break
        return decode(frames)

    return decode_without_done


_DECODERS: dict[Wire, Callable[[], Callable[[list[Frame]], list[Any]]]] = {
    "responses": lambda: _skip_done(EventDecoder().decode),
    "chat": lambda: marking(ChatDecoder().decode),
    "anthropic": lambda: marking(_skip_done(AnthropicDecoder().decode)),
}


class AutoDecoder:
    """Tells the wire from the first event that is a JSON object, then decodes as that wire."""

    __slots__ = ("_decode", "wire")

    def __init__(self) -> None:
        self.wire: Wire | None = None
        self._decode: Callable[[list[Frame]], list[Any]] | None = None

    def decode(self, frames: list[Frame]) -> list[Any]:
        if self._decode is not None:
            return self._decode(frames)
        out: list[Any] = []
        for at, (name, data, oversized) in enumerate(frames):
            if oversized:
                out.append(event_error(name, data, OVERSIZED))
                continue
            if is_done(data):
                continue  # before the wire is known: ignored
            wire = detect_wire(data)
            if wire is None:
                out.append(event_error(name, data, "not a JSON object"))
                continue
            self.wire = wire
            self._decode = _DECODERS[wire]()
            out.extend(self._decode(frames[at:]))
            break
        return out


def _dispatcher_for(event: object) -> Any:
    if type(event) is ChatChunk or type(event) is ChatDone:
        return PassesMarker(ChatDispatcher())
    if isinstance(event, AnthropicEvent):
        return PassesMarker(AnthropicDispatcher())
    return _Ending(Dispatcher().dispatch)


class _Ending:
    """A dispatcher with nothing to add at the end of input."""

    __slots__ = ("step",)

    def __init__(self, step: Callable[[list[Any]], list[Any]]) -> None:
        self.step = step

    def end(self, failed: bool) -> list[Any]:
        return []


class AutoDispatcher:
    """Dispatches as the wire of the first event it gets (error items pass before that)."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner: Any = None

    def step(self, events: list[Any]) -> list[Any]:
        inner = self._inner
        if inner is None:
            for event in events:
                if type(event) is not Error and event is not EVENTS_READ:
                    inner = self._inner = _dispatcher_for(event)
                    break
            else:
                return events
        return inner.step(events)  # type: ignore[no-any-return]

    def end(self, failed: bool) -> list[Any]:
        return [] if self._inner is None else self._inner.end(failed)


def wire_decode(wire: WireChoice) -> Callable[[Observable[list[Frame]]], Observable[list[Any]]]:
    """The ``decode`` operator of a wire."""
    if wire == "responses":
        return decode_()
    if wire == "chat":
        return chat_decode_()
    if wire == "anthropic":
        return anthropic_decode_()
    if wire == "auto":
        return batch_stage(lambda: AutoDecoder().decode)
    raise ValueError(f"unknown wire {wire!r} (expected one of {', '.join(WIRES)})")


def wire_dispatch(wire: WireChoice) -> Callable[[Observable[list[Any]]], Observable[list[Any]]]:
    """The ``dispatch`` operator of a wire."""
    if wire == "responses":
        return dispatch_()
    if wire == "chat":
        return chat_dispatch_()
    if wire == "anthropic":
        return anthropic_dispatch_()
    if wire == "auto":
        return ending_stage(AutoDispatcher)
    raise ValueError(f"unknown wire {wire!r} (expected one of {', '.join(WIRES)})")


__all__ = [
    "WIRES",
    "AutoDecoder",
    "AutoDispatcher",
    "Wire",
    "WireChoice",
    "detect_wire",
    "wire_decode",
    "wire_dispatch",
]
