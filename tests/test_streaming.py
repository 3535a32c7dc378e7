"""SPEC §2: streaming, disposal, fan-out, failures as data; the opt-in exception operator."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.disposable import Disposable
from reactivex.subject import Subject
from rxresponses import (
    ConnectError,
    Done,
    Error,
    Item,
    PipelineError,
    RateLimited,
    ServerError,
    Start,
    StreamInterrupted,
    StreamTimeout,
    Text,
    from_async_iterable,
    from_bytes,
    from_chunks,
    from_file,
    iterate,
    raise_errors,
    responses,
)
from rxresponses.operators import FrameFormat, frame
from rxresponses.operators._frame import frame_
from rxresponses.operators._pieces import PIECED, first_lines, first_pieces

from tests.wire import (
    args_delta,
    completed,
    function_call_added,
    sse,
    text_delta,
    tool_calls,
    types,
)

BODY = sse([text_delta("a"), text_delta("b"), text_delta("c"), completed()])


def without_start(items: list[Item]) -> list[Item]:
    return [item for item in items if not isinstance(item, Start)]


def test_first_item_arrives_before_the_source_completes() -> None:
    chunks = [sse([text_delta("early")]), sse([completed()])]
    read: list[int] = []
    seen_when_first_text: list[int] = []

    def source() -> Iterator[bytes]:
        for index, chunk in enumerate(chunks):
            read.append(index)
            yield chunk

    def on_next(item: Item) -> None:
        if isinstance(item, Text) and not seen_when_first_text:
            seen_when_first_text.append(len(read))

    responses(from_chunks(source)).subscribe(on_next)

    assert seen_when_first_text == [1]  # only the first chunk had been read
    assert read == [0, 1]


def test_a_large_chunk_goes_on_in_pieces_of_1_4_16_events_then_of_64_kib() -> None:
    chunk = sse([text_delta("token")]) * 3000

    pieces = list(first_pieces(chunk))

    assert b"".join(pieces) == chunk
    assert [piece.count(b"\n\n") for piece in pieces[:3]] == [1, 4, 16]
    assert all(piece.endswith(b"\n\n") for piece in pieces[:3])
    assert all(len(piece) <= 64 * 1024 for piece in pieces)
    assert len(pieces) < 3 + len(chunk) // (64 * 1024) + 2


def test_after_long_events_the_next_piece_is_one_event_again() -> None:
    # A message's .done events repeat its text and give no item: the event
    # after them goes on alone, not behind the events that follow it.
    long_events = sse([{"type": "response.output_text.done", "text": "x" * 12_000}] * 3)
    chunk = long_events + sse([text_delta("token")]) * 3000

    pieces = list(first_pieces(chunk))

    assert [piece.count(b"\n\n") for piece in pieces[:6]] == [1, 1, 1, 1, 4, 16]
    assert b"".join(pieces) == chunk


def test_json_lines_go_on_in_pieces_of_1_4_16_lines() -> None:
    chunk = b'{"type":"response.output_text.delta","delta":"token"}\n' * 3000

    pieces = list(first_lines(chunk))

    assert [piece.count(b"\n") for piece in pieces[:3]] == [1, 4, 16]
    assert b"".join(pieces) == chunk


def test_a_large_chunk_with_no_blank_line_is_cut_by_size() -> None:
    chunk = b"data: " + b"x" * 200_000

    pieces = list(first_pieces(chunk))

    assert b"".join(pieces) == chunk
    assert all(len(piece) <= 64 * 1024 for piece in pieces)


@pytest.mark.parametrize("size", [1, PIECED - 1, PIECED])
def test_a_chunk_of_8_kib_or_less_goes_whole(size: int) -> None:
    chunk = b"x" * size

    assert list(first_pieces(chunk)) == [chunk]


@pytest.mark.parametrize("format", ["sse", "jsonl"])
def test_the_first_frames_of_a_large_chunk_go_on_before_the_rest_is_framed(
    format: FrameFormat,
) -> None:
    # The first items of a large network read must not wait for all of it.
    small = (
        sse([text_delta("token")])
        if format == "sse"
        else b'{"type":"response.output_text.delta","delta":"token"}\n'
    )
    chunk = small * 3000
    batches: list[int] = []

    frame(format)(reactivex.of(chunk)).subscribe(lambda frames: batches.append(len(frames)))

    assert sum(batches) == 3000
    assert batches[:3] == [1, 4, 16]
    assert all(size <= 65536 // len(small) + 1 for size in batches)


def test_without_the_latency_policy_a_chunk_goes_on_in_one_batch() -> None:
    chunk = sse([text_delta("token")]) * 3000
    batches: list[int] = []

    frame_(cut=None)(reactivex.of(chunk)).subscribe(lambda frames: batches.append(len(frames)))

    assert batches == [3000]


def test_items_arrive_as_each_chunk_of_a_hot_source_is_pushed() -> None:
    subject: Subject[bytes] = Subject()
    items: list[Item] = []
    responses(subject).subscribe(items.append)

    subject.on_next(sse([text_delta("one")]))
    assert types(items) == ["start", "part_start", "text"]
    subject.on_next(sse([completed()]))
    assert types(items) == ["start", "part_start", "text", "done"]


def test_publish_fans_one_stream_out_identically_to_three_observers() -> None:
    shared = responses(from_bytes(BODY, 5)).pipe(ops.publish())
    seen: list[list[Item]] = [[], [], []]
    for sink in seen:
        shared.subscribe(sink.append)
    shared.connect()

    assert seen[0] == seen[1] == seen[2]
    assert types(seen[0]) == ["start", "part_start", "text", "text", "text", "done"]


def test_each_subscription_to_a_rereadable_source_runs_its_own_stream() -> None:
    opened: list[int] = []

    def chunks() -> Iterator[bytes]:
        opened.append(1)
        yield BODY

    stream = responses(from_chunks(chunks))
    first: list[Item] = []
    second: list[Item] = []
    stream.subscribe(first.append)
    stream.subscribe(second.append)

    assert len(opened) == 2
    assert without_start(first) == without_start(second)
    assert isinstance(first[0], Start)
    assert isinstance(second[0], Start)
    assert first[0].message_id != second[0].message_id


def test_subscriber_that_takes_three_items_stops_the_reading() -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index in range(100):
            read.append(index)
            yield sse([text_delta(str(index))])

    items: list[Item] = []
    responses(from_chunks(chunks)).pipe(ops.take(3)).subscribe(items.append)

    assert types(items) == ["start", "part_start", "text"]
    assert len(read) <= 2


def test_disposing_early_delivers_nothing_more_not_even_done() -> None:
    subject: Subject[bytes] = Subject()
    items: list[Item] = []
    subscription = responses(subject).subscribe(items.append)
    subject.on_next(sse([text_delta("x")]))
    subscription.dispose()
    subject.on_next(sse([text_delta("y"), completed()]))
    subject.on_completed()

    assert types(items) == ["start", "part_start", "text"]


def test_terminal_event_disposes_the_source_and_stops_the_reading() -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield sse([text_delta("x"), completed()])
        for index in range(50):
            read.append(index)
            yield sse([text_delta("never")])

    items: list[Item] = []
    responses(from_chunks(chunks)).subscribe(items.append)

    assert types(items) == ["start", "part_start", "text", "done"]
    assert read == []


def failing_after(data: bytes, exc: Exception) -> Observable[bytes]:
    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        observer.on_next(data)
        observer.on_error(exc)
        return Disposable()

    return Observable(subscribe)


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (ConnectionResetError("reset by peer"), "stream_interrupted", True),
        (TimeoutError("idle"), "timeout", True),
        (StreamTimeout("no bytes for 5 s"), "timeout", True),
        (ConnectError("refused"), "connect_error", True),
        (RateLimited("slow down", status=429, retry_after=2.0), "rate_limited", True),
        (ServerError("bad gateway", status=502), "server_error", True),
        (RuntimeError("anything else"), "stream_interrupted", True),
    ],
)
def test_source_failure_is_one_error_item_then_pending_calls_then_done(
    exc: Exception, kind: str, retryable: bool
) -> None:
    data = sse([function_call_added(), args_delta('{"a":')])
    items: list[Item] = []
    failures: list[Exception] = []
    responses(failing_after(data, exc)).subscribe(items.append, failures.append)

    assert failures == []
    assert types(items) == [
        "start",
        "tool_request_start",
        "tool_request_arg",
        "error",
        "tool_request_complete",
        "done",
    ]
    error = items[3]
    assert isinstance(error, Error)
    assert (error.kind, error.retryable) == (kind, retryable)
    assert tool_calls(items)[0].partial is True
    if isinstance(exc, PipelineError):
        assert (error.status, error.retry_after) == (exc.status, exc.retry_after)


def test_source_failure_after_a_terminal_event_is_ignored() -> None:
    items: list[Item] = []
    responses(failing_after(sse([completed()]), ConnectionResetError())).subscribe(items.append)

    assert types(items) == ["start", "done"]
    assert items[-1] == Done(stop_reason="end_turn")


def test_exception_in_the_callers_own_observer_reaches_the_caller() -> None:
    def explode(item: Item) -> None:
        if isinstance(item, Text):
            raise KeyError("caller bug")

    with pytest.raises(KeyError, match="caller bug"):
        responses(from_bytes(BODY)).subscribe(explode)


def test_raise_errors_turns_the_first_error_item_into_its_exception() -> None:
    body = sse([text_delta("a"), {"type": "error", "code": "insufficient_quota", "message": "q"}])
    items: list[Item] = []
    failures: list[Exception] = []
    responses(from_bytes(body)).pipe(raise_errors()).subscribe(items.append, failures.append)

    assert types(items) == ["start", "part_start", "text"]
    [failure] = failures
    assert isinstance(failure, ServerError)
    assert (failure.kind, failure.code, failure.retryable) == (
        "server_error",
        "insufficient_quota",
        False,
    )


def test_raise_errors_maps_kinds_to_stdlib_friendly_exceptions() -> None:
    failures: list[Exception] = []
    responses(from_bytes(sse([text_delta("half")]))).pipe(raise_errors()).subscribe(
        on_error=failures.append
    )

    [failure] = failures
    assert isinstance(failure, StreamInterrupted)
    assert isinstance(failure, ConnectionError)
    assert failure.retryable is True


def test_raise_errors_can_let_chosen_kinds_pass_as_items() -> None:
    body = b"data: {not json}\n\n" + sse([text_delta("ok"), completed()])
    items: list[Item] = []
    failures: list[Exception] = []
    responses(from_bytes(body)).pipe(raise_errors(ignore={"decode_error"})).subscribe(
        items.append, failures.append
    )

    assert failures == []
    assert types(items) == ["start", "error", "part_start", "text", "done"]


def test_secrets_are_redacted_from_server_error_messages() -> None:
    key = "sk-test-0123456789"
    body = sse([{"type": "error", "message": f"Incorrect API key provided: {key}"}, completed()])
    items: list[Item] = []
    responses(from_bytes(body), secrets=[key]).subscribe(items.append)

    error = items[1]
    assert isinstance(error, Error)
    assert key not in error.message
    assert "[redacted]" in error.message


def test_file_source_reads_the_file_anew_per_subscription(tmp_path: Path) -> None:
    path = tmp_path / "stream.sse"
    path.write_bytes(BODY)
    stream = responses(from_file(path, chunk_size=3))
    first: list[Item] = []
    second: list[Item] = []
    stream.subscribe(first.append)
    stream.subscribe(second.append)

    assert without_start(first) == without_start(second)
    assert types(first) == ["start", "part_start", "text", "text", "text", "done"]


def test_missing_file_is_a_stream_interrupted_error_item(tmp_path: Path) -> None:
    items: list[Item] = []
    responses(from_file(tmp_path / "absent.sse")).subscribe(items.append)

    assert types(items) == ["start", "error", "done"]


def test_from_bytes_rejects_a_chunk_size_below_one() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        from_bytes(b"", 0)


@pytest.mark.asyncio
async def test_async_source_and_iterate_stream_items_as_they_come() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse([text_delta("one")])
        await asyncio.sleep(0.01)
        yield sse([text_delta("two"), completed()])

    seen: list[str] = []
    async for item in iterate(responses(from_async_iterable(body))):
        seen.append(str(type(item).__struct_config__.tag))

    assert seen == ["start", "part_start", "text", "text", "done"]


@pytest.mark.asyncio
async def test_leaving_iterate_early_cancels_the_async_source() -> None:
    cancelled = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield sse([text_delta("more")])
                await asyncio.sleep(0.001)
        finally:
            cancelled.set()

    count = 0
    async for _ in iterate(responses(from_async_iterable(endless))):
        count += 1
        if count == 3:
            break

    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert count == 3


@pytest.mark.asyncio
async def test_share_on_an_async_source_fans_out_identically() -> None:
    async def body() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.01)
        yield BODY

    shared = responses(from_async_iterable(body)).pipe(ops.share())
    first: list[Item] = []
    second: list[Item] = []
    done = asyncio.Event()
    shared.subscribe(first.append)
    shared.subscribe(second.append, on_completed=done.set)
    await asyncio.wait_for(done.wait(), 1.0)

    assert first == second
    assert types(first) == ["start", "part_start", "text", "text", "text", "done"]


def test_composes_with_other_observables() -> None:
    merged: list[Item] = []
    reactivex.merge(
        responses(from_bytes(BODY)).pipe(ops.filter(lambda item: isinstance(item, Text))),
        responses(from_bytes(BODY)).pipe(ops.filter(lambda item: isinstance(item, Done))),
    ).subscribe(merged.append)

    assert types(merged) == ["text", "text", "text", "done"]


def test_a_large_chunk_ending_in_the_middle_of_an_event_after_a_line_end() -> None:
    # The search for the first event's end stops at the chunk's last byte.
    head = sse([text_delta("x" * 10_000)])[:-1]  # the blank line's second "\n" comes later
    tail = b"\n" + sse([completed()])

    items = responses(reactivex.from_iterable([head, tail])).pipe(ops.to_list()).run()

    assert types(without_start(items)) == ["part_start", "text", "done"]
