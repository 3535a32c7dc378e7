"""Resuming a background response over real loopback HTTP: nothing repeated, nothing lost."""

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import Observable
from rxresponses import Done, Error, Item, Start
from rxresponses.http import build_request, stream_responses
from rxresponses.resume import stream_background
from rxresponses.server import ReplayServer, split_events

ROOT = Path(__file__).resolve().parent
RECORDINGS = {
    "text": ROOT / "fixtures" / "pydantic_ai" / "test_openai_responses_stream.1.sse",
    "reasoning and parallel calls": ROOT.parent / "pipeline" / "data" / "demo.sse",
    "built-in call": ROOT
    / "fixtures"
    / "pydantic_ai"
    / "test_openai_responses_model_web_search_tool_stream.0.sse",
}
WAIT = 30.0
BODY = build_request("m", "hi")


def _events(name: str) -> int:
    return len([e for e in split_events(RECORDINGS[name].read_bytes()) if b"data:" in e])


async def _items(observable: Observable[Item]) -> list[Item]:
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    items: list[Item] = []
    observable.subscribe(items.append, finished.set_exception, lambda: finished.set_result(None))
    await asyncio.wait_for(finished, WAIT)
    return items


def _comparable(items: list[Item]) -> list[Any]:
    """The items as JSON, ``message_id`` aside."""
    return [msgspec.to_builtins(item) for item in items if not isinstance(item, Start)]


async def _background(name: str, **server: Any) -> tuple[list[Item], list[int], ReplayServer]:
    resumed: list[int] = []
    async with ReplayServer([RECORDINGS[name]], events_per_second=None, **server) as replay:
        items = await _items(
            stream_background(
                BODY,
                base_url=replay.base_url,
                on_resume=resumed.append,
                base_delay=0.0,
                idle_timeout=0.5,
            )
        )
    return items, resumed, replay


async def _undisturbed(name: str) -> list[Item]:
    items, resumed, _ = await _background(name)
    assert resumed == []
    return items


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(RECORDINGS))
async def test_a_drop_at_every_event_boundary_loses_and_repeats_nothing(name: str) -> None:
    expected = _comparable(await _undisturbed(name))
    assert isinstance((await _undisturbed(name))[-1], Done)
    drops = range(1, _events(name))

    for cut in drops:
        items, resumed, replay = await _background(name, close_after=[cut])

        assert _comparable(items) == expected, f"dropped after event {cut}"
        assert len(resumed) == 1
        assert replay.stats.requests == 2
        assert sum(isinstance(item, Start) for item in items) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(RECORDINGS))
async def test_a_stall_past_the_idle_timeout_is_resumed(name: str) -> None:
    expected = _comparable(await _undisturbed(name))

    items, resumed, _ = await _background(name, stall_after=_events(name) // 2, stall_seconds=1.0)

    assert _comparable(items) == expected
    assert len(resumed) >= 1


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(1, 30), min_size=1, max_size=5))
def test_several_drops_in_one_response_still_give_the_undisturbed_items(cuts: list[int]) -> None:
    name = "reasoning and parallel calls"

    async def run() -> None:
        expected = _comparable(await _undisturbed(name))
        items, resumed, _ = await _background(name, close_after=cuts)

        assert _comparable(items) == expected
        assert len(resumed) <= len(cuts)

    asyncio.run(run())


@pytest.mark.asyncio
async def test_sequence_numbers_of_the_resumed_stream_continue_where_the_first_stopped() -> None:
    items, resumed, replay = await _background("text", close_after=[4])
    query = replay.stats.received[-1]

    assert resumed == [3]  # events 0..3 were read: it continues after 3
    assert query.body == b""
    assert isinstance(items[-1], Done)
    assert items[-1].stop_reason is not None


@pytest.mark.asyncio
async def test_a_resume_that_fails_for_good_ends_with_the_original_interruption() -> None:
    # Every later request fails at once: the response cannot be served again.
    items, resumed, replay = await _background("text", close_after=[4, 0, 0, 0, 0, 0, 0, 0])
    errors = [item for item in items if isinstance(item, Error)]

    assert len(resumed) == 5  # the bound: five reconnections in a row that read nothing
    assert [e.kind for e in errors] == ["stream_interrupted"]
    assert isinstance(items[-1], Done)
    assert items[-1].stop_reason is None
    assert replay.stats.requests == 6


@pytest.mark.asyncio
async def test_a_404_on_the_resume_ends_at_once_with_the_original_interruption() -> None:
    # The server has forgotten the response: the resume cannot work, however often tried.
    items, resumed, replay = await _background("text", close_after=[4], status=[None, 404])
    errors = [item for item in items if isinstance(item, Error)]

    assert resumed == [3]
    assert replay.stats.requests == 2
    assert [e.kind for e in errors] == ["stream_interrupted"]
    assert isinstance(items[-1], Done)
    assert items[-1].stop_reason is None


@pytest.mark.asyncio
async def test_a_resume_answered_with_503_is_tried_again() -> None:
    expected = _comparable(await _undisturbed("text"))

    items, resumed, _ = await _background("text", close_after=[4], status=[None, 503])

    assert _comparable(items) == expected
    assert resumed == [3, 3]


@pytest.mark.asyncio
async def test_a_request_that_is_not_a_background_one_is_never_resumed() -> None:
    async with ReplayServer(
        [RECORDINGS["text"]], events_per_second=None, close_after=[4]
    ) as replay:
        items = await _items(stream_responses(BODY, base_url=replay.base_url))

    assert [e.kind for e in items if isinstance(e, Error)] == ["stream_interrupted"]
    assert replay.stats.requests == 1


def test_the_background_request_body_asks_for_background_and_store() -> None:
    async def run() -> bytes:
        async with ReplayServer([RECORDINGS["text"]], events_per_second=None) as replay:
            await _items(stream_background(BODY, base_url=replay.base_url))
            return replay.stats.received[0].body

    sent = msgspec.json.decode(asyncio.run(run()))

    assert sent["background"] is True
    assert sent["store"] is True


async def _cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxresponses",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},
    )
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.asyncio
async def test_stream_background_resumes_and_keeps_the_json_lines_clean() -> None:
    expected = [json.loads(msgspec.json.encode(i)) for i in await _undisturbed("text")][1:]
    async with ReplayServer(
        [RECORDINGS["text"]], events_per_second=None, close_after=[4]
    ) as replay:
        code, out, err = await _cli(
            "stream",
            "hi",
            "--base-url",
            replay.base_url,
            "--model",
            "m",
            "--background",
            "--jsonl",
        )

    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()][1:] == expected
    assert "reconnected at event 4" in err
    assert replay.stats.requests == 2


@pytest.mark.asyncio
async def test_stream_background_shows_the_reconnection_in_the_terminal_view() -> None:
    async with ReplayServer(
        [RECORDINGS["text"]], events_per_second=None, close_after=[4]
    ) as replay:
        code, out, err = await _cli(
            "stream", "hi", "--base-url", replay.base_url, "--model", "m", "--background"
        )

    assert code == 0, err
    assert "reconnected at event 4" in out
    assert "The capital of France is Paris." in out
