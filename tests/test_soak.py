"""Soak and storms, short: many HTTP streams, random disposals, a drop at every event boundary.

The full-size run is ``python -m benchmarks.soak``; these use the same code
with smaller counts (the 500 concurrent streams stay).
"""

import aiohttp
import pytest
from rxresponses.server import ReplayServer, split_events

from benchmarks.soak import (
    RECORDING,
    RSS_SLACK,
    Sizes,
    Watch,
    baseline,
    close_at_every_boundary,
    dispose_cycles,
    leaks_since,
    raise_open_file_limit,
    soak,
    terminal_index,
)


@pytest.mark.asyncio
async def test_a_drop_at_every_event_boundary_gives_one_stream_interrupted_and_done_last() -> None:
    boundaries = terminal_index(split_events(RECORDING.read_bytes())) + 1
    start = baseline()
    with Watch() as watch:
        async with aiohttp.ClientSession() as session:
            drops, problems = await close_at_every_boundary(RECORDING, session)
        leaks = await leaks_since(start)
        found = watch.collect()
    assert problems == []
    assert drops == boundaries == 109
    assert leaks == []
    assert found == []


@pytest.mark.asyncio
async def test_disposing_at_random_points_delivers_nothing_after_and_leaves_nothing_open() -> None:
    start = baseline()
    with Watch() as watch:
        connector = aiohttp.TCPConnector(limit=100)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            ReplayServer([RECORDING], events_per_second=1000) as server,
        ):
            # A quarter each: at once, after 0-5 ms (the handshake), after the
            # first item, after a random number of items.
            disposals, problems = await dispose_cycles(server, session, 1_000, seed=7)
            assert server.stats.active == 0
        leaks = await leaks_since(start)
        found = watch.collect()
    assert disposals == 1_000
    assert problems == []
    assert leaks == []
    assert found == []


@pytest.mark.asyncio
async def test_rounds_of_sequential_and_concurrent_streams_leak_nothing_and_rss_stays_flat() -> (
    None
):
    sizes = Sizes(sequential=300, concurrent=500, cycles=100, boundaries=False)
    assert raise_open_file_limit(4 * sizes.concurrent + 256) >= 2 * sizes.concurrent + 64
    report = await soak(sizes, rounds=3, seed=3)
    assert [one.problems for one in report.rounds] == [[], [], []]
    assert [one.streams for one in report.rounds] == [900, 900, 900]
    assert report.leaks == []
    assert report.rss_growth <= RSS_SLACK, [one.rss for one in report.rounds]
