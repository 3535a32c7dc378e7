"""The retry operator against the fault-injecting replay server, over real HTTP."""

import pytest
from rxresponses import Error, Item, Start, Text, retry_responses
from rxresponses.http import stream_responses
from rxresponses.server import ReplayServer

from tests.wire import completed, created, sse, text_delta

ANSWER = sse([created("resp_ok"), text_delta("Hello"), text_delta(" again"), completed()])


async def collect(items_source: object) -> list[Item]:
    import asyncio

    from reactivex import Observable

    assert isinstance(items_source, Observable)
    done = asyncio.get_running_loop().create_future()
    items: list[Item] = []
    items_source.subscribe(items.append, done.set_exception, lambda: done.set_result(None))
    await asyncio.wait_for(done, 10)
    return items


@pytest.mark.asyncio
async def test_rate_limited_request_is_retried_after_retry_after_and_then_succeeds() -> None:
    async with (
        ReplayServer([ANSWER], status=429, retry_after=0.05) as limited,
        ReplayServer([ANSWER], events_per_second=None) as healthy,
    ):
        urls = iter([limited.base_url, healthy.base_url])
        items = await collect(
            retry_responses(lambda: stream_responses({"model": "m"}, base_url=next(urls)))
        )

        assert limited.stats.requests == 1
        assert healthy.stats.requests == 1
    assert [type(item).__name__ for item in items] == [
        "Start",
        "Metadata",
        "PartStart",
        "Text",
        "Text",
        "Done",
    ]
    assert "".join(item.chunk for item in items if isinstance(item, Text)) == "Hello again"
    assert sum(isinstance(item, Start) for item in items) == 1


@pytest.mark.asyncio
async def test_a_dropped_connection_before_any_content_is_retried() -> None:
    async with (
        ReplayServer([ANSWER], close_after=0, events_per_second=None) as dropping,
        ReplayServer([ANSWER], events_per_second=None) as healthy,
    ):
        urls = iter([dropping.base_url, healthy.base_url])
        items = await collect(
            retry_responses(
                lambda: stream_responses({"model": "m"}, base_url=next(urls)), base_delay=0.01
            )
        )

    assert not any(isinstance(item, Error) for item in items)
    assert "".join(item.chunk for item in items if isinstance(item, Text)) == "Hello again"


@pytest.mark.asyncio
async def test_insufficient_quota_is_not_retried() -> None:
    quota = (
        b'{"error":{"message":"You exceeded your current quota","type":"insufficient_quota",'
        b'"code":"insufficient_quota","param":null}}'
    )
    async with ReplayServer([ANSWER], status=429, error_body=quota) as server:
        items = await collect(
            retry_responses(
                lambda: stream_responses({"model": "m"}, base_url=server.base_url),
                base_delay=0.01,
            )
        )

        assert server.stats.requests == 1
    [error] = [item for item in items if isinstance(item, Error)]
    assert (error.kind, error.code, error.retryable) == (
        "rate_limited",
        "insufficient_quota",
        False,
    )
    assert [type(item).__name__ for item in items] == ["Start", "Error", "Done"]


@pytest.mark.asyncio
async def test_the_last_attempts_error_passes_through_with_its_done() -> None:
    async with ReplayServer([ANSWER], status=503) as failing:
        items = await collect(
            retry_responses(
                lambda: stream_responses({"model": "m"}, base_url=failing.base_url),
                max_attempts=3,
                base_delay=0.01,
            )
        )

        assert failing.stats.requests == 3
    assert [type(item).__name__ for item in items] == ["Start", "Error", "Done"]
