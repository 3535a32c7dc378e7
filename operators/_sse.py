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
from reactivex.disposable import CompositeDisposable, Disposable

from ._events import DELTA_TYPES
from ._stage import GROUP, join_short_tail

#: Default cap on one event's data, and on any one line (SPEC §5).
DEFAULT_MAX_EVENT_BYTES = 128 * 1024 * 1024

Frame: TypeAlias = tuple[bytes | None, bytes, bool]
FrameFormat: TypeAlias = Literal["sse", "jsonl", "auto"]

_BOM = b"\xef\xbb\xbf"
#: How much of an oversized event we keep, to show in its decode error.
_PREVIEW = 256
#: A chunk larger than this is framed in pieces, so that its first items do
#: not wait for the whole chunk: pieces of 1, 4, 16, … whole events (the first
#: up to ``_WHOLE_EVENT`` bytes, the others within ``LATER_PIECE``) until ``_HURRY``
#: events went on, or a delta did (told by its SSE name, a hint only: ``decode``
#: reads the JSON ``type``), then of ``LATER_PIECE`` bytes. After long events
#: (over ``_LONG_EVENT`` bytes on average) the next piece is one event again:
#: long events mostly give no item (a message's ``.done`` events repeat its
#: text), and the first item after them must not wait behind the events that
#: follow. Once a delta went on, the chunk's first item is out, and small
#: pieces only cost: an event costs more in a small piece than in a large one
#: (64 KiB chunks of the benchmark stream took 12% longer through the chain in
#: pieces of 1, 4 and 16 events than whole; 2% with the delta rule).
PIECED = 8 * 1024
LATER_PIECE = 64 * 1024
_HURRY = 16
_LONG_EVENT = 1024
_WHOLE_EVENT = 4 * LATER_PIECE
#: Whole events shorter than this together are read block by block: for a
#: few events, reading their lines costs more than it saves.
_SHORT_BODY = 1024
#: A line at least this long (a ``.done`` event repeating a text) is read
#: faster in its block than by a split into lines, which reads byte by byte.
_LONG_LINE = 2048
#: How much of a line over the cap is read (its field name and preview).
_HEAD = 1024
#: A block longer than this (odd events only) is read line by line, not split.
_SPLIT = 64 * 1024
_RAW = msgspec.json.Decoder(msgspec.Raw)
#: In this many bytes or fewer, a two-byte search for a blank line costs less
#: than a loop of one-byte ones.
_SMALL = 2048
#: Held pieces shorter than ``_COPY`` are copied into one buffer, which joins
#: the held pieces at ``_BUFFER`` bytes: as an object of its own, a piece costs
#: about 40 bytes more than it holds (a one-byte chunk, 40 times its size). The
#: buffer is small beside any cap: it and its copy are all it adds to them.
_COPY = 512
_BUFFER = 16 * 1024


def _blank_line(data: bytes, end: int, start: int = 0) -> int:
    """Where the first ``\\n\\n`` in ``data[start:end]`` starts, or -1.

    One-byte searches are memchr-fast; a two-byte search reads every byte,
    which on a long event (a whole response, 80 KB) costs tens of µs.
    """
    size = len(data)
    if end >= size:
        if size - start <= _SMALL:  # a few bytes: one two-byte search costs less than the loop
            return data.find(b"\n\n", start)
        end = size
    at = data.find(b"\n", start, end)
    while 0 <= at < end - 1:
        if data[at + 1] == 0x0A:
            return at
        at = data.find(b"\n", at + 2, end)
    return -1


def _events_end(chunk: bytes, start: int, count: int) -> int:
    """Where the ``count``-th event from ``start`` ends, past its blank line.

    The first event is taken whole up to ``_WHOLE_EVENT`` bytes (framed at
    once, not held and joined again); the next ones only within
    ``LATER_PIECE`` bytes of ``start``. If the first does not end that soon:
    ``_WHOLE_EVENT`` bytes (a longer event is held piece by piece, and one
    over the cap never whole). Line ends are ``\n`` or ``\r\n``; found with
    one-byte searches, as above.
    """
    size = len(chunk)
    limit = min(start + _WHOLE_EVENT, size)  # for the first event
    end = start
    at = chunk.find(b"\n", start)
    while 0 <= at < limit - 1:
        after = chunk[at + 1]
        if after == 0x0A:
            end = at + 2
        elif after == 0x0D and chunk[at + 2 : at + 3] == b"\n":
            end = at + 3
        else:
            at = chunk.find(b"\n", at + 1, limit)
            continue
        count -= 1
        if not count:
            return end
        limit = min(start + LATER_PIECE, size)
        at = chunk.find(b"\n", end, limit)
    return end if end > start else limit


def _lines_end(chunk: bytes, start: int, count: int) -> int:
    """``_events_end`` for JSON Lines, where an event is a line."""
    size = len(chunk)
    at = chunk.find(b"\n", start, start + _WHOLE_EVENT)
    if at < 0:
        return min(start + _WHOLE_EVENT, size)
    end = at + 1
    limit = min(start + LATER_PIECE, size)
    while count > 1 and (at := chunk.find(b"\n", end, limit)) >= 0:
        end = at + 1
        count -= 1
    return end


def _last_blank_line(data: bytes, first: int) -> int:
    """Where the last ``\\n\\n`` in ``data`` starts, the first starting at ``first``.

    Backwards with one-byte searches too: a long event may begin after it.
    """
    if len(data) <= _SMALL:
        return data.rfind(b"\n\n")
    at = data.rfind(b"\n")
    while at > first + 1:
        if data[at - 1] == 0x0A:
            return at - 1
        at = data.rfind(b"\n", first, at - 1)
    return first


def _long_line(body: bytes) -> int:
    """A place inside a long line of ``body`` (a quarter, half or three quarters in), or -1.

    A probe, not a proof: bounded one-byte searches, so it costs little; a
    long line it misses only costs time.
    """
    size = len(body)
    for at in (size // 4, size // 2, size * 3 // 4):
        if at + _LONG_LINE < size and body.find(b"\n", at, at + _LONG_LINE) < 0:
            return at
    return -1


def _event_start(body: bytes, inside: int) -> int:
    """Where the event around ``inside`` starts, cut as ``split(b"\\n\\n")`` would; -1 if unsure.

    Backwards with one-byte searches: the last ``\\n\\n`` before ``inside`` is
    a cut if no ``\\n`` comes just before it (a longer run of them is left to
    the forward reading).
    """
    at = body.rfind(b"\n", 0, inside)
    while at > 0:
        if body[at - 1] == 0x0A:
            return at + 1 if at > 1 and body[at - 2] != 0x0A else -1
        at = body.rfind(b"\n", 0, at - 1)
    return 0 if at < 0 else -1


def _is_complete_json(data: bytes) -> bool:
    try:
        _RAW.decode(data)
    except Exception:  # any failure (syntax, depth) means "not complete"
        return False
    return True


_DONE = b"[DONE]"


def _accept(data: bytes) -> bool:
    """Whether an event with this data is dispatched (not empty, blank or ``[DONE]``)."""
    if data[:1] == b"{":
        return True
    stripped = data.strip()
    return bool(stripped) and stripped != _DONE


def _accept_done(data: bytes) -> bool:
    """Whether an event with this data is dispatched when ``[DONE]`` is passed on."""
    return data[:1] == b"{" or bool(data.strip())


def _settle(pieces: list[bytes], small: bytearray) -> None:
    """Short held pieces, copied into ``small``, join ``pieces`` as one."""
    pieces.append(bytes(small))
    small.clear()


def _head(pieces: list[bytes], cap: int) -> bytes:
    """The start of a line over the cap: as much as its error may show, never the whole.

    However the input is split, at least ``cap + 1`` bytes of such a line are
    seen, so what is kept from them is the same for every split.
    """
    want = min(cap + 1, _HEAD)
    kept: list[bytes] = []
    for piece in pieces:
        kept.append(piece[:want])
        want -= len(kept[-1])
        if want <= 0:
            break
    return b"".join(kept)


class _Prep:
    """Drops a leading BOM; turns ``\\r\\n`` and ``\\r`` into ``\\n``."""

    __slots__ = ("_bom_seen", "_crlf", "_skip_lf", "busy")

    def __init__(self, crlf: bool) -> None:
        self._crlf = crlf  # False: leave "\r" alone (JSON Lines splits on "\n" only)
        self._skip_lf = False  # the last chunk ended with "\r": a "\n" next is its pair
        self._bom_seen: bytes | None = b""  # None once the start of input is past
        #: False when a chunk without "\r" passes unchanged (callers may skip ``feed``).
        self.busy = True

    def feed(self, chunk: bytes) -> bytes:
        if self._bom_seen is not None:
            # NOTE: the byte-order mark may itself arrive split across chunks.
            head = self._bom_seen + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._bom_seen = head
                return b""
            self._bom_seen = None
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if self._crlf and 0x0D in chunk:
            # NOTE: a trailing "\r" may be half of a "\r\n" split across chunks.
            self._skip_lf = chunk[-1] == 0x0D
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self.busy = self._bom_seen is not None or self._skip_lf
        return chunk

    def flush(self) -> bytes:
        """Bytes held back at the very start (input shorter than a byte-order mark)."""
        head, self._bom_seen = self._bom_seen or b"", None
        return head


class SSEFramer:
    """Incremental SSE framing with no I/O: ``decode(chunk)`` → frames, ``flush()`` at the end.

    Input is cut into events at blank lines (``\n\n`` once line ends are
    normalized). An event in the usual shape (``event: …`` then one
    ``data: …`` line, or one ``data: …`` line) is framed without looking at
    its lines one by one; anything else goes through the general line rules.
    Bytes of an unfinished event are held, up to the cap: past it, its
    complete lines are read and the rest of an over-long line is dropped.
    Short reads are held copied together, so that an event read one byte at a
    time costs what it costs in large reads (SPEC §2, invariant 10).
    """

    __slots__ = (
        "_accept",
        "_cap",
        "_data",
        "_discarding",
        "_hold_cap",
        "_loose",
        "_name",
        "_oversized",
        "_prep",
        "_raw",
        "_raw_nl",
        "_raw_size",
        "_size",
        "_small",
    )

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._accept = _accept_done if done else _accept
        self._cap = max_event_bytes
        self._prep = _Prep(crlf=True)
        # Bytes of the unfinished event not yet read as lines.
        self._raw: list[bytes] = []
        self._small = bytearray()  # short pieces after ``_raw``'s (never without them)
        self._raw_size = 0
        self._raw_nl = False  # the held bytes end with "\n"
        self._discarding = False  # inside a line over the cap, dropping until its end
        # Held bytes past this are read as lines: the cap, or 0 while an event
        # over it is read line by line (its later lines are not held again).
        self._hold_cap = max_event_bytes
        # The event being read line by line (general rules).
        self._data: list[bytes] = []  # its data lines: the first alone, short ones in groups
        self._loose = 0  # data lines after the first not yet grouped
        self._size = 0
        self._name: bytes | None = None
        self._oversized: bytes | None = None  # first bytes of an event over the cap

    def decode(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        if self._prep.busy or 0x0D in chunk:
            chunk = self._prep.feed(chunk)
        if not chunk:
            return frames
        if self._discarding:
            if 0x0A not in chunk:
                return frames
            self._discarding = False
            chunk = chunk[chunk.index(b"\n") + 1 :]
        # ``first`` and ``last``: where the first and the last blank line start.
        if self._raw:
            if 0x0A not in chunk:  # more of a line (small chunks: the usual case)
                size = self._raw_size + len(chunk)
                if size <= self._cap:
                    if len(chunk) < _COPY:
                        small = self._small
                        small += chunk
                        if len(small) >= _BUFFER:
                            _settle(self._raw, small)
                    else:
                        if self._small:
                            _settle(self._raw, self._small)
                        self._raw.append(chunk)
                    self._raw_size = size
                    self._raw_nl = False
                    return frames
            if len(chunk) <= _SMALL:  # two-byte searches, without the calls
                first = last = chunk.find(b"\n\n")
                if first >= 0:
                    last = chunk.rfind(b"\n\n")
            else:
                first = last = _blank_line(chunk, len(chunk))
                if first >= 0:
                    last = _last_blank_line(chunk, first)
            if self._raw_nl and chunk[:1] == b"\n":
                first = -1  # the held bytes end a line, and this chunk starts with a blank one
                last = max(last, first)
            elif first < 0:
                self._hold(chunk, frames)
                return frames
            # Held bytes have no blank line: the first one is in or at the chunk.
            # The first event is joined from them (its one copy), unless it is
            # over the cap; the rest of the chunk is read in place.
            if self._small:
                _settle(self._raw, self._small)
            held = self._raw
            size = self._raw_size + first
            self._raw = []
            self._raw_size = 0
            if size > self._hold_cap:
                # Longer than the cap, or already read in part: read line by line
                # (each piece let go once read), never joined whole.
                if first >= 0:
                    held.append(chunk[: first + 1])
                self._read_lines(held, frames)
                self._dispatch(frames)
            else:
                if first < 0:  # it ends with the held bytes, but for their last "\n"
                    held[-1] = held[-1][:-1]  # a copy of that piece, not of the joined event
                    block = b"".join(held)
                elif len(held) == 1:
                    block = held[0] + chunk[:first]
                else:
                    block = b"".join([*held, memoryview(chunk)[:first]])
                held.clear()  # joined: the pieces go before the block is read
                # The first event may continue one read line by line.
                self._block(block, frames)
                del block
        else:
            while chunk[:1] == b"\n":  # a blank line at the start of a line: end of event
                self._dispatch(frames)
                chunk = chunk[1:]
            first = _blank_line(chunk, len(chunk))
            if first < 0:
                if chunk:
                    self._hold(chunk, frames)
                return frames
            last = _last_blank_line(chunk, first)
            self._first_block(chunk, first, frames)
        # After the first event, every event starts afresh.
        if last > first + 1:
            body = chunk[first + 2 : last]
            if len(body) > _SHORT_BODY:
                self._events(body, frames)
            else:  # a few events, block by block (as ``_events`` would)
                for block in body.split(b"\n\n"):
                    self._block(block, frames)
        rest = chunk[last + 2 :]
        if rest:
            self._hold(rest, frames)
        return frames

    def _events(self, body: bytes, frames: list[Frame]) -> None:
        """Whole events, each starting afresh, ``\n\n`` between them (none at the end)."""
        # NOTE: slices, partition and ``int in bytes``, not startswith, find or
        # ``bytes in bytes``: on CPython 3.11 those parse their arguments the slow
        # way (``bytes in bytes`` even raises and clears an error first).
        if _SHORT_BODY < len(body) <= self._cap:
            inside = _long_line(body)
            if inside >= 0 and (start := _event_start(body, inside)) >= 0:
                # A long event (a ``.done`` repeating a text) is read as a block:
                # a split into lines reads it byte by byte. The events around it
                # are read as usual. (Where its start is unsure, the general
                # reading below takes the whole body.)
                if start:
                    self._events(body[: start - 2], frames)
                end = _blank_line(body, len(body), inside)
                self._block(body[start:end] if end >= 0 else body[start:], frames)
                if end >= 0:
                    self._events(body[end + 2 :], frames)
                return
            # The usual shape, a run of "event: …" + "data: …" (or "data: …"
            # alone): split into lines (a one-byte split is the fastest) and read
            # every third (second) line, falling back at the first odd one.
            named = body[:7] == b"event: "
            if named or body[:6] == b"data: ":
                lines = body.split(b"\n")
                stride = 3 if named else 2
                if len(lines) % stride == stride - 1 and not any(lines[stride - 1 :: stride]):
                    mark = len(frames)
                    if named:
                        for head, line in zip(lines[::3], lines[1::3], strict=True):
                            if head[:7] != b"event: " or line[:6] != b"data: ":
                                break
                            data = line[6:]
                            if data[:1] == b"{" or self._accept(data):
                                frames.append((head[7:], data, False))
                        else:
                            return
                    else:
                        for line in lines[::2]:
                            if line[:6] != b"data: ":
                                break
                            data = line[6:]
                            if data[:1] == b"{" or self._accept(data):
                                frames.append((None, data, False))
                        else:
                            return
                    del frames[mark:]  # an odd event: read them all the general way
        for block in body.split(b"\n\n"):
            self._block(block, frames)

    def flush(self) -> list[Frame]:
        """Frames still pending at the end of input (an unterminated last event)."""
        frames = self.decode(self._prep.flush())
        self._discarding = False  # an over-long last line ends with the input
        if self._raw:
            if self._small:
                _settle(self._raw, self._small)
            held = self._raw
            self._raw = []
            self._raw_size = 0
            parts, size = self._read_lines(held, frames)
            if size:
                self._last_line(parts, size, frames)
        if self._oversized is not None:
            frames.append((self._name, self._oversized, True))
        elif self._data:
            data = b"\n".join(self._data)
            # Real servers close without the final blank line: keep the event
            # if what arrived of it is whole.
            if self._accept(data) and (_is_complete_json(data) or data.strip() == _DONE):
                frames.append((self._name, data, False))
        self._reset()
        return frames

    def _hold(self, piece: bytes, frames: list[Frame]) -> None:
        held = self._raw
        if not held:  # then nothing is in the buffer either
            held.append(piece)
        elif len(piece) < _COPY:
            small = self._small
            small += piece
            if len(small) >= _BUFFER:
                _settle(held, small)
        else:
            if self._small:
                _settle(held, self._small)
            held.append(piece)
        self._raw_size += len(piece)
        self._raw_nl = piece[-1] == 0x0A
        if self._raw_size <= self._hold_cap:
            return
        # Too much for one event, or one already read in part: read its complete
        # lines now, and of a last line over the cap keep only its start.
        if self._small:
            _settle(held, self._small)
        self._raw = []
        self._raw_size = 0
        self._raw_nl = False
        parts, size = self._read_lines(held, frames)
        if size > self._cap:
            self._line(_head(parts, self._cap), frames, over=True)
            self._discarding = True
        elif size:
            self._raw = parts
            self._raw_size = size
        if self._in_event():
            self._hold_cap = 0  # read in part: its later lines are read as they come

    def _in_event(self) -> bool:
        """Whether an event is being read line by line (a name, data or its overflow seen)."""
        return bool(self._data) or self._name is not None or self._oversized is not None

    def _last_line(self, parts: list[bytes], size: int, frames: list[Frame]) -> None:
        """The rest ``_read_lines`` left, read as the last line (from its head if over the cap)."""
        if size > self._cap:
            self._line(_head(parts, self._cap), frames, over=True)
        else:
            self._line(b"".join(parts), frames)

    def _read_lines(self, pieces: list[bytes], frames: list[Frame]) -> tuple[list[bytes], int]:
        """Reads the complete lines of ``pieces`` one by one; the parts and size of the rest.

        For an event longer than the cap: each piece is let go once read, and
        of a line over the cap only its head is copied, so that what is held
        never grows past the held bytes themselves.
        """
        cap = self._cap
        parts: list[bytes] = []  # the line being read (only its head, once over the cap)
        size = 0  # its whole length so far
        for index, piece in enumerate(pieces):
            pieces[index] = b""
            start = 0
            while (end := piece.find(b"\n", start)) >= 0:
                size += end - start
                if size > cap:
                    self._line(_head([*parts, piece[start : start + _HEAD]], cap), frames, True)
                else:
                    line = piece[start:end]
                    self._line(b"".join([*parts, line]) if parts else line, frames)
                parts = []
                size = 0
                start = end + 1
            rest = len(piece) - start
            if rest:
                if size + rest <= cap:
                    parts.append(piece[start:] if start else piece)
                elif size <= cap:  # the line goes over the cap here: its head is enough
                    parts = [_head([*parts, piece[start : start + _HEAD]], cap)]
                size += rest
        return parts, size

    def _first_block(self, chunk: bytes, end: int, frames: list[Frame]) -> None:
        """``_block(chunk[:end])``, with one copy of the data in the usual shape, not two."""
        # ``_in_event()``, written out: a call here costs 1.7% on 512-byte chunks.
        if end <= self._cap and not (
            self._data or self._name is not None or self._oversized is not None
        ):
            if chunk[:7] == b"event: ":
                at = chunk.find(b"\ndata: ", 7, end)
                if at > 0 and chunk.find(b"\n", 7, at) < 0 and chunk.find(b"\n", at + 7, end) < 0:
                    data = chunk[at + 7 : end]
                    if data[:1] == b"{" or self._accept(data):
                        frames.append((chunk[7:at], data, False))
                    return
            elif chunk[:6] == b"data: " and chunk.find(b"\n", 6, end) < 0:
                data = chunk[6:end]
                if data[:1] == b"{" or self._accept(data):
                    frames.append((None, data, False))
                return
        self._block(chunk[:end], frames)

    def _block(self, block: bytes, frames: list[Frame]) -> None:
        """One event's lines, ended by a blank line."""
        if len(block) <= self._cap and not (  # ``_in_event()``, written out as above
            self._data or self._name is not None or self._oversized is not None
        ):
            # A fresh event in the usual shape is framed without the line rules
            # (and with one copy of its data: the block may be a large event).
            head, named, data = block.partition(b"\ndata: ")
            if named:
                if head[:7] == b"event: " and 0x0A not in head and 0x0A not in data:
                    if data[:1] == b"{" or self._accept(data):
                        frames.append((head[7:], data, False))
                    return
            elif head[:6] == b"data: " and 0x0A not in head:
                data = head[6:]
                if data[:1] == b"{" or self._accept(data):
                    frames.append((None, data, False))
                return
        if len(block) > _SPLIT:
            # Not split whole: a split makes an object of every line, many times
            # the block for short lines; and a line over the cap is read from its head.
            parts, size = self._read_lines([block], frames)
            self._last_line(parts, size, frames)
        else:
            for line in block.split(b"\n"):
                self._line(line, frames)
        self._dispatch(frames)

    def _line(self, line: bytes, frames: list[Frame], over: bool = False) -> None:
        too_long = over or len(line) > self._cap
        if too_long:
            # However the input is split, at least ``cap + 1`` bytes of a line
            # over the cap are seen: read its field and preview from just those.
            line = line[: self._cap + 1]
        if line.startswith(b"data:"):
            self._data_line(line[6:] if line[5:6] == b" " else line[5:], too_long)
        elif not line:
            self._dispatch(frames)
        elif line[0] == 0x3A:  # ":" comment
            return
        else:
            colon = line.find(b":")
            field = line if colon < 0 else line[:colon]
            value = b"" if colon < 0 else line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
            if field == b"data":  # "data" with no colon: an empty data line
                self._data_line(value, too_long)
            elif field == b"event":
                if too_long:
                    self._overflow(b"")
                else:
                    self._name = value
            # id, retry and unknown fields are read and ignored; over the cap,
            # they are dropped silently.

    def _data_line(self, value: bytes, too_long: bool) -> None:
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
        if len(data) > 1:  # the first line stays alone: it is the preview if over the cap
            self._loose += 1
            if self._loose == GROUP:
                join_short_tail(data, b"\n")
                self._loose = 0

    def _overflow(self, preview: bytes) -> None:
        if self._oversized is None:
            self._oversized = preview[:_PREVIEW]
        self._data = []
        self._loose = 0
        self._size = 0

    def _dispatch(self, frames: list[Frame]) -> None:
        if self._oversized is not None:
            frames.append((self._name, self._oversized, True))
        elif self._data:
            data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            if self._accept(data):
                frames.append((self._name, data, False))
        self._reset()

    def _reset(self) -> None:
        self._hold_cap = self._cap
        self._data = []
        self._loose = 0
        self._size = 0
        self._name = None
        self._oversized = None


class JSONLinesFramer:
    """One event's data per line, as some tools record streams; same caps as SSE."""

    __slots__ = ("_accept", "_cap", "_discarding", "_parts", "_prep", "_size", "_small")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._accept = _accept_done if done else _accept
        self._cap = max_event_bytes
        self._prep = _Prep(crlf=False)
        self._parts: list[bytes] = []  # the unfinished last line
        self._small = bytearray()  # its short pieces after ``_parts``' (as in SSEFramer)
        self._size = 0
        self._discarding = False  # inside a line over the cap, dropping until its end

    def decode(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        chunk = self._prep.feed(chunk)
        if not chunk:
            return frames
        lines = chunk.split(b"\n")
        rest = lines.pop()
        if lines:
            if self._discarding:
                self._discarding = False
                del lines[0]
            elif self._parts:
                parts = self._parts
                if self._small:
                    _settle(parts, self._small)
                parts.append(lines[0])
                if self._size + len(lines[0]) > self._cap:  # over the cap: not joined whole
                    self._line(_head(parts, self._cap), frames, over=True)
                    del lines[0]
                else:
                    lines[0] = b"".join(parts)
                self._parts = []
                self._size = 0
            for line in lines:
                self._line(line, frames)
        if rest and not self._discarding:
            parts = self._parts
            if parts and len(rest) < _COPY:
                small = self._small
                small += rest
                if len(small) >= _BUFFER:
                    _settle(parts, small)
            else:
                if self._small:
                    _settle(parts, self._small)
                parts.append(rest)
            self._size += len(rest)
            if self._size > self._cap:
                if self._small:
                    _settle(parts, self._small)
                self._line(_head(parts, self._cap), frames, over=True)
                self._parts = []
                self._size = 0
                self._discarding = True
        return frames

    def flush(self) -> list[Frame]:
        frames = self.decode(self._prep.flush())
        if self._parts:
            if self._small:
                _settle(self._parts, self._small)
            self._line(b"".join(self._parts), frames)
            self._parts = []
            self._size = 0
        self._discarding = False
        return frames

    def _line(self, line: bytes, frames: list[Frame], over: bool = False) -> None:
        if over or len(line) > self._cap:
            frames.append((None, line[: min(self._cap + 1, _PREVIEW)], True))
            return
        if line[-1:] == b"\r":
            line = line[:-1]
        if self._accept(line):
            frames.append((None, line, False))


#: Bytes that may come before the first one that tells the framing (§3.4).
_BLANK = b" \t\r\n\xef\xbb\xbf"
#: Leading blank bytes held at most while the framing is not known.
_AUTO_HOLD = 64 * 1024


class AutoFramer:
    """The framing told by the first byte that is not whitespace nor a byte-order mark:
    ``{`` → JSON Lines, else SSE. Until it comes, the blank bytes are held (their
    last line only, past a bound: earlier blank lines frame to nothing either way)."""

    __slots__ = ("_cap", "_done", "_framer", "_held")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._cap = max_event_bytes
        self._done = done
        self._framer: SSEFramer | JSONLinesFramer | None = None
        self._held = b""

    @property
    def format(self) -> FrameFormat | None:
        """``"sse"`` or ``"jsonl"`` once told, else ``None``."""
        if self._framer is None:
            return None
        return "jsonl" if isinstance(self._framer, JSONLinesFramer) else "sse"

    def decode(self, chunk: bytes) -> list[Frame]:
        framer = self._framer
        if framer is not None:
            return framer.decode(chunk)
        held = self._held + chunk
        first = held.lstrip(_BLANK)
        if not first:
            if len(held) > _AUTO_HOLD:
                cut = max(held.rfind(b"\n"), held.rfind(b"\r"))
                held = held[cut + 1 :] if cut >= 0 else held
            if len(held) <= _AUTO_HOLD:
                self._held = held
                return []
        self._held = b""
        make = JSONLinesFramer if first[:1] == b"{" else SSEFramer
        framer = self._framer = make(self._cap, self._done)
        return framer.decode(held)

    def flush(self) -> list[Frame]:
        framer = self._framer or SSEFramer(self._cap, self._done)
        self._held = b""
        return framer.flush()


def frame_(
    format: FrameFormat = "sse", max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False
) -> Callable[[Observable[bytes]], Observable[list[Frame]]]:
    make: Callable[[int, bool], SSEFramer | JSONLinesFramer | AutoFramer]
    if format == "sse":
        make, events_end = SSEFramer, _events_end
    elif format == "jsonl":
        make, events_end = JSONLinesFramer, _lines_end
    elif format == "auto":
        make, events_end = AutoFramer, _events_end
    else:
        raise ValueError(f"unknown format {format!r} (expected 'sse', 'jsonl' or 'auto')")
    if max_event_bytes < 1:
        raise ValueError("max_event_bytes must be positive")

    def _frame(source: Observable[bytes]) -> Observable[list[Frame]]:
        def subscribe(
            observer: abc.ObserverBase[list[Frame]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            framer = make(max_event_bytes, done)  # one framer per subscription
            stopped = False

            def on_next(chunk: bytes) -> None:
                if len(chunk) > PIECED:
                    pieces(chunk)
                    return
                try:
                    frames = framer.decode(chunk)
                except Exception as exc:  # a bug, not a stream fault: report it
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)

            def pieces(chunk: bytes) -> None:
                # A large chunk goes on in pieces of 1, 4, 16, … events, so that the
                # first items reach the subscriber at once, then in large ones.
                size = len(chunk)
                start = 0
                count = 1  # events in the next piece
                passed = 0  # frames passed on from this chunk
                while start < size and not stopped:
                    if passed < _HURRY:
                        end = events_end(chunk, start, count)
                        count = 1 if end - start > count * _LONG_EVENT else 4 * count
                    else:
                        end = start + LATER_PIECE
                    try:
                        frames = framer.decode(chunk[start:end])
                    except Exception as exc:
                        observer.on_error(exc)
                        return
                    if frames:
                        passed += len(frames)
                        if passed < _HURRY and any(frame[0] in DELTA_TYPES for frame in frames):
                            passed = _HURRY  # items flow: the rest goes in large pieces
                        observer.on_next(frames)
                    start = end

            def on_completed() -> None:
                try:
                    frames = framer.flush()
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)
                observer.on_completed()

            def stop() -> None:
                nonlocal stopped
                stopped = True

            return CompositeDisposable(
                source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler),
                Disposable(stop),
            )

        return Observable(subscribe)

    return _frame


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "AutoFramer",
    "Frame",
    "FrameFormat",
    "JSONLinesFramer",
    "SSEFramer",
    "frame_",
]
