"""Bytes → frames: incremental server-sent-events framing, and its JSON Lines twin.

The rules are WHATWG's event-stream parsing
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
applied to bytes so that a chunk split anywhere, even inside a UTF-8
character or between ``\\r`` and ``\\n``, gives the same frames.

The shape of the data flow is the speed: each chunk is cut once, at its last
blank line; the whole events before it are split apart in one call, and each
in the usual shape is framed by a few slices. Only the bytes after the last
blank line are held, in one growing buffer, so reading one byte at a time
costs no more memory than large reads (SPEC §2, invariant 10).
"""

from typing import Literal, TypeAlias

from ._sse_lines import HEAD, PREVIEW, EventLines, Frame, accept, accept_done

#: Default cap on one event's data, and on any one line (SPEC §5).
DEFAULT_MAX_EVENT_BYTES = 128 * 1024 * 1024
#: An unfinished event held longer than this is read line by line as it
#: comes, so that its data (kept up to the cap) and its held bytes are never
#: both whole in memory.
LONG_EVENT = 64 * 1024

FrameFormat: TypeAlias = Literal["sse", "jsonl", "auto"]

_BOM = b"\xef\xbb\xbf"
#: Up to this many bytes, one two-byte search costs less than a loop of one-byte ones.
_SHORT = 2048


def blank_line(data: bytes | bytearray, start: int = 0) -> int:
    """Where the first ``\\n\\n`` at or after ``start`` begins, or -1.

    One-byte searches are memchr-fast; a two-byte one reads every byte, which
    on a long event (a whole response, 80 KB) costs tens of µs.
    """
    if len(data) - start <= _SHORT:
        return data.find(b"\n\n", start)
    at = data.find(b"\n", start)
    while at >= 0:
        if data[at + 1 : at + 2] == b"\n":
            return at
        at = data.find(b"\n", at + 2)
    return -1


def last_blank_line(data: bytes, start: int = 0) -> int:
    """Where the last ``\\n\\n`` at or after ``start`` begins, or -1 (one-byte searches too)."""
    if len(data) - start <= _SHORT:
        return data.rfind(b"\n\n", start)
    at = data.rfind(b"\n", start)
    while at > start:
        if data[at - 1] == 0x0A:
            return at - 1
        at = data.rfind(b"\n", start, at - 1)
    return -1


class _Prep:
    """What comes before framing: a leading byte-order mark dropped, ``\\r\\n`` and ``\\r``
    turned into ``\\n``, and the rest of a line over the cap dropped (``discard``)."""

    __slots__ = ("_bom_seen", "_crlf", "_discarding", "_skip_lf", "busy")

    def __init__(self, crlf: bool) -> None:
        self._crlf = crlf  # False: leave "\r" alone (JSON Lines splits on "\n" only)
        self._skip_lf = False  # the last chunk ended with "\r": a "\n" next is its pair
        self._bom_seen: bytes | None = b""  # None once the start of input is past
        self._discarding = False  # inside a line over the cap, dropping it to its end
        #: False when a chunk without "\r" passes unchanged (callers may skip ``feed``).
        self.busy = True

    def discard(self) -> None:
        """Drop what comes up to the end of the current line (a line over the cap)."""
        self._discarding = self.busy = True

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
        if self._discarding:
            end = chunk.find(b"\n")
            chunk = b"" if end < 0 else chunk[end + 1 :]
            self._discarding = end < 0
        self.busy = self._bom_seen is not None or self._skip_lf or self._discarding
        return chunk

    def flush(self) -> bytes:
        """Bytes held back at the very start (input shorter than a byte-order mark)."""
        head, self._bom_seen = self._bom_seen or b"", None
        self._discarding = False  # an over-long last line ends with the input
        return head


class SSEFramer:
    """Incremental SSE framing with no I/O: ``decode(chunk)`` → frames, ``flush()`` at the end.

    Held bytes never contain a blank line: they are the start of the next
    event. Past ``LONG_EVENT`` bytes they are read line by line as they come
    (``EventLines``); a line over the cap is read from its head and the rest
    of it dropped, so nothing is held past the cap.
    """

    __slots__ = (
        "_accept",
        "_cap",
        "_first_limit",
        "_held",
        "_limit",
        "_lines",
        "_prep",
        "_seen",
    )

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._accept = accept_done if done else accept
        self._cap = max_event_bytes
        self._prep = _Prep(crlf=True)
        self._lines = EventLines(max_event_bytes, done)
        self._held = bytearray()
        self._seen = 0  # held bytes known to hold no line end (after a reading of its lines)
        self._first_limit = min(LONG_EVENT, max_event_bytes)
        self._limit = self._first_limit  # held past this: read its lines now

    def decode(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        held = self._held
        if len(chunk) > LONG_EVENT and len(held) + len(chunk) > self._cap:
            # Taken in slices, so that no more than the cap is ever held.
            for at in range(0, len(chunk), LONG_EVENT):
                frames += self.decode(chunk[at : at + LONG_EVENT])
            return frames
        if self._prep.busy or 0x0D in chunk:
            chunk = self._prep.feed(chunk)
            if not chunk:
                return frames
        start = 0  # where the events of the chunk that start afresh begin
        if held:
            if 0x0A not in chunk:  # more of a line (small reads: the usual case)
                held += chunk
                if len(held) > self._limit:
                    self._read_held(frames)
                return frames
            if held[-1] == 0x0A and chunk[0] == 0x0A:
                end = -1  # the blank line starts with the held bytes' last line end
            else:
                end = blank_line(chunk)
                if end < 0:
                    self._hold(chunk, frames)
                    return frames
            if self._lines.busy or len(held) + end > self._cap:
                # Under way, or perhaps over the cap: read by lines, never joined whole.
                held += chunk[: end + 1]
                self._read_held(frames)
                self._lines.dispatch(frames)
                self._release()
                start = end + 2
            else:
                # The held event and the chunk's whole events after it as one text;
                # a long held event alone (a split would copy it again).
                whole = len(held) <= LONG_EVENT
                last = last_blank_line(chunk) if whole else end
                if last < 0:
                    del held[-1]  # (not sliced off: that would be a second copy)
                    text = bytes(held)
                else:
                    text = b"".join((held, chunk[:last]))
                self._release()  # before the text is read: one copy alive, not two
                # (A long one alone: no split, which would read it all again.)
                self._events(text.split(b"\n\n") if whole else [text], len(text), frames)
                del text
                start = last + 2
                if whole:  # the chunk's last blank line is behind
                    if start < len(chunk):
                        self._hold(chunk[start:], frames)
                    return frames
        elif chunk[:1] == b"\n" and self._lines.busy:  # a blank line ends the event read so far
            self._lines.dispatch(frames)
            start = 1
        end = last_blank_line(chunk, start)
        if end >= 0:
            self._events(chunk[start:end].split(b"\n\n"), end - start, frames)
            start = end + 2
        if start < len(chunk):
            self._hold(chunk[start:] if start else chunk, frames)
        return frames

    def _hold(self, piece: bytes, frames: list[Frame]) -> None:
        held = self._held
        held += piece
        if len(held) > self._limit:
            self._read_held(frames)

    def _release(self) -> None:
        """The held bytes are read: the next event starts afresh."""
        self._held.clear()
        self._seen = 0
        self._limit = self._first_limit

    def _events(self, blocks: list[bytes], size: int, frames: list[Frame]) -> None:
        """Whole events (``size`` bytes in all), each without its blank line; the first may
        continue one under way."""
        if self._lines.busy or size > self._cap:
            for block in blocks:
                self._odd(block, frames)
            return
        accept = self._accept
        append = frames.append
        for block in blocks:
            # The usual shape, framed by slices; anything else by the line rules.
            head, named, data = block.partition(b"\ndata: ")
            if named:
                if head[:7] == b"event: " and 0x0A not in head and 0x0A not in data:
                    if data[:1] == b"{" or accept(data):
                        append((head[7:], data, False))
                    continue
            elif head[:6] == b"data: " and 0x0A not in head:
                data = head[6:]
                if data[:1] == b"{" or accept(data):
                    append((None, data, False))
                continue
            self._odd(block, frames)

    def _odd(self, block: bytes, frames: list[Frame]) -> None:
        """One event's lines by the general rules, ended by a blank line."""
        lines = self._lines
        for line in block.split(b"\n"):
            lines.line(line, frames)
        lines.dispatch(frames)

    def _read_held(self, frames: list[Frame]) -> None:
        """Reads the held bytes' complete lines now; of a last line over the cap, only its head."""
        held = self._held
        cap = self._cap
        lines = self._lines
        last = held.rfind(b"\n", self._seen)
        if last >= 0:
            start = 0
            with memoryview(held) as view:
                while start <= last:
                    end = held.find(b"\n", start)
                    if end - start > cap:
                        lines.line(bytes(view[start : start + min(cap + 1, HEAD)]), frames, True)
                    elif held.startswith(b"data:", start, end):  # its value, with one copy
                        value = start + (6 if held.startswith(b" ", start + 5, end) else 5)
                        lines.data(bytes(view[value:end]))
                    else:
                        lines.line(bytes(view[start:end]), frames)
                    start = end + 1
            del held[: last + 1]
        if len(held) > cap:
            lines.line(bytes(held[: min(cap + 1, HEAD)]), frames, True)
            held.clear()
            self._prep.discard()
        self._seen = len(held)
        # Under way, its later lines are read as they come: not held up to the cap again.
        self._limit = min(len(held) + (0 if lines.busy else LONG_EVENT), cap)

    def flush(self) -> list[Frame]:
        """Frames still pending at the end of input (an unterminated last event)."""
        frames = self.decode(self._prep.flush())
        held = self._held
        if held:
            self._read_held(frames)
            self._prep.flush()  # the end of input ends a line over the cap too
            if held:
                self._lines.line(bytes(held), frames)
                held.clear()
        self._lines.dispatch(frames, ended=True)
        self._release()
        return frames


class JSONLinesFramer:
    """One event's data per line, as some tools record streams; same caps as SSE."""

    __slots__ = ("_accept", "_cap", "_held", "_prep")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, done: bool = False) -> None:
        if max_event_bytes < 1:
            raise ValueError("max_event_bytes must be positive")
        self._accept = accept_done if done else accept
        self._cap = max_event_bytes
        self._prep = _Prep(crlf=False)
        self._held = bytearray()  # the unfinished last line

    def decode(self, chunk: bytes) -> list[Frame]:
        frames: list[Frame] = []
        if self._prep.busy:
            chunk = self._prep.feed(chunk)
        held = self._held
        end = chunk.rfind(b"\n")
        if end < 0:
            held += chunk
        else:
            start = 0
            if held:  # the held line ends at the chunk's first line end
                start = chunk.find(b"\n")
                if len(held) + start > self._cap:  # never joined whole
                    self._line((bytes(held[:HEAD]) + chunk[:HEAD])[:HEAD], frames, over=True)
                else:
                    self._line(b"".join((held, chunk[:start])), frames)
                held.clear()
                start += 1
            if start <= end:
                for line in chunk[start:end].split(b"\n"):
                    self._line(line, frames)
            held += chunk[end + 1 :]
        if len(held) > self._cap:  # a line over the cap: its head, then the rest dropped
            self._line(bytes(held[:HEAD]), frames, over=True)
            held.clear()
            self._prep.discard()
        return frames

    def flush(self) -> list[Frame]:
        frames = self.decode(self._prep.flush())
        if self._held:
            self._line(bytes(self._held), frames)
            self._held.clear()
        return frames

    def _line(self, line: bytes, frames: list[Frame], over: bool = False) -> None:
        if over or len(line) > self._cap:
            frames.append((None, line[: min(self._cap + 1, PREVIEW)], True))
            return
        if line[-1:] == b"\r":
            line = line[:-1]
        if self._accept(line):
            frames.append((None, line, False))


#: Whitespace before the first byte that tells the framing (§3.4): JSON's and SSE's
#: (not form feed nor vertical tab).
_BLANK = b" \t\r\n"
#: Leading blank bytes held at most while the framing is not known.
_AUTO_HOLD = 64 * 1024


def sniff(head: bytes) -> tuple[Literal["sse", "jsonl"] | None, bytes]:
    """The framing told by ``head``, the first bytes of an input (SPEC §3.4).

    ``"jsonl"`` if the first byte that is neither whitespace nor part of a
    byte-order mark is ``{``, ``"sse"`` for any other. ``None`` until such a
    byte came, with what must be read again with the next bytes (the start of
    a byte-order mark cut at the end of ``head``).
    """
    rest = head.lstrip(_BLANK)
    while rest[:3] == _BOM:
        rest = rest[3:].lstrip(_BLANK)
    if not rest:
        return None, b""
    if len(rest) < 3 and _BOM.startswith(rest):
        return None, rest
    return ("jsonl" if rest[0] == 0x7B else "sse"), b""


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
        found, _ = sniff(held)
        if found is None:
            if len(held) > _AUTO_HOLD:
                cut = max(held.rfind(b"\n"), held.rfind(b"\r"))
                held = held[cut + 1 :] if cut >= 0 else held
            if len(held) <= _AUTO_HOLD:
                self._held = held
                return []
        self._held = b""
        make = JSONLinesFramer if found == "jsonl" else SSEFramer
        framer = self._framer = make(self._cap, self._done)
        return framer.decode(held)

    def flush(self) -> list[Frame]:
        framer = self._framer or SSEFramer(self._cap, self._done)
        self._held = b""
        return framer.flush()


__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "AutoFramer",
    "Frame",
    "FrameFormat",
    "JSONLinesFramer",
    "SSEFramer",
    "sniff",
]
