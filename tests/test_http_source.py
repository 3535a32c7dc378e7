"""The aiohttp source end to end: a real replay server on 127.0.0.1, the real aiohttp client."""

import asyncio
import contextlib
import gc
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as ops
from rxresponses import Done, Error, Item, PipelineError, Start, Text, from_file, responses
from rxresponses._http_cli import demo_recording_path
from rxresponses.http import (
    FunctionTool,
    build_request,
    http_source,
    parse_retry_after,
    stream_responses,
)
from rxresponses.server import ReplayServer, split_events

from tests.helpers import as_json, check_items, errors, tool_calls, without_message_id

DEMO = Path(demo_recording_path())
#: The demo answer asks for two weather calls: the caller owes them, hence tool_use.
DEMO_DONE = Done(stop_reason="tool_use", last_sequence_number=108)
BODY = build_request("gpt-5", "What's the weather in Lisbon and Kyoto?")
KEY = "sk-test-Zq81xSECRETkey0042"
#: Generous bound for anything that should happen "at once" on a loaded machine.
WAIT = 10.0


class Run:
    """One subscription's items, with the ``time.monotonic()`` each arrived at."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.times: list[float] = []
        self.failures: list[Exception] = []
        self.completed = asyncio.get_running_loop().create_future()

    def on_next(self, item: Item) -> None:
        self.items.append(item)
        self.times.append(time.monotonic())

    def on_error(self, error: Exception) -> None:
        self.failures.append(error)
        if not self.completed.done():
            self.completed.set_result(None)

    def on_completed(self) -> None:
        if not self.completed.done():
            self.completed.set_result(None)

    async def wait(self, timeout: float = WAIT) -> list[Item]:
        await asyncio.wait_for(asyncio.shield(self.completed), timeout)
        assert self.failures == [], f"on_error was called: {self.failures!r}"
        return self.items


async def collect(items: Observable[Item], timeout: float = WAIT) -> list[Item]:
    """All items of one subscription, checked against the SPEC §2 invariants."""
    run = Run()
    items.subscribe(run.on_next, run.on_error, run.on_completed)
    out = await run.wait(timeout)
    check_items(out)
    return out


def replayed(data: bytes | Path) -> list[dict[str, Any]]:
    """The items of the same bytes read from a file, without HTTP."""
    run: list[Item] = []
    if isinstance(data, Path):
        responses(from_file(data)).subscribe(run.append)
    else:
        from rxresponses import from_bytes

        responses(from_bytes(data)).subscribe(run.append)
    return without_message_id(as_json(run))


def only_error(items: list[Item]) -> Error:
    assert [type(item) for item in items] == [Start, Error, Done], items
    error = items[1]
    assert isinstance(error, Error)
    return error


async def settle(predicate: Any, timeout: float = WAIT) -> bool:
    """Poll ``predicate()`` until it holds (clean-up runs on the loop after ``done``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def other_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


# --- the request ---------------------------------------------------------------------


def test_build_request_has_every_field_a_streamed_turn_needs() -> None:
    weather = FunctionTool("get_weather", "Current weather.", {"type": "object", "properties": {}})
    body = build_request(
        "gpt-5",
        [{"role": "user", "content": "hi"}],
        instructions="Be brief.",
        tools=[weather, {"type": "function", "name": "raw", "parameters": {}}],
        reasoning_effort="low",
        reasoning_summary="auto",
        max_output_tokens=100,
    )
    assert body == {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "hi"}],
        "instructions": "Be brief.",
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Current weather.",
                "parameters": {"type": "object", "properties": {}},
            },
            {"type": "function", "name": "raw", "parameters": {}},
        ],
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": False,
        "stream": True,
        "max_output_tokens": 100,
    }
    json.dumps(body)  # plain JSON


def test_build_request_leaves_out_what_was_not_asked_for() -> None:
    body = build_request("m", "hello", include_encrypted_reasoning=False, store=True)
    assert body == {"model": "m", "input": "hello", "store": True, "stream": True}


@pytest.mark.asyncio
async def test_request_is_a_json_post_asking_for_an_event_stream() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        await collect(
            stream_responses(
                BODY, base_url=server.base_url, api_key=KEY, headers={"OpenAI-Beta": "x"}
            )
        )
        (request,) = server.stats.received
    assert request.json() == BODY
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["OpenAI-Beta"] == "x"


@pytest.mark.asyncio
async def test_key_comes_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    async with ReplayServer([DEMO], events_per_second=None) as server:
        await collect(stream_responses(BODY, base_url=server.base_url))
        assert server.stats.received[0].headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.asyncio
async def test_no_key_sends_no_authorization_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with ReplayServer([DEMO], events_per_second=None) as server:
        await collect(stream_responses(BODY, base_url=server.base_url))
        assert "Authorization" not in server.stats.received[0].headers


# --- a normal stream -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_normal_stream_equals_the_file_replay_item_for_item() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url))
    assert without_message_id(as_json(items)) == replayed(DEMO)
    assert len(tool_calls(as_json(items))) == 2


@pytest.mark.asyncio
async def test_each_subscription_sends_its_own_request() -> None:
    first = DEMO.read_bytes()
    events = split_events(first)
    second = b"".join(events[:2] + events[-1:])  # created, in_progress, completed
    async with ReplayServer([first, second], events_per_second=None) as server:
        items = stream_responses(BODY, base_url=server.base_url)
        runs = [await collect(items) for _ in range(3)]
        assert server.stats.requests == 3
    assert without_message_id(as_json(runs[0])) == replayed(first)
    assert without_message_id(as_json(runs[1])) == replayed(second)
    assert without_message_id(as_json(runs[2])) == replayed(first)
    assert len({item.message_id for run in runs for item in run if isinstance(item, Start)}) == 3


@pytest.mark.asyncio
async def test_paced_stream_arrives_incrementally() -> None:
    events = split_events(DEMO.read_bytes())
    async with ReplayServer([DEMO], events_per_second=100) as server:  # about 1.1 s
        run = Run()
        stream_responses(BODY, base_url=server.base_url).subscribe(
            run.on_next, run.on_error, run.on_completed
        )
        await run.wait()
        (last_byte,) = server.stats.last_byte_times
    first_output = next(
        t for t, item in zip(run.times, run.items, strict=True) if not isinstance(item, Start)
    )
    # The last event goes out about (len(events) - 1) / 100 s after the first one.
    assert last_byte - first_output > 0.5 * (len(events) - 1) / 100
    assert len({round(t, 2) for t in run.times}) > 20  # items came in many separate moments


@pytest.mark.asyncio
async def test_long_generation_is_not_capped_by_the_idle_timeout() -> None:
    events = split_events(DEMO.read_bytes())[:40] + split_events(DEMO.read_bytes())[-1:]
    async with ReplayServer([b"".join(events)], events_per_second=25) as server:  # ~1.6 s
        items = await collect(stream_responses(BODY, base_url=server.base_url, idle_timeout=0.5))
    assert errors(as_json(items)) == []
    assert items[-1] == Done(stop_reason="end_turn", last_sequence_number=108)


@pytest.mark.asyncio
async def test_server_keeping_the_connection_open_after_completed_still_gives_done() -> None:
    async with ReplayServer([DEMO], events_per_second=None, keep_open_after_end=True) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url, idle_timeout=60))
        assert items[-1] == DEMO_DONE
        assert await server.stats.wait_for_disconnect(timeout=1.0), "the client never closed"
        assert server.stats.completed == 0


# --- failures mid-stream ---------------------------------------------------------------


def _index_of(events: list[bytes], marker: bytes, nth: int = 0) -> int:
    found = [i for i, event in enumerate(events) if marker in event]
    return found[nth]


@pytest.mark.asyncio
async def test_connection_dropped_mid_tool_call_completes_it_as_partial() -> None:
    events = split_events(DEMO.read_bytes())
    cut = _index_of(events, b'"response.function_call_arguments.delta"') + 3
    async with ReplayServer([DEMO], events_per_second=None, close_after=cut) as server:
        items = as_json(await collect(stream_responses(BODY, base_url=server.base_url)))
        assert server.stats.dropped == 1
    (error,) = errors(items)
    assert error["kind"] == "stream_interrupted"
    assert error["retryable"] is True
    (call,) = tool_calls(items)
    assert call["partial"] is True
    assert call["name"] == "get_weather"
    assert 0 < len(call["arguments"]) < len('{"city":"Lisbon","country":"PT","unit":"celsius"}')
    assert [item["type"] for item in items[-3:]] == ["error", "tool_request_complete", "done"]
    assert items[-1]["stop_reason"] is None


@pytest.mark.asyncio
async def test_stall_after_the_headers_past_the_idle_timeout_is_a_timeout() -> None:
    async with ReplayServer(
        [DEMO], events_per_second=None, stall_after=10, stall_seconds=30
    ) as server:
        started = time.monotonic()
        items = as_json(
            await collect(stream_responses(BODY, base_url=server.base_url, idle_timeout=0.5))
        )
        elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1.0
    (error,) = errors(items)
    assert error["kind"] == "timeout"
    assert error["retryable"] is True
    assert error["status"] is None
    assert items[-1] == {"type": "done", "stop_reason": None, "last_sequence_number": 9}


@pytest.mark.asyncio
async def test_stall_before_the_headers_past_the_idle_timeout_is_a_timeout() -> None:
    async with ReplayServer([DEMO], first_byte_delay=30) as server:
        started = time.monotonic()
        items = await collect(stream_responses(BODY, base_url=server.base_url, idle_timeout=0.5))
        elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1.0
    error = only_error(items)
    assert error.kind == "timeout"
    assert error.retryable is True


@pytest.mark.asyncio
async def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    items = await collect(stream_responses(BODY, base_url=f"http://127.0.0.1:{port}/v1"))
    error = only_error(items)
    assert error.kind == "connect_error"
    assert error.retryable is True
    assert error.status is None


@pytest.mark.asyncio
async def test_connect_timeout_is_a_connect_error() -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
            started = time.monotonic()
            items = await collect(
                stream_responses(BODY, base_url=f"http://127.0.0.1:{port}/v1", connect_timeout=0.5)
            )
            elapsed = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    error = only_error(items)
    assert error.kind == "connect_error"
    assert error.retryable is True
    assert elapsed < 0.5 + 1.0


# --- HTTP errors before the stream -----------------------------------------------------


def _error_body(code: str | None, message: str, kind: str = "server_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


HTTP_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "429 with Retry-After seconds",
        {"status": 429, "retry_after": "7"},
        {
            "kind": "rate_limited",
            "status": 429,
            "retryable": True,
            "retry_after": 7.0,
            "code": "rate_limit_exceeded",
        },
    ),
    (
        "429 insufficient_quota is fatal",
        {
            "status": 429,
            "error_body": _error_body(
                "insufficient_quota", "You exceeded your quota.", "insufficient_quota"
            ),
        },
        {
            "kind": "rate_limited",
            "status": 429,
            "retryable": False,
            "retry_after": None,
            "code": "insufficient_quota",
            "message": "You exceeded your quota.",
        },
    ),
    (
        "429 delay from the message",
        {
            "status": 429,
            "error_body": _error_body(
                "rate_limit_exceeded", "Limit reached. Please try again in 11.054s."
            ),
        },
        {"kind": "rate_limited", "retryable": True, "retry_after": 11.054},
    ),
    (
        "500",
        {"status": 500},
        {
            "kind": "server_error",
            "status": 500,
            "retryable": True,
            "code": "server_error",  # no error.code: its error.type
            "message": "The server had an error while processing your request.",
        },
    ),
    (
        "503 with retry-after-ms",
        {"status": 503, "headers": {"retry-after-ms": "1500"}, "retry_after": "9"},
        {"kind": "server_error", "status": 503, "retryable": True, "retry_after": 1.5},
    ),
    (
        "500 with an invalid request is fatal",
        {"status": 500, "error_body": _error_body(None, "bad input", "invalid_request_error")},
        {"kind": "server_error", "retryable": False, "message": "bad input"},
    ),
    (
        "401",
        {"status": 401},
        {"kind": "http_error", "status": 401, "retryable": False, "code": "invalid_api_key"},
    ),
    (
        "404",
        {"status": 404},
        {"kind": "http_error", "status": 404, "retryable": False, "code": "model_not_found"},
    ),
    ("408", {"status": 408}, {"kind": "http_error", "status": 408, "retryable": True}),
    ("409", {"status": 409}, {"kind": "http_error", "status": 409, "retryable": True}),
    (
        "no error body: the reason phrase",
        {"status": 418, "error_body": b"<html>teapot</html>"},
        {
            "kind": "http_error",
            "status": 418,
            "retryable": False,
            "code": None,
            "message": "I'm a Teapot",
        },
    ),
    (
        "200 with application/json",
        {"status": 200},
        {"kind": "http_error", "status": 200, "retryable": False, "retry_after": None},
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("options", "expected"),
    [case[1:] for case in HTTP_CASES],
    ids=[case[0] for case in HTTP_CASES],
)
async def test_http_failure_before_the_stream_is_one_documented_error_item(
    options: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with ReplayServer([DEMO], **options) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url))
    error = as_json([only_error(items)])[0]
    assert {key: error[key] for key in expected} == expected


@pytest.mark.asyncio
async def test_retry_after_as_an_http_date_is_seconds_from_now() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    async with ReplayServer(
        [DEMO], status=429, retry_after=format_datetime(when, usegmt=True)
    ) as s:
        error = only_error(await collect(stream_responses(BODY, base_url=s.base_url)))
    assert error.retry_after is not None
    assert 25 <= error.retry_after <= 31


def test_parse_retry_after_reads_milliseconds_seconds_and_dates() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "3"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert (
        parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0)
        == 10.0
    )
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after({}) is None


# --- the API key -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_api_key_never_appears_in_items_errors_logs_or_reprs(tmp_path: Path) -> None:
    from rxresponses import JsonLinesSink

    echo = _error_body(
        "invalid_api_key", f"Incorrect API key provided: {KEY}.", "invalid_request_error"
    )
    log = tmp_path / "items.jsonl"
    async with ReplayServer([DEMO], status=401, error_body=echo) as server:
        source = http_source(BODY, base_url=server.base_url, api_key=KEY)
        failures: list[Exception] = []
        done = asyncio.get_running_loop().create_future()

        def on_error(exc: Exception) -> None:
            failures.append(exc)
            done.set_result(None)

        source.subscribe(on_error=on_error, on_completed=lambda: done.set_result(None))
        await asyncio.wait_for(done, WAIT)
        items = stream_responses(BODY, base_url=server.base_url, api_key=KEY)
        sink = JsonLinesSink.open(log)
        run = Run()
        items.subscribe(sink)
        items.subscribe(run.on_next, run.on_error, run.on_completed)
        await run.wait()
        await asyncio.sleep(0.1)
        assert server.stats.received[0].headers["Authorization"] == f"Bearer {KEY}"
    (failure,) = failures
    assert isinstance(failure, PipelineError)
    shown = [str(failure), repr(failure), failure.message, repr(source), repr(items)]
    shown += [json.dumps(item) for item in as_json(run.items)]
    shown.append(log.read_text())
    assert all(KEY not in text for text in shown)
    assert "Incorrect API key provided: [redacted]." in str(failure)
    assert only_error(run.items).message == "Incorrect API key provided: [redacted]."


# --- disposal and clean-up -------------------------------------------------------------


@pytest.mark.asyncio
async def test_disposing_mid_stream_closes_the_connection_within_a_second() -> None:
    async with ReplayServer([DEMO], events_per_second=20) as server:
        run = Run()
        subscription = stream_responses(BODY, base_url=server.base_url).subscribe(
            run.on_next, run.on_error, run.on_completed
        )
        assert await settle(lambda: len(run.items) >= 3)
        count = len(run.items)
        disposed_at = time.monotonic()
        subscription.dispose()
        assert await server.stats.wait_for_disconnect(timeout=1.0)
        assert server.stats.disconnect_times[0] - disposed_at <= 1.0
        await asyncio.sleep(0.2)
    assert len(run.items) == count  # nothing after dispose, not even done
    assert not run.completed.done()
    assert await settle(lambda: not other_tasks())


@pytest.mark.asyncio
async def test_many_subscribe_dispose_cycles_leave_nothing_open() -> None:
    async with ReplayServer([DEMO], events_per_second=200) as server:
        items = stream_responses(BODY, base_url=server.base_url)
        for cycle in range(30):
            run = Run()
            subscription = items.subscribe(run.on_next, run.on_error, run.on_completed)
            if cycle % 3 == 1:  # some are disposed before the request got anywhere
                await asyncio.sleep(0)
            elif cycle % 3 == 2:
                assert await settle(lambda run=run: len(run.items) >= 2)
            subscription.dispose()
        assert await settle(lambda: server.stats.active == 0)
        assert await settle(lambda: not other_tasks())
        # And the server still serves whole streams afterwards.
        final = await collect(items)
        assert final[-1] == DEMO_DONE
    gc.collect()  # an unclosed session or connector would warn here, and warnings are errors


@pytest.mark.asyncio
async def test_caller_session_is_reused_left_open_and_never_leaks_a_connection() -> None:
    # limit=1: a leaked connection would block the next request. The session's own
    # raise_for_status and total timeout must not apply: statuses become items, and a
    # stream longer than 50 ms is not cut.
    connector = aiohttp.TCPConnector(limit=1)
    async with (
        aiohttp.ClientSession(
            connector=connector, raise_for_status=True, timeout=aiohttp.ClientTimeout(total=0.05)
        ) as session,
        ReplayServer([DEMO], events_per_second=1000) as server,
    ):
        items = stream_responses(BODY, base_url=server.base_url, session=session)
        for _ in range(10):
            run = Run()
            subscription = items.subscribe(run.on_next, run.on_error, run.on_completed)
            assert await settle(lambda run=run: len(run.items) >= 2)
            subscription.dispose()
        for _ in range(3):
            assert (await collect(items))[-1] == DEMO_DONE
        async with ReplayServer([DEMO], status=500) as failing:
            bad = stream_responses(BODY, base_url=failing.base_url, session=session)
            assert only_error(await collect(bad)).kind == "server_error"
        assert not session.closed
        assert (await collect(items))[-1] == DEMO_DONE


# --- fan-out ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_share_gives_every_subscriber_the_identical_items() -> None:
    async with ReplayServer([DEMO], events_per_second=None) as server:
        shared = stream_responses(BODY, base_url=server.base_url).pipe(ops.share())
        runs = [Run(), Run()]
        for run in runs:
            shared.subscribe(run.on_next, run.on_error, run.on_completed)
        first, second = [await run.wait() for run in runs]
        assert server.stats.requests == 1
    assert first == second
    check_items(first)


@pytest.mark.asyncio
async def test_subscribing_without_a_running_loop_is_an_error_item_not_a_hang() -> None:
    source = stream_responses(BODY, base_url="http://127.0.0.1:9/v1")
    items: list[Item] = []

    def outside_the_loop() -> None:
        source.subscribe(items.append)

    await asyncio.to_thread(outside_the_loop)
    error = only_error(items)
    assert "event loop" in error.message


@pytest.mark.asyncio
async def test_disposing_from_another_thread_also_closes_the_connection() -> None:
    async with ReplayServer([DEMO], events_per_second=20) as server:
        run = Run()
        subscription = stream_responses(BODY, base_url=server.base_url).subscribe(
            run.on_next, run.on_error, run.on_completed
        )
        assert await settle(lambda: len(run.items) >= 2)
        await asyncio.to_thread(subscription.dispose)
        assert await server.stats.wait_for_disconnect(timeout=1.0)
    assert await settle(lambda: not other_tasks())


@pytest.mark.asyncio
async def test_an_exception_in_the_subscribers_on_next_is_the_subscribers() -> None:
    class Boom(Exception):
        pass

    def on_next(item: Item) -> None:
        run.on_next(item)
        if isinstance(item, Text):
            raise Boom("from the caller")

    async with ReplayServer([DEMO], events_per_second=50) as server:
        run = Run()
        stream_responses(BODY, base_url=server.base_url).subscribe(
            on_next, run.on_error, run.on_completed
        )
        await asyncio.wait_for(run.completed, WAIT)
        assert await server.stats.wait_for_disconnect(timeout=WAIT)
    (failure,) = run.failures
    assert isinstance(failure, Boom)
    assert isinstance(run.items[-1], Text)


@pytest.mark.asyncio
async def test_take_until_stops_the_stream_and_closes_the_connection() -> None:
    async with ReplayServer([DEMO], events_per_second=20) as server:
        stop = asyncio.get_running_loop().create_future()
        run = Run()
        stream_responses(BODY, base_url=server.base_url).pipe(
            ops.take_until(reactivex.from_future(stop))
        ).subscribe(run.on_next, run.on_error, run.on_completed)
        assert await settle(lambda: len(run.items) >= 3)
        stopped_at = time.monotonic()
        stop.set_result(None)
        await run.wait()
        assert await server.stats.wait_for_disconnect(timeout=1.0)
        assert server.stats.disconnect_times[0] - stopped_at <= 1.0
    assert not any(isinstance(item, Done) for item in run.items)
