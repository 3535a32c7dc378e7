"""What the Chat Completions and Anthropic Messages wires share.

The ``decode_error`` of an event, the error item of an in-stream error (§4),
and a stage that is also told when its source ends: those wires decide some
things only then (a Chat stream that stops after its ``finish_reason`` without
``[DONE]`` is complete; Anthropic's held citations are given when it ends).
"""

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import msgspec
from reactivex import Observable, abc

from ._errors import FATAL_CODES, decode_error, retry_after_from_message
from ._items import Error
from ._signals import EVENTS_READ

_In = TypeVar("_In")
_Out = TypeVar("_Out")

_SHOWN = 200
#: Why an event over the size cap gives a ``decode_error``, on every wire.
OVERSIZED = "the event is larger than the size cap; skipped"
#: Codes (and nested error types) that no retry can fix, beyond the shared ones.
_FATAL = FATAL_CODES | {
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
}
DONE = b"[DONE]"
DECODE_FAILURES = (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError)


class _Typed(msgspec.Struct):
    type: str


TYPED = msgspec.json.Decoder(_Typed)


def is_done(data: bytes) -> bool:
    """Whether an event's data is ``[DONE]`` (surrounding whitespace aside)."""
    return data[:1] != b"{" and data.strip() == DONE


def event_error(name: bytes | None, data: bytes, why: str) -> Error:
    """The ``decode_error`` of one event: its SSE name, else its JSON type, and its data's start."""
    if name:
        label = f"event {name.decode('utf-8', 'replace')!r}"
    else:
        try:
            label = f"event {TYPED.decode(data).type!r}"
        except Exception:  # no readable type
            label = "unknown event"
    return decode_error(f"cannot decode {label}: {why}; data: {preview(data)!r}")


def preview(data: bytes) -> str:
    """The start of an event's data, as a decode error shows it (invalid UTF-8 replaced)."""
    return data[: _SHOWN * 4].decode("utf-8", "replace")[:_SHOWN]


def code_text(code: object) -> str | None:
    """A server's error code as text: a string as it is, an integer in decimal, else none."""
    if isinstance(code, str):
        return code
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return None


def stream_error(code: object, message: str | None, error_type: str | None) -> Error:
    """The ``error`` item of an error the stream itself sent (§4); the stream goes on."""
    text = code_text(code)
    number = code if isinstance(code, int) and not isinstance(code, bool) else None
    rate = (
        number == 429
        or (text is not None and "rate_limit" in text)
        or (error_type is not None and "rate_limit" in error_type)
    )
    fatal = (
        text in _FATAL
        or error_type == "invalid_request_error"
        or (number is not None and 400 <= number <= 499 and number not in (408, 409, 429))
    )
    text_message = message or text or "unknown error"
    return Error(
        kind="rate_limited" if rate else "server_error",
        code=text,
        message=text_message,
        status=None,
        retryable=not fatal,
        retry_after=retry_after_from_message(text_message),
    )


class Step(Protocol[_In, _Out]):
    """One subscription's state: a list in, a list out, and what the end of input adds."""

    def step(self, batch: list[_In]) -> list[_Out]: ...

    def end(self, failed: bool) -> list[_Out]: ...


def ending_stage(
    make: Callable[[], Step[_In, _Out]],
) -> Callable[[Observable[list[_In]]], Observable[list[_Out]]]:
    """Like ``batch_stage``, and what ``end(failed)`` gives goes on before the source's
    completion (``failed`` false) or failure (true) is passed on."""

    def _stage(source: Observable[list[_In]]) -> Observable[list[_Out]]:
        def subscribe(
            observer: abc.ObserverBase[list[_Out]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            state = make()
            step = state.step

            def on_next(batch: list[_In]) -> None:
                try:
                    out = step(batch)
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if out:
                    observer.on_next(out)

            def tail(failed: bool) -> bool:
                try:
                    out = state.end(failed)
                except Exception as exc:
                    observer.on_error(exc)
                    return False
                if out:
                    observer.on_next(out)
                return True

            def on_error(exc: Exception) -> None:
                if tail(True):
                    observer.on_error(exc)

            def on_completed() -> None:
                if tail(False):
                    observer.on_completed()

            return source.subscribe(on_next, on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return _stage


def raw_text(raw: msgspec.Raw) -> str | None:
    """A raw JSON value's text (``None`` when absent); raises on invalid UTF-8."""
    if not raw:
        return None
    return bytes(raw).decode("utf-8")


def plain(value: Any) -> str | None:
    """A non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def marking(decode: Callable[[list[Any]], list[Any]]) -> Callable[[list[Any]], list[Any]]:
    """``decode`` that puts ``EVENTS_READ`` before the first batch holding an event of its wire.

    ``finalize`` names the framing and wire in its end-of-input message when
    the marker never came. Once it went out, one check per batch is left.
    """
    read = False

    def decode_marked(frames: list[Any]) -> list[Any]:
        nonlocal read
        out = decode(frames)
        if not read:
            for event in out:
                if type(event) is not Error:
                    read = True
                    out.insert(0, EVENTS_READ)
                    break
        return out

    return decode_marked


class PassesMarker:
    """A wire's dispatcher that passes ``EVENTS_READ`` on for ``finalize``."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def step(self, events: list[Any]) -> list[Any]:
        if events and events[0] is EVENTS_READ:
            return [EVENTS_READ, *self._inner.step(events[1:])]
        return self._inner.step(events)  # type: ignore[no-any-return]

    def end(self, failed: bool) -> list[Any]:
        return self._inner.end(failed)  # type: ignore[no-any-return]


__all__ = [
    "DECODE_FAILURES",
    "DONE",
    "TYPED",
    "PassesMarker",
    "Step",
    "code_text",
    "ending_stage",
    "event_error",
    "is_done",
    "marking",
    "plain",
    "raw_text",
    "stream_error",
]
