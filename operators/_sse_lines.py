"""The WHATWG event-stream line rules, one line at a time.

The framer reads events in the usual shape (``event: …`` then one
``data: …`` line, or a ``data: …`` line alone) without looking at their
lines; everything else comes here: comments, ``id:``, several data lines,
fields without a colon, and events read line by line because they are long.
"""

import msgspec

from ._stage import GROUP, join_short_tail

#: A frame: the SSE ``event:`` name (``None`` when absent), the event's data,
#: and whether it was over the size cap (then the data is a preview).
Frame = tuple[bytes | None, bytes, bool]

#: How much of an oversized event a frame keeps, to show in its decode error.
PREVIEW = 256
#: How much of a line over the cap is read: its field name and a preview.
HEAD = 1024
DONE = b"[DONE]"
_RAW = msgspec.json.Decoder(msgspec.Raw)


def accept(data: bytes) -> bool:
    """Whether an event with this data is dispatched (not empty, blank or ``[DONE]``)."""
    if data[:1] == b"{":
        return True
    stripped = data.strip()
    return bool(stripped) and stripped != DONE


def accept_done(data: bytes) -> bool:
    """Whether an event with this data is dispatched when ``[DONE]`` is passed on."""
    return data[:1] == b"{" or bool(data.strip())


class EventLines:
    """One event's fields, read line by line; ``dispatch`` at its blank line.

    ``busy`` says an event is under way (a name, data, or its overflow was
    read), so that the next bytes continue it rather than start afresh.
    """

    __slots__ = ("_accept", "_cap", "_data", "_loose", "_name", "_oversized", "_size", "busy")

    def __init__(self, cap: int, done: bool) -> None:
        self._accept = accept_done if done else accept
        self._cap = cap
        self._data: list[bytes] = []  # the first line alone (the preview), later ones in groups
        self._loose = 0  # data lines after the first not yet grouped
        self._size = 0
        self._name: bytes | None = None
        self._oversized: bytes | None = None  # the preview of an event over the cap
        self.busy = False

    def line(self, line: bytes, frames: list[Frame], over: bool = False) -> None:
        """One line, without its line end; ``over``: only the head of a line over the cap."""
        too_long = over or len(line) > self._cap
        if too_long:
            line = line[: self._cap + 1]  # what every split of the input shows of it
        if not line:
            self.dispatch(frames)
            return
        if line[0] == 0x3A:  # ":" comment
            return
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":  # with no colon: an empty data line
            self.data(value, too_long)
        elif field == b"event":
            if too_long:
                self._overflow(b"")
            else:
                self._name = value
                self.busy = True
        # id, retry and unknown fields are read and ignored; over the cap, dropped.

    def data(self, value: bytes, too_long: bool = False) -> None:
        """A ``data`` line's value."""
        self.busy = True
        if too_long:
            self._overflow(value)
            return
        if self._oversized is not None:
            return
        data = self._data
        self._size += len(value) + (1 if data else 0)
        if self._size > self._cap:
            self._overflow(data[0] if data else value)
            return
        data.append(value)
        if len(data) > 1:
            self._loose += 1
            if self._loose == GROUP:
                join_short_tail(data, b"\n")
                self._loose = 0

    def _overflow(self, preview: bytes) -> None:
        self.busy = True
        if self._oversized is None:
            self._oversized = preview[:PREVIEW]
        self._data = []
        self._loose = 0
        self._size = 0

    def dispatch(self, frames: list[Frame], ended: bool = False) -> None:
        """The event is over: its frame, if it has one. ``ended``: cut off by the end of input,
        kept only if what arrived of its data is whole."""
        if self._oversized is not None:
            frames.append((self._name, self._oversized, True))
        elif self._data:
            data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            if self._accept(data) and (not ended or _whole(data)):
                frames.append((self._name, data, False))
        if self.busy:
            self._data = []
            self._loose = 0
            self._size = 0
            self._name = None
            self._oversized = None
            self.busy = False


def _whole(data: bytes) -> bool:
    """Complete JSON, or ``[DONE]``: what a server that closes without a blank line sent whole."""
    if data.strip() == DONE:
        return True
    try:
        _RAW.decode(data)
    except Exception:  # any failure (syntax, depth) means "not whole"
        return False
    return True


__all__ = ["DONE", "HEAD", "PREVIEW", "EventLines", "Frame", "accept", "accept_done"]
