"""Errors as data (SPEC §3.0, §4): what each failure says, and one error per failure."""

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
import rxresponses
from hypothesis import given
from hypothesis import strategies as st
from reactivex import Observable
from reactivex.notification import OnNext
from reactivex.testing import TestScheduler
from rxresponses import (
    Done,
    Error,
    Item,
    Metadata,
    PartStart,
    Start,
    Text,
    UsageError,
    from_bytes,
    from_chunks,
    from_file,
    raise_errors,
    responses,
    retry_responses,
)
from rxresponses.http import build_request, http_source, stream_responses
from rxresponses.operators import (
    EVENTS_READ,
    PipelineError,
    collect_tools,
    decode,
    dispatch,
    finalize,
    frame,
    item_from_exception,
)
from rxresponses.operators import UsageError as OperatorsUsageError
from rxresponses.operators._errors import FATAL_CODES
from rxresponses.server import ReplayServer

from tests.helpers import check_items
from tests.wire import created, run, run_events, sse, text_delta, types

BODY = build_request("gpt-5", "hello")
KEY = "sk-proj-Errors-7hQ2LxT7vWm4Zr8K"
WAIT = 15.0
#: What an end of input before a terminal event always says.
ENDED = "the stream ended before the response completed"


def completed() -> dict[str, Any]:
    return {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}}


def failed(**error: Any) -> dict[str, Any]:
    return {
        "type": "response.failed",
        "response": {"id": "resp_1", "status": "failed", "error": error},
    }


def error_event(**fields: Any) -> dict[str, Any]:
    return {"type": "error", **fields}


def the_errors(items: list[Item]) -> list[Error]:
    return [item for item in items if isinstance(item, Error)]


def one_error(items: list[Item]) -> Error:
    [error] = the_errors(items)
    return error


def run_source(source: Observable[bytes], **options: Any) -> list[Item]:
    items: list[Item] = []
    responses(source, **options).subscribe(items.append)
    check_items(items)
    return items


def only_error(items: list[Item]) -> Error:
    assert [type(item) for item in items] == [Start, Error, Done], items
    error = items[1]
    assert isinstance(error, Error)
    return error


def is_usage_error(error: Error) -> None:
    assert (error.kind, error.status, error.retryable, error.retry_after) == (
        "usage_error",
        None,
        False,
        None,
    )


async def collect(items: Observable[Item]) -> list[Item]:
    """Every item of one subscription on the running loop, up to its completion."""
    out: list[Item] = []
    ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_completed() -> None:
        if not ended.done():
            ended.set_result(None)

    def on_error(exc: Exception) -> None:
        if not ended.done():
            ended.set_exception(exc)

    items.subscribe(out.append, on_error, on_completed)
    await asyncio.wait_for(ended, WAIT)
    check_items(out)
    return out


# ---- usage_error: the stream could not start as asked ---------------------------


def test_a_missing_file_is_one_usage_error(tmp_path: Path) -> None:
    error = only_error(run_source(from_file(tmp_path / "missing.sse")))
    is_usage_error(error)
    assert "missing.sse" in error.message


def test_a_directory_is_one_usage_error(tmp_path: Path) -> None:
    is_usage_error(only_error(run_source(from_file(tmp_path))))


def test_a_path_through_a_file_is_one_usage_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.sse"
    plain.write_bytes(sse([created(), completed()]))
    is_usage_error(only_error(run_source(from_file(plain / "inner.sse"))))


def test_a_failure_while_reading_a_file_stays_stream_interrupted() -> None:
    def chunks() -> Iterator[bytes]:
        yield sse([created()])
        raise OSError("device gone")

    error = one_error(run_source(from_chunks(chunks)))
    assert (error.kind, error.retryable) == ("stream_interrupted", True)


def run_with_retries(make: Callable[[], Observable[Item]]) -> tuple[list[Item], int]:
    """The items ``retry_responses`` delivers on virtual time, and how many attempts it made."""
    scheduler = TestScheduler()
    attempts = 0

    def attempt() -> Observable[Item]:
        nonlocal attempts
        attempts += 1
        return make()

    results = scheduler.start(
        lambda: retry_responses(attempt, scheduler=scheduler, max_attempts=3, jitter=0.0)
    )
    items = [m.value.value for m in results.messages if isinstance(m.value, OnNext)]
    return items, attempts


def test_the_retry_operator_does_not_retry_a_missing_file(tmp_path: Path) -> None:
    items, attempts = run_with_retries(lambda: responses(from_file(tmp_path / "missing.sse")))
    assert attempts == 1
    is_usage_error(only_error(items))


def test_the_retry_operator_still_retries_an_interruption() -> None:
    _, attempts = run_with_retries(lambda: responses(from_bytes(sse([created()]))))
    assert attempts == 3


def test_usage_error_is_part_of_the_tree_and_exported() -> None:
    assert UsageError is OperatorsUsageError is rxresponses.UsageError
    assert issubclass(UsageError, PipelineError)
    assert "UsageError" in rxresponses.__all__
    assert "UsageError" in rxresponses.operators.__all__
    item = item_from_exception(UsageError("no such file"))
    assert item == Error(
        kind="usage_error",
        code=None,
        message="no such file",
        status=None,
        retryable=False,
        retry_after=None,
    )


def test_raise_errors_raises_usage_error(tmp_path: Path) -> None:
    failures: list[Exception] = []
    responses(from_file(tmp_path / "missing.sse")).pipe(raise_errors()).subscribe(
        on_error=failures.append
    )
    [failure] = failures
    assert isinstance(failure, UsageError)
    assert (failure.kind, failure.retryable, failure.status) == ("usage_error", False, None)


@pytest.mark.asyncio
@pytest.mark.parametrize("scheme", ["ftp://", "ws://", ""])
async def test_a_base_url_that_is_not_http_is_one_usage_error_and_nothing_is_sent(
    scheme: str,
) -> None:
    async with ReplayServer([sse([created(), completed()])]) as server:
        url = server.base_url.replace("http://", scheme)
        error = only_error(await collect(stream_responses(BODY, base_url=url)))
        assert server.stats.requests == 0
    is_usage_error(error)
    assert "http://" in error.message


@pytest.mark.asyncio
async def test_a_plain_http_base_url_still_works() -> None:
    async with ReplayServer([sse([created(), completed()])], events_per_second=None) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url))
    assert types(items) == ["start", "metadata", "done"]


@pytest.mark.asyncio
async def test_no_running_loop_is_one_usage_error() -> None:
    items: list[Item] = []
    source = stream_responses(BODY, base_url="http://127.0.0.1:9/v1")
    await asyncio.to_thread(lambda: source.subscribe(items.append))
    error = only_error(items)
    is_usage_error(error)
    assert "event loop" in error.message


@pytest.mark.asyncio
async def test_a_refused_key_is_a_usage_error_the_retry_operator_does_not_retry() -> None:
    attempts = 0

    def attempt() -> Observable[Item]:
        nonlocal attempts
        attempts += 1
        return stream_responses(BODY, base_url="http://api.example.test:9/v1", api_key=KEY)

    items = await collect(retry_responses(attempt, base_delay=0.0, jitter=0.0))
    assert attempts == 1
    error = only_error(items)
    is_usage_error(error)
    assert KEY not in json.dumps(msgspec.to_builtins(items))


@pytest.mark.asyncio
async def test_the_http_source_reports_a_usage_error_through_on_error() -> None:
    failures: list[Exception] = []
    ended = asyncio.Event()

    def on_error(exc: Exception) -> None:
        failures.append(exc)
        ended.set()

    http_source(BODY, base_url="file:///etc/hosts").subscribe(on_error=on_error)
    await asyncio.wait_for(ended.wait(), WAIT)
    [failure] = failures
    assert isinstance(failure, UsageError)


# ---- end of input: what was tried, when nothing of the wire was read -------------


def test_json_lines_read_as_sse_names_the_framing_and_wire(tmp_path: Path) -> None:
    path = tmp_path / "stream.jsonl"
    path.write_text(json.dumps(created()) + "\n" + json.dumps(completed()) + "\n")
    error = only_error(run_source(from_file(path), format="sse"))
    assert (error.kind, error.retryable) == ("stream_interrupted", True)
    assert error.message == f"{ENDED}: no OpenAI Responses event was read (framing: SSE)"


def test_another_providers_stream_names_the_framing_and_wire() -> None:
    anthropic = sse(
        [
            {"type": "message_start", "message": {"id": "msg_1", "model": "claude"}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}},
            {"type": "message_stop"},
        ]
    )
    error = only_error(run(anthropic))
    assert "no OpenAI Responses event was read" in error.message
    assert "SSE" in error.message


def test_sse_read_as_json_lines_names_json_lines() -> None:
    items = run(sse([created(), completed()]), format="jsonl")
    errors = the_errors(items)
    assert {e.kind for e in errors[:-1]} == {"decode_error"}  # each line is not JSON
    assert errors[-1].kind == "stream_interrupted"
    assert errors[-1].message == (
        f"{ENDED}: no OpenAI Responses event was read (framing: JSON Lines)"
    )


def test_an_empty_input_says_no_event_was_read() -> None:
    error = only_error(run(b""))
    assert error.message.startswith(f"{ENDED}: no OpenAI Responses event")


@pytest.mark.parametrize("chunk_size", [1, 7, 65536])
def test_a_real_stream_cut_short_says_only_that_it_ended_early(chunk_size: int) -> None:
    items = run(sse([created(), text_delta("Hi")]), chunk_size)
    assert types(items) == ["start", "metadata", "part_start", "text", "error", "done"]
    assert one_error(items).message == ENDED


@pytest.mark.parametrize("chunk_size", [1, 7, 65536])
def test_an_item_nobody_reads_still_counts_as_an_event_read(chunk_size: int) -> None:
    added = {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "web_search_call", "id": "ws_1"},
    }
    assert one_error(run(sse([added]), chunk_size)).message == ENDED


def test_decode_errors_alone_are_not_events_read() -> None:
    broken = b'data: {"type":"response.output_text.delta","delta":7}\n\n'
    errors = the_errors(run(broken))
    assert [e.kind for e in errors] == ["decode_error", "stream_interrupted"]
    assert "no OpenAI Responses event was read" in errors[1].message


def test_finalize_names_the_wire_and_framing_it_is_given() -> None:
    items: list[Item] = []
    from_bytes(b"nothing here\n").pipe(
        frame("jsonl"),
        decode(),
        dispatch(),
        collect_tools(),
        finalize(start=True, framing="jsonl", wire="chat"),
    ).subscribe(items.append)
    assert the_errors(items)[-1].message == (
        f"{ENDED}: no OpenAI Chat Completions event was read (framing: JSON Lines)"
    )


def test_events_read_is_never_an_item() -> None:
    items = run(sse([created(), text_delta("Hi"), completed()]), 1)
    assert all(item is not EVENTS_READ for item in items)  # type: ignore[comparison-overlap]
    assert types(items) == ["start", "metadata", "part_start", "text", "done"]


# ---- one error per failure ------------------------------------------------------


def test_an_error_event_then_response_failed_gives_one_error() -> None:
    items = run_events(
        [created(), error_event(code="server_is_overloaded", message="busy"), failed(message="x")]
    )
    assert types(items) == ["start", "metadata", "error", "done"]
    error = one_error(items)
    assert (error.code, error.message) == ("server_is_overloaded", "busy")
    assert items[-1] == Done(stop_reason=None)


def test_response_failed_alone_still_gives_its_error() -> None:
    items = run_events([created(), failed(code="server_error", message="it broke")])
    assert (one_error(items).kind, one_error(items).message) == ("server_error", "it broke")


def test_a_decode_error_then_response_failed_keeps_the_failed_error() -> None:
    broken = b'data: {"type":"error","message":7}\n\n'
    items = run(sse([created()]) + broken + sse([failed(message="it broke")]))
    assert [e.kind for e in the_errors(items)] == ["decode_error", "server_error"]


def test_an_error_event_then_the_end_of_input_adds_no_stream_interrupted() -> None:
    items = run_events([created(), error_event(code="rate_limit_exceeded", message="slow")])
    assert types(items) == ["start", "metadata", "error", "done"]
    assert one_error(items).kind == "rate_limited"


def test_an_item_after_the_error_event_brings_the_interruption_back() -> None:
    items = run_events([created(), error_event(message="hiccup"), text_delta("more")])
    assert [e.kind for e in the_errors(items)] == ["server_error", "stream_interrupted"]


def test_an_error_event_then_a_source_failure_adds_no_error_of_its_own() -> None:
    def chunks() -> Iterator[bytes]:
        yield sse([created(), error_event(message="overloaded")])
        raise ConnectionResetError("peer reset")

    items = run_source(from_chunks(chunks))
    assert types(items) == ["start", "metadata", "error", "done"]
    assert one_error(items).message == "overloaded"


def test_a_source_failure_after_text_still_gives_its_error() -> None:
    def chunks() -> Iterator[bytes]:
        yield sse([created(), error_event(message="hiccup"), text_delta("x")])
        raise ConnectionResetError("peer reset")

    kinds = [e.kind for e in the_errors(run_source(from_chunks(chunks)))]
    assert kinds == ["server_error", "stream_interrupted"]


@pytest.mark.asyncio
async def test_a_dropped_connection_after_an_error_event_gives_only_that_error() -> None:
    recording = sse([created(), error_event(message="overloaded"), text_delta("never")])
    async with ReplayServer([recording], events_per_second=None, close_after=2) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url))
    assert types(items) == ["start", "metadata", "error", "done"]
    assert one_error(items).message == "overloaded"


# ---- the server's message, code and kind -----------------------------------------


def test_the_message_is_the_servers_own_without_a_prefix() -> None:
    items = run_events([error_event(message="The model is overloaded.")])
    assert one_error(items).message == "The model is overloaded."


@pytest.mark.parametrize(
    ("code", "text", "kind", "retryable"),
    [
        (400, "400", "server_error", False),
        (404, "404", "server_error", False),
        (499, "499", "server_error", False),
        (408, "408", "server_error", True),
        (409, "409", "server_error", True),
        (429, "429", "rate_limited", True),
        (500, "500", "server_error", True),
        (503, "503", "server_error", True),
        ("400", "400", "server_error", True),  # only an integer code says 4xx
    ],
)
def test_an_integer_code_is_its_decimal_text(
    code: object, text: str, kind: str, retryable: bool
) -> None:
    for event in (error_event(code=code, message="m"), error_event(error={"code": code})):
        error = one_error(run_events([event]))
        assert (error.code, error.kind, error.retryable) == (text, kind, retryable)


def test_an_integer_code_in_response_failed_is_its_decimal_text() -> None:
    error = one_error(run_events([failed(code=400, message="bad")]))
    assert (error.code, error.retryable) == ("400", False)


@pytest.mark.parametrize("code", [1.5, True, None, [], {"a": 1}, ["x"]])
def test_a_code_of_another_type_is_absent_and_never_fails_the_event(code: object) -> None:
    error = one_error(run_events([error_event(code=code, error={"code": code})]))
    assert (error.kind, error.code, error.message) == ("server_error", None, "unknown error")


def test_an_integer_code_stands_in_for_a_missing_message() -> None:
    assert one_error(run_events([error_event(code=503)])).message == "503"


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=6,
    )
)
def test_any_json_code_gives_one_server_error_never_a_decode_error(code: object) -> None:
    for event in (
        error_event(code=code, message="m"),
        error_event(error={"code": code, "message": "m"}),
        failed(code=code, message="m"),
    ):
        items = run_events([event, completed()])
        error = one_error(items)
        assert error.kind in ("server_error", "rate_limited")
        assert error.code is None or isinstance(error.code, str)
        assert isinstance(items[-1], Done)


@pytest.mark.parametrize("code", sorted(FATAL_CODES))
def test_codes_no_retry_can_fix_are_not_retryable(code: str) -> None:
    for event in (error_event(code=code), error_event(error={"code": code}), failed(code=code)):
        assert one_error(run_events([event])).retryable is False


def test_the_new_fatal_codes_are_listed() -> None:
    assert {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
    } <= FATAL_CODES


def test_a_nested_invalid_request_error_type_is_not_retryable() -> None:
    for event in (
        error_event(error={"type": "invalid_request_error", "message": "bad"}),
        failed(type="invalid_request_error", message="bad"),
    ):
        assert one_error(run_events([event])).retryable is False


@pytest.mark.parametrize(
    "event",
    [
        error_event(code="rate_limit_exceeded", message="slow"),
        error_event(error={"code": "rate_limit_exceeded"}),
        error_event(error={"type": "rate_limit_error", "message": "slow"}),
        error_event(error={"type": "tokens_rate_limit", "message": "slow"}),
        failed(code="rate_limit_exceeded", message="slow"),
        failed(type="rate_limit_error", message="slow"),
    ],
)
def test_an_in_stream_rate_limit_is_rate_limited(event: dict[str, Any]) -> None:
    error = one_error(run_events([event]))
    assert (error.kind, error.retryable, error.status) == ("rate_limited", True, None)


def test_an_in_stream_quota_error_is_neither_a_rate_limit_nor_retryable() -> None:
    error = one_error(run_events([error_event(code="insufficient_quota", message="quota")]))
    assert (error.kind, error.retryable) == ("server_error", False)


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Please try again in 11.054s.", 11.054),
        ("Try again in 28ms", 0.028),
        ("try again in 35 seconds", 35.0),
        ("try again in 1 second", 1.0),
        ("try again in 5 sec.", 5.0),
        ("Please try again in 7m12.48s.", 432.48),
        ("try again in 1h2m3s", 3723.0),
        ("try again in 2m", 120.0),
        ("try again in a moment", None),
        ("no hint here", None),
    ],
)
def test_retry_after_comes_from_try_again_in(message: str, seconds: float | None) -> None:
    error = one_error(run_events([error_event(code="rate_limit_exceeded", message=message)]))
    if seconds is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(seconds)


def test_a_failed_response_gives_its_retry_after_too() -> None:
    error = one_error(run_events([failed(code="rate_limit_exceeded", message="try again in 3s")]))
    assert error.retry_after == 3.0


# ---- HTTP errors before the stream ----------------------------------------------


async def http_error(**options: Any) -> Error:
    async with ReplayServer([sse([created(), completed()])], **options) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url))
    return only_error(items)


@pytest.mark.asyncio
async def test_an_http_error_body_code_falls_back_to_its_type() -> None:
    body = {"error": {"type": "overloaded_error", "message": "busy"}}
    error = await http_error(status=529, error_body=body)
    assert (error.kind, error.code, error.message, error.retryable) == (
        "server_error",
        "overloaded_error",
        "busy",
        True,
    )


@pytest.mark.asyncio
async def test_an_http_error_body_integer_code_is_its_decimal_text() -> None:
    body = {"error": {"code": 429, "type": "requests", "message": "slow down"}}
    error = await http_error(status=429, error_body=body)
    assert (error.kind, error.code, error.retryable) == ("rate_limited", "429", True)


@pytest.mark.asyncio
async def test_an_http_error_body_without_a_message_gives_the_reason_phrase() -> None:
    error = await http_error(status=503, error_body={"error": {"code": "down"}})
    assert (error.code, error.message) == ("down", "Service Unavailable")


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["request_too_large", "authentication_error", "not_found_error"])
async def test_an_http_5xx_with_a_fatal_type_is_not_retryable(kind: str) -> None:
    error = await http_error(status=500, error_body={"error": {"type": kind, "message": "m"}})
    assert (error.code, error.retryable) == (kind, False)


@pytest.mark.asyncio
async def test_retry_after_ms_wins_over_retry_after() -> None:
    error = await http_error(status=429, headers={"retry-after-ms": "1500", "Retry-After": "9"})
    assert error.retry_after == 1.5


@pytest.mark.asyncio
async def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert (await http_error(status=503, retry_after="7")).retry_after == 7.0
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    delay = (await http_error(status=429, retry_after=when)).retry_after
    assert delay is not None
    assert 50 <= delay <= 61


@pytest.mark.asyncio
async def test_an_http_retry_after_from_the_message_as_a_duration() -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "Try again in 1m30s."}}
    assert (await http_error(status=429, error_body=body)).retry_after == 90.0


@pytest.mark.asyncio
async def test_the_key_never_shows_in_an_http_error_code_taken_from_the_type() -> None:
    body = {"error": {"type": f"bad_{KEY}", "message": f"key {KEY} refused"}}
    async with ReplayServer([sse([created()])], status=401, error_body=body) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url, api_key=KEY))
    error = only_error(items)
    assert error.code == "bad_[redacted]"
    assert KEY not in json.dumps(msgspec.to_builtins(items))


@pytest.mark.asyncio
async def test_the_key_never_shows_in_a_failed_response_error() -> None:
    recording = sse([created(), failed(code=f"auth:{KEY}", message=f"failed for {KEY}")])
    async with ReplayServer([recording], events_per_second=None) as server:
        items = await collect(stream_responses(BODY, base_url=server.base_url, api_key=KEY))
    error = one_error(items)
    assert (error.code, error.message) == ("auth:[redacted]", "failed for [redacted]")


def test_items_of_a_cut_stream_are_unchanged_but_the_error() -> None:
    items = run(sse([created(), text_delta("Hi")]))
    assert items[1:4] == [
        Metadata(response_id="resp_1", model="gpt-5"),
        PartStart("text", 0),
        Text("Hi"),
    ]
