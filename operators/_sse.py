"""Bytes → frames: incremental server-sent-events framing, and its JSON Lines twin.

The rules are WHATWG's event-stream parsing
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
applied to bytes so that a chunk split anywhere, even inside a UTF-8
character or between ``\\r`` and ``\\n``, gives the same frames.

A frame is a plain tuple ``(event, data, oversized)``: the SSE ``event:`` name
(``None`` when absent), the joined ``data:`` lines, and whether the event was
over the size cap (then ``data`` holds only its first bytes, for the message).
Tuples, not classes: the framer makes one per event on the hot path.
"""

from collections.abc import Callable
from typing import Literal, TypeAlias

import msgspec
from reactivex import Observable, abc

#: Default cap on one event's data, and on any one line (SPEC §5).
DEFAULT_MAX_EVENT_BYTES = 128 * 1024 * 1024

Frame: TypeAlias = tuple[bytes | None, bytes, bool]
FrameFormat: TypeAlias = Literal["sse", "jsonl"]

_BOM = b"\xef\xbb\xbf"
#: How much of an oversized event we keep, to show in its decode error.
_PREVIEW = 256
_RAW = msgspec.json.Decoder(msgspec.Raw)


def _is_complete_json(data: bytes) -> bool:
    try:
        _RAW.decode(data)
    except Exception:  # any failure (syntax, depth) means "not complete"
        return False
    return True


class _Lines:
    """Splits bytes into lines on ``\\r\\n``, ``\\n`` or ``\\r``, holding at most ``cap`` bytes.

    ``feed`` returns complete lines; a line over the cap comes back as
    ``(prefix, True)`` once, with at most ``cap`` of its first bytes.
    """

    __slots__ = ("_bom_seen", "_cap", "_crlf", "_discarding", "_parts", "_size", "_skip_lf")

    def __init__(self, cap: int, crlf: bool) -> None:
        self._cap = cap
        self._crlf = crlf  # False: split on "\n" only (JSON Lines)
        self._parts: list[bytes] = []
        self._size = 0
        self._skip_lf = False  # the last chunk ended with "\r": a "\n" next is its pair
        self._discarding = False  # inside a line over the cap, dropping until its end
        self._bom_seen: bytes | None = b""  # None once the start of input is past

    def feed(self, chunk: bytes) -> list[tuple[bytes, bool]]:
        if self._bom_seen is not None:
            # NOTE: the byte-order mark may itself arrive split across chunks.
            head = self._bom_seen + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._bom_seen = head
                return []
            self._bom_seen = None
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        if self._crlf and b"\r" in chunk:
            # NOTE: a trailing "\r" may be half of a "\r\n" split across chunks.
            self._skip_lf = chunk[-1] == 0x0D
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()
        out: list[tuple[bytes, bool]] = []
        if lines:
            first = lines[0]
            if self._discarding:
                self._discarding = False
                lines = lines[1:]
            elif self._parts:
                self._parts.append(first)
                self._size += len(first)
                lines[0] = self._take()
            cap = self._cap
            for line in lines:
                if len(line) > cap:
                    out.append((line[:cap], True))
                else:
                    out.append((line, False))
            self._parts = []
            self._size = 0
        if rest and not self._discarding:
            self._parts.append(rest)
            self._size += len(rest)
            if self._size > self._cap:
                out.append((b"".join(self._parts)[: self._cap], True))
                self._parts = []
                self._size = 0
                self._discarding = True
        return out

    def _take(self) -> bytes:
        line = b"".join(self._parts)
        self._parts = []
        self._size = 0
        return line

    def flush(self) -> list[tuple[bytes, bool]]:
        """The last line, if the input ended without a line break after it."""
        out: list[tuple[bytes, bool]] = []
        if self._bom_seen:  # input shorter than a byte-order mark
            head, self._bom_seen = self._bom_seen, None
            out.extend(self.feed(head))
        if self._parts:
            line = self._take()
            out.append((line[: self._cap], True) if len(line) > self._cap else (line, False))
        self._discarding = False
        return out


class SSEFramer:
    """Incremental SSE framing with no I/O: ``decode(chunk)`` → frames, ``flush()`` at the end."""

    __slots__ = ("_cap", "_data", "_lines", "_name", "_oversized", "_size")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._cap = max_event_bytes
        self._lines = _Lines(max_event_bytes, crlf=True)
        self._data: list[bytes] = []
        self._size = 0
        self._name: bytes | None = None
        self._oversized: bytes | None = None  # first bytes of an event over the cap

    def decode(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        for line, too_long in self._lines.feed(chunk):
            self._line(line, too_long, frames)
        return frames

    def flush(self) -> list[Frame]:
        """Frames still pending at the end of input (an unterminated last event)."""
        frames: list[Frame] = []
        for line, too_long in self._lines.flush():
            self._line(line, too_long, frames)
        if self._oversized is not None:
            frames.append((self._name, self._oversized, True))
        elif self._data:
            data = b"\n".join(self._data)
            # Real servers close without the final blank line: keep the event
            # if what arrived of it is whole.
            if _is_complete_json(data):
                self._dispatch(frames)
        self._reset()
        return frames

    def _line(self, line: bytes, too_long: bool, frames: list[Frame]) -> None:
        if line.startswith(b"data:"):
            value = line[6:] if line[5:6] == b" " else line[5:]
            if too_long:
                self._overflow(value)
                return
            if self._oversized is not None:
                return
            self._size += len(value) + (1 if self._data else 0)
            if self._size > self._cap:
                self._overflow(self._data[0] if self._data else value)
                return
            self._data.append(value)
        elif not line:
            self._dispatch(frames)
            self._reset()
        elif line[0] == 0x3A:  # ":" comment
            return
        else:
            colon = line.find(b":")
            field = line if colon < 0 else line[:colon]
            value = b"" if colon < 0 else line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":  # "data" with no colon: an empty data line
                self._line(b"data:", too_long, frames)
            elif field == b"event":
                if too_long:
                    self._overflow(b"")
                else:
                    self._name = value
            # id, retry and unknown fields are read and ignored; over the cap,
            # they are dropped silently.

    def _overflow(self, preview: bytes) -> None:
        if self._oversized is None:
            self._oversized = preview[:_PREVIEW]
        self._data = []
        self._size = 0

    def _dispatch(self, frames: list[Frame]) -> None:
        if self._oversized is not None:
            frames.append((self._name, self._oversized, True))
            return
        if not self._data:
            return
        data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
        if data and not data.isspace() and (len(data) > 16 or data.strip() != b"[DONE]"):
            frames.append((self._name, data, False))

    def _reset(self) -> None:
        self._data = []
        self._size = 0
        self._name = None
        self._oversized = None


class JSONLinesFramer:
    """One event's data per line, as some tools record streams; same caps as SSE."""

    __slots__ = ("_lines",)

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._lines = _Lines(max_event_bytes, crlf=False)

    def decode(self, chunk: bytes) -> list[Frame]:
        return self._frames(self._lines.feed(chunk))

    def flush(self) -> list[Frame]:
        return self._frames(self._lines.flush())

    @staticmethod
    def _frames(lines: list[tuple[bytes, bool]]) -> list[Frame]:
        frames: list[Frame] = []
        for line, too_long in lines:
            if too_long:
                frames.append((None, line[:_PREVIEW], True))
                continue
            if line[-1:] == b"\r":
                line = line[:-1]
            if line and not line.isspace() and (len(line) > 16 or line.strip() != b"[DONE]"):
                frames.append((None, line, False))
        return frames


def frame_(
    format: FrameFormat = "sse", max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> Callable[[Observable[bytes]], Observable[list[Frame]]]:
    make: Callable[[int], SSEFramer | JSONLinesFramer]
    if format == "sse":
        make = SSEFramer
    elif format == "jsonl":
        make = JSONLinesFramer
    else:
        raise ValueError(f"unknown format {format!r} (expected 'sse' or 'jsonl')")
    if max_event_bytes < 1:
        raise ValueError("max_event_bytes must be positive")

    def _frame(source: Observable[bytes]) -> Observable[list[Frame]]:
        def subscribe(
            observer: abc.ObserverBase[list[Frame]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            framer = make(max_event_bytes)  # one framer per subscription

            def on_next(chunk: bytes) -> None:
                try:
                    frames = framer.decode(chunk)
                except Exception as exc:  # a bug, not a stream fault: report it
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)

            def on_completed() -> None:
                try:
                    frames = framer.flush()
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)
                observer.on_completed()

            return source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return _frame


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "Frame",
    "FrameFormat",
    "JSONLinesFramer",
    "SSEFramer",
    "frame_",
]
