"""Back-pressure: a slow ``async for`` consumer pauses an async source through ``FlowControl``."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from rxresponses import Done, Start, Text, from_async_iterable, from_bytes, iterate, responses
from rxresponses.flow import FlowControl

from tests.wire import completed, sse, text_delta


@pytest.mark.asyncio
async def test_slow_consumer_keeps_the_buffer_bounded_and_loses_nothing() -> None:
    flow = FlowControl()
    read = 0
    most_ahead = 0
    consumed = 0

    async def fast_body() -> AsyncIterator[bytes]:
        nonlocal read
        for index in range(400):
            read += 1
            yield sse([text_delta(f"{index},")])  # one item per chunk
            await asyncio.sleep(0)
        yield sse([completed()])

    texts: list[str] = []
    async for item in iterate(
        responses(from_async_iterable(fast_body, flow=flow)), max_items=16, flow=flow
    ):
        consumed += 1
        most_ahead = max(most_ahead, read - consumed)
        if hasattr(item, "chunk"):
            texts.append(item.chunk)
        await asyncio.sleep(0.0005)  # a slow consumer

    assert "".join(texts) == "".join(f"{index}," for index in range(400))
    assert most_ahead <= 16 + 2  # never more than the bound plus the chunk in hand
    assert not flow.paused


@pytest.mark.asyncio
async def test_without_a_bound_a_fast_source_runs_ahead() -> None:
    read = 0
    consumed = 0
    most_ahead = 0

    async def fast_body() -> AsyncIterator[bytes]:
        nonlocal read
        for index in range(200):
            read += 1
            yield sse([text_delta(f"{index}")])
            await asyncio.sleep(0)
        yield sse([completed()])

    async for _ in iterate(responses(from_async_iterable(fast_body))):
        consumed += 1
        most_ahead = max(most_ahead, read - consumed)
        await asyncio.sleep(0.0005)

    assert most_ahead > 16  # the contrast that makes the bounded test meaningful


@pytest.mark.asyncio
async def test_leaving_the_loop_while_paused_lifts_the_pause() -> None:
    flow = FlowControl()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield sse([text_delta("x")])
            await asyncio.sleep(0)

    count = 0
    stream = iterate(responses(from_async_iterable(body, flow=flow)), max_items=4, flow=flow)
    async with aclosing(stream) as items:
        async for _ in items:
            count += 1
            await asyncio.sleep(0.01)
            if count == 3:
                break

    assert not flow.paused


def test_flow_control_counts_every_pausing_consumer() -> None:
    flow = FlowControl()
    seen: list[bool] = []
    flow.pause()
    flow.pause()
    flow.resume()
    seen.append(flow.paused)
    flow.resume()
    seen.append(flow.paused)
    flow.resume()  # more resumes than pauses change nothing
    seen.append(flow.paused)

    assert seen == [True, False, False]


def _long_stream(deltas: int) -> bytes:
    return sse([*(text_delta(f"token {index} ") for index in range(deltas)), completed()])


async def _most_ahead(
    flow: FlowControl | None, max_items: int | None, deltas: int = 3000
) -> tuple[int, int, int]:
    """Stream a long answer from the replay server to a slow consumer.

    Returns the items, the most ever buffered, and the peak memory traced
    while streaming (the server and the recording are set up before tracing).
    """
    import tracemalloc

    from reactivex import operators as ops
    from rxresponses.http import stream_responses
    from rxresponses.server import ReplayServer

    pushed = 0
    consumed = 0
    most = 0

    def count(_: object) -> None:
        nonlocal pushed
        pushed += 1

    async with ReplayServer([_long_stream(deltas)], events_per_second=None) as server:
        tracemalloc.start()
        try:
            items = stream_responses({"model": "m"}, base_url=server.base_url, flow=flow)
            stream = iterate(items.pipe(ops.do_action(count)), max_items=max_items, flow=flow)
            async for _ in stream:
                consumed += 1
                most = max(most, pushed - consumed)
                if consumed % 50 == 0:
                    await asyncio.sleep(0.002)  # a consumer slower than loopback
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return consumed, most, peak


@pytest.mark.asyncio
async def test_slow_consumer_pauses_the_http_source() -> None:
    unbounded_items, unbounded_most, _ = await _most_ahead(None, None)
    bounded_items, bounded_most, _ = await _most_ahead(FlowControl(), 64)

    assert bounded_items == unbounded_items == 3000 + 3  # start, part_start and done too
    assert unbounded_most > 1000  # without flow control the whole answer piles up
    assert bounded_most < 64 + 400  # the bound plus at most one bounded read's items


@pytest.mark.asyncio
async def test_slow_consumer_with_flow_control_holds_far_less_memory() -> None:
    unbounded_items, _, unbounded_peak = await _most_ahead(None, None, deltas=20_000)
    bounded_items, _, bounded_peak = await _most_ahead(FlowControl(), 64, deltas=20_000)

    assert unbounded_items == bounded_items == 20_000 + 3
    assert bounded_peak * 2 < unbounded_peak  # unbounded, most of the answer piles up


@pytest.mark.asyncio
async def test_waiting_on_a_paused_consumer_does_not_count_toward_the_idle_timeout() -> None:
    from rxresponses import Error
    from rxresponses.http import stream_responses
    from rxresponses.server import ReplayServer

    flow = FlowControl()
    seen: list[object] = []
    async with ReplayServer([_long_stream(2000)], events_per_second=None) as server:
        items = stream_responses(
            {"model": "m"}, base_url=server.base_url, flow=flow, idle_timeout=0.3
        )
        async for item in iterate(items, max_items=16, flow=flow):
            seen.append(item)
            if len(seen) == 20:
                assert flow.paused  # the source is waiting on us
                await asyncio.sleep(1.0)  # paused for over three idle timeouts

    assert not [item for item in seen if isinstance(item, Error)]
    assert len(seen) == 2000 + 3


def test_max_items_without_flow_control_is_refused_at_the_call() -> None:
    items = responses(from_bytes(_long_stream(3)))

    with pytest.raises(ValueError, match="flow"):
        iterate(items, max_items=16)


def test_flow_control_without_max_items_is_refused_at_the_call() -> None:
    items = responses(from_bytes(_long_stream(3)))

    with pytest.raises(ValueError, match="max_items"):
        iterate(items, flow=FlowControl())


@pytest.mark.asyncio
async def test_without_a_bound_every_item_still_arrives() -> None:
    got = [item async for item in iterate(responses(from_bytes(_long_stream(3))))]

    assert isinstance(got[0], Start)
    assert isinstance(got[-1], Done)
    assert [item.chunk for item in got if isinstance(item, Text)] == [
        f"token {i} " for i in range(3)
    ]
