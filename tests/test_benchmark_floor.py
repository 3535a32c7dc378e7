"""The benchmarks' floor gives the library's items: its ratios compare like with like.

``benchmarks.throughput`` and ``benchmarks.http`` check this on every run for
the chunkings they use; here it holds for any chunking, read at once (the
throughput floor) or event by event as found (the latency floor).
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from rxresponses.operators import Item

from benchmarks.floor import FloorReader, run_floor
from benchmarks.streamgen import build
from benchmarks.throughput import same_items
from tests.helpers import run_chunks

STREAM = build(400)
LIBRARY = run_chunks([STREAM])


def floor_items(chunks: list[bytes], as_found: bool) -> list[Item]:
    items: list[Item] = []
    reader = FloorReader(items.append, as_found=as_found)
    ended = False
    for chunk in chunks:
        ended = reader.feed(chunk)
        if ended:
            break
    assert ended, "the floor did not reach response.completed"
    return items


def cut(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, start, turn = [], 0, 0
    while start < len(data):
        size = sizes[turn % len(sizes)]
        chunks.append(data[start : start + size])
        start += size
        turn += 1
    return chunks


def test_the_floor_gives_the_library_items_for_the_whole_stream() -> None:
    items: list[Item] = []
    run_floor([STREAM], items.append)
    assert same_items(items, LIBRARY)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 70_000), min_size=1, max_size=8),
    as_found=st.booleans(),
)
def test_the_floor_gives_the_library_items_for_any_chunking(
    sizes: list[int], as_found: bool
) -> None:
    assert same_items(floor_items(cut(STREAM, sizes), as_found), LIBRARY)


def test_the_floor_as_found_joins_a_blank_line_split_between_chunks() -> None:
    first_end = STREAM.index(b"\n\n")
    # The held bytes end with "\n" and the next chunk starts with the other "\n".
    chunks = [STREAM[: first_end + 1], STREAM[first_end + 1 :]]
    assert same_items(floor_items(chunks, as_found=True), LIBRARY)
