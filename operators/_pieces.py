"""How a large chunk is cut so that its first items are not late.

A 64 KiB read holds a couple of hundred events. Framed whole, its first item
waits until all of them went through the chain. Cut into pieces of 1, 4 and
16 KiB, then of 64 KiB, its first items go on after about a thousand bytes'
work, later ones never wait for more than 64 KiB of work, and most events
still travel in large pieces, where an event costs least. The framer takes
any cut, so the cuts need not fall between events.
"""

from collections.abc import Iterator

#: Chunks longer than this are cut; shorter ones go whole.
PIECED = 8 * 1024
#: The first piece; each later one is four times the one before, up to ``LAST_PIECE``.
FIRST_PIECE = 1024
LAST_PIECE = 64 * 1024


def first_pieces(chunk: bytes) -> Iterator[bytes]:
    """``chunk`` in pieces of 1, 4, 16 and 64 KiB (whole if ``PIECED`` or shorter).

    A last piece shorter than ``PIECED`` joins the one before it.
    """
    size = len(chunk)
    if size <= PIECED:
        yield chunk
        return
    start, step = 0, FIRST_PIECE
    while start + step < size - PIECED:
        yield chunk[start : start + step]
        start += step
        step = min(4 * step, LAST_PIECE)
    yield chunk[start:]


__all__ = ["FIRST_PIECE", "LAST_PIECE", "PIECED", "first_pieces"]
