"""How a large chunk is cut so that its first items are not late.

A 64 KiB read holds a couple of hundred events. Framed whole, its first item
waits until all of them went through the chain. Cut into pieces of 1, 4 and
16 events, its first items go on after one event's work; once 16 short
events went on, items flow and the rest goes in pieces of 64 KiB, where an
event costs least. Long events (over 1 KiB on average in a piece: a
message's ``.done`` events repeating its text) mostly give no item, so the
piece after them is one event again. The framer takes any cut, so a piece
that finds no blank line within 64 KiB is cut by its size.
"""

from collections.abc import Iterator

from ._sse import blank_line

#: Chunks longer than this are cut; shorter ones go whole.
PIECED = 8 * 1024
#: The largest piece, and the size of every piece once items flow.
LAST_PIECE = 64 * 1024
#: Events per piece, in turn, until items flow.
COUNTS = (1, 4, 16)
#: A piece whose events are this long on average holds no item, most likely.
LONG_EVENT = 1024


def first_pieces(chunk: bytes, lines: bool = False) -> Iterator[bytes]:
    """``chunk`` in pieces of 1, 4 and 16 events, then of 64 KiB; whole if ``PIECED`` or shorter.

    Events end at blank lines, or at line ends with ``lines`` (JSON Lines).
    """
    size = len(chunk)
    if size <= PIECED:
        yield chunk
        return
    start = turn = 0
    while start < size and turn < len(COUNTS):
        count = COUNTS[turn]
        limit = min(start + LAST_PIECE, size)
        end = start
        for _ in range(count):
            at = chunk.find(b"\n", end, limit) if lines else blank_line(chunk, end)
            if not 0 <= at < limit:
                break
            end = at + (1 if lines else 2)
        if end == start:
            end = limit  # no blank line near: cut by size
        yield chunk[start:end]
        turn = 0 if end - start > count * LONG_EVENT else turn + 1
        start = end
    for at in range(start, size, LAST_PIECE):
        yield chunk[at : at + LAST_PIECE]


def first_lines(chunk: bytes) -> Iterator[bytes]:
    """``first_pieces`` for JSON Lines, where an event is a line."""
    return first_pieces(chunk, lines=True)


__all__ = ["COUNTS", "LAST_PIECE", "LONG_EVENT", "PIECED", "first_lines", "first_pieces"]
