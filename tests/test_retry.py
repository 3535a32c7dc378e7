"""``retry_responses``: retries while nothing was said, on real chains built from recorded bodies.

Delays run in virtual time (``TestScheduler``): the clock is in seconds, the
first attempt subscribes at 200.
"""

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex import Notification, Observable
from reactivex.notification import OnNext
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.recorded import Recorded
from rxresponses import (
    Done,
    Error,
    Item,
    Metadata,
    Start,
    Text,
    from_async_iterable,
    from_bytes,
    from_chunks,
    iterate,
    responses,
)
from rxresponses.retry import backoff_delay, retry_responses

from .helpers import as_json, check_items, without_message_id

SUBSCRIBED = float(ReactiveTest.subscribed)
FAR = 100_000.0


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        b"event: %s\ndata: %s\n\n" % (e["type"].encode(), json.dumps(e).encode()) for e in events
    )


def _created(response_id: str) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id, "model": "gpt-5"}}


def _error_event(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


def _text(delta: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "output_index": 0, "delta": delta}


def _completed(response_id: str) -> dict[str, Any]:
    return {
        "type": "response.completed",
        "response": {
            "id": response_id,
            "status": "completed",
            "usage": {"input_tokens": 3, "output_tokens": 2},
        },
    }


# Recorded-style bodies, each a different way for an attempt to go.
RATE_LIMITED = _sse(
    _created("resp_rl"),
    _error_event("rate_limit_exceeded", "Rate limit reached. Please try again in 20ms."),
)
RATE_LIMITED_35S = _sse(
    _created("resp_rl"),
    _error_event("rate_limit_exceeded", "Rate limit reached. Please try again in 35 seconds."),
)
INTERRUPTED = _sse(_created("resp_cut"))  # ends before any content: stream_interrupted
EMPTY = b""
FAILED = _sse(
    _created("resp_failed"),
    {"type": "response.failed", "response": {"id": "resp_failed", "error": {"message": "boom"}}},
)
QUOTA = _sse(
    _created("resp_quota"),
    {
        "type": "error",
        "error": {
            "type": "insufficient_quota",
            "code": "insufficient_quota",
            "message": "You exceeded your current quota.",
        },
    },
    {
        "type": "response.failed",
        "response": {"id": "resp_quota", "error": {"code": "insufficient_quota", "message": "q"}},
    },
)
BROKEN_FIRST = b'event: response.created\ndata: {"type":"response.created","response":\n\n'
TEXT_THEN_RATE_LIMITED = _sse(
    _created("resp_partial"),
    _text("Hal"),
    _error_event("rate_limit_exceeded", "Rate limit reached. Please try again in 20ms."),
)
TOOL_CUT = _sse(
    _created("resp_tool"),
    {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f"},
    },
    {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"a":'},
)
GOOD = _sse(_created("resp_ok"), _text("Hel"), _text("lo"), _completed("resp_ok"))


class Attempts:
    """A factory of chains over recorded bodies, one body per attempt (the last one repeats).

    Records the virtual time of each attempt.
    """

    def __init__(self, scheduler: TestScheduler | None, *bodies: bytes, chunk_size: int = 5):
        self.scheduler = scheduler
        self.bodies = bodies
        self.chunk_size = chunk_size
        self.times: list[float] = []

    def __call__(self) -> Observable[Item]:
        number = len(self.times)
        self.times.append(float(self.scheduler.clock) if self.scheduler else 0.0)
        body = self.bodies[min(number, len(self.bodies) - 1)]
        return responses(from_bytes(body, self.chunk_size))

    @property
    def delays(self) -> list[float]:
        return [round(b - a, 9) for a, b in zip(self.times, self.times[1:], strict=False)]


def run_virtual(
    attempts: Callable[[], Observable[Item]] | Observable[Item],
    scheduler: TestScheduler,
    *,
    disposed: float = FAR,
    **options: Any,
) -> tuple[list[Item], list[str]]:
    """The items delivered, and the kinds of notification ("N", "E", "C") in order."""
    options.setdefault("jitter", 0.0)
    results = scheduler.start(
        lambda: retry_responses(attempts, scheduler=scheduler, **options), disposed=disposed
    )
    return _unpack(results.messages)


def _unpack(messages: Sequence[Recorded[Item]]) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    kinds: list[str] = []
    for message in messages:
        notification = message.value
        assert isinstance(notification, Notification)
        kinds.append(notification.kind)
        if isinstance(notification, OnNext):
            items.append(notification.value)
    return items, kinds


def _direct(body: bytes) -> list[dict[str, Any]]:
    """The items one plain run of ``body`` gives, ``message_id`` blanked."""
    out: list[Item] = []
    responses(from_bytes(body)).subscribe(out.append)
    return without_message_id(as_json(out))


# ---- retrying -------------------------------------------------------------


def test_rate_limited_attempt_is_retried_and_the_next_attempt_is_delivered() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, RATE_LIMITED, GOOD)
    items, kinds = run_virtual(attempts, scheduler)
    assert kinds[-1] == "C"
    assert len(attempts.times) == 2
    objects = check_items(items)
    assert without_message_id(objects) == _direct(GOOD)
    assert [type(i) for i in items].count(Start) == 1
    assert [i for i in items if isinstance(i, Metadata)] == [
        Metadata(response_id="resp_ok", model="gpt-5")
    ]
    assert not any(isinstance(i, Error) for i in items)


def test_retried_output_keeps_the_start_of_the_delivered_attempt() -> None:
    scheduler = TestScheduler()
    starts: list[str] = []
    attempts = Attempts(scheduler, INTERRUPTED, GOOD)

    def tapped() -> Observable[Item]:
        chain = attempts()

        def subscribe(observer: Any, scheduler_: Any = None) -> Any:
            def on_next(item: Item) -> None:
                if isinstance(item, Start):
                    starts.append(item.message_id)
                observer.on_next(item)

            return chain.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler_
            )

        return Observable(subscribe)

    items, _ = run_virtual(tapped, scheduler)
    assert len(starts) == 2
    assert starts[0] != starts[1]
    assert items[0] == Start(message_id=starts[1])


def test_error_that_no_retry_can_fix_passes_through_without_a_retry() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, QUOTA, GOOD)
    items, kinds = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 1
    assert kinds[-1] == "C"
    assert without_message_id(check_items(items)) == _direct(QUOTA)
    first_error = next(i for i in items if isinstance(i, Error))
    assert first_error.code == "insufficient_quota"
    assert not first_error.retryable


def test_decode_error_before_content_is_not_retried() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, BROKEN_FIRST, GOOD)
    items, _ = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 1
    objects = check_items(items)
    assert objects[1]["type"] == "error"
    assert objects[1]["kind"] == "decode_error"
    assert without_message_id(objects) == _direct(BROKEN_FIRST)


def test_error_after_text_is_not_retried() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, TEXT_THEN_RATE_LIMITED, GOOD)
    items, _ = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 1
    objects = check_items(items)
    assert without_message_id(objects) == _direct(TEXT_THEN_RATE_LIMITED)
    assert [o["type"] for o in objects[:5]] == ["start", "metadata", "part_start", "text", "error"]


def test_tool_call_start_ends_the_retrying() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, TOOL_CUT, GOOD)
    items, _ = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 1
    objects = check_items(items)
    assert without_message_id(objects) == _direct(TOOL_CUT)
    assert objects[-2]["type"] == "tool_request_complete"
    assert objects[-2]["tool_call"]["partial"] is True


def test_last_attempt_error_passes_through_with_its_done() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, RATE_LIMITED)
    items, kinds = run_virtual(attempts, scheduler, max_attempts=3)
    assert len(attempts.times) == 3
    assert kinds.count("C") == 1
    assert "E" not in kinds
    objects = check_items(items)
    assert without_message_id(objects) == _direct(RATE_LIMITED)
    # the error the stream sent, and no second one for its end
    assert [o["type"] for o in objects] == ["start", "metadata", "error", "done"]
    assert objects[2]["retryable"] is True


def test_single_attempt_never_retries() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, EMPTY, GOOD)
    items, _ = run_virtual(attempts, scheduler, max_attempts=1)
    assert len(attempts.times) == 1
    assert without_message_id(check_items(items)) == _direct(EMPTY)


def test_failed_response_with_a_retryable_error_is_retried() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, FAILED, GOOD)
    items, _ = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 2
    assert without_message_id(check_items(items)) == _direct(GOOD)


def test_observable_given_instead_of_a_factory_is_subscribed_again() -> None:
    scheduler = TestScheduler()
    bodies = iter([EMPTY, INTERRUPTED, GOOD])
    opened: list[int] = []

    def open_body() -> Any:
        opened.append(1)
        return iter([next(bodies)])

    source = responses(from_chunks(open_body))
    items, _ = run_virtual(source, scheduler)
    assert len(opened) == 3
    assert without_message_id(check_items(items)) == _direct(GOOD)


# ---- holding start and metadata --------------------------------------------


def test_start_and_metadata_are_held_until_the_first_content() -> None:
    scheduler = TestScheduler()
    start = Start(message_id="00000000-0000-4000-8000-000000000000")
    metadata = Metadata(response_id="resp_1", model=None)
    text = Text(chunk="hi")
    done = Done(stop_reason="end_turn")
    source = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, start),
        ReactiveTest.on_next(20, metadata),
        ReactiveTest.on_next(30, text),
        ReactiveTest.on_next(40, done),
        ReactiveTest.on_completed(50),
    )
    results = scheduler.start(lambda: retry_responses(source, scheduler=scheduler))
    assert results.messages == [
        ReactiveTest.on_next(230, start),
        ReactiveTest.on_next(230, metadata),
        ReactiveTest.on_next(230, text),
        ReactiveTest.on_next(240, done),
        ReactiveTest.on_completed(250),
    ]


def test_held_items_are_released_before_an_error_that_ends_the_retrying() -> None:
    scheduler = TestScheduler()
    start = Start(message_id="00000000-0000-4000-8000-000000000000")
    metadata = Metadata(response_id="resp_1", model="m")
    fatal = Error(
        kind="server_error",
        code="context_length_exceeded",
        message="too long",
        status=None,
        retryable=False,
        retry_after=None,
    )
    done = Done(stop_reason=None)
    source = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, start),
        ReactiveTest.on_next(20, metadata),
        ReactiveTest.on_next(30, fatal),
        ReactiveTest.on_next(40, done),
        ReactiveTest.on_completed(40),
    )
    results = scheduler.start(lambda: retry_responses(source, scheduler=scheduler))
    assert results.messages == [
        ReactiveTest.on_next(230, start),
        ReactiveTest.on_next(230, metadata),
        ReactiveTest.on_next(230, fatal),
        ReactiveTest.on_next(240, done),
        ReactiveTest.on_completed(240),
    ]
    assert source.subscriptions == [ReactiveTest.subscribe(200, 240)]


def test_done_without_content_or_error_is_delivered_with_the_held_items() -> None:
    scheduler = TestScheduler()
    empty_answer = _sse(_created("resp_e"), _completed("resp_e"))
    attempts = Attempts(scheduler, empty_answer, GOOD)
    items, _ = run_virtual(attempts, scheduler)
    assert len(attempts.times) == 1
    assert without_message_id(check_items(items)) == _direct(empty_answer)


def test_failed_attempt_is_disposed_when_it_ends_silently() -> None:
    scheduler = TestScheduler()
    retryable = Error(
        kind="timeout",
        code=None,
        message="idle",
        status=None,
        retryable=True,
        retry_after=None,
    )
    first = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, Start(message_id="00000000-0000-4000-8000-000000000001")),
        ReactiveTest.on_next(20, retryable),
        ReactiveTest.on_next(30, Done(stop_reason=None)),
        ReactiveTest.on_completed(30),
    )
    second = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, Start(message_id="00000000-0000-4000-8000-000000000002")),
        ReactiveTest.on_next(20, Text(chunk="x")),
        ReactiveTest.on_next(30, Done(stop_reason="end_turn")),
        ReactiveTest.on_completed(30),
    )
    sources = iter([first, second])
    results = scheduler.start(
        lambda: retry_responses(lambda: next(sources), base_delay=5.0, jitter=0.0)
    )
    assert first.subscriptions == [ReactiveTest.subscribe(200, 220)]
    assert second.subscriptions == [ReactiveTest.subscribe(225, 255)]
    assert [m.time for m in results.messages] == [245, 245, 255, 255]


# ---- delays ---------------------------------------------------------------


def test_backoff_doubles_after_each_failed_attempt() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, EMPTY)
    run_virtual(attempts, scheduler, max_attempts=5, base_delay=1.0, max_delay=100.0)
    assert attempts.times[0] == SUBSCRIBED
    assert attempts.delays == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped_by_max_delay() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, INTERRUPTED)
    run_virtual(attempts, scheduler, max_attempts=6, base_delay=1.0, max_delay=3.0)
    assert attempts.delays == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_retry_after_of_the_error_is_honoured_instead_of_the_backoff() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, RATE_LIMITED, RATE_LIMITED, GOOD)
    run_virtual(attempts, scheduler, base_delay=10.0)
    assert attempts.delays == [0.02, 0.02]


def test_retry_after_is_capped_by_max_delay() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, RATE_LIMITED_35S, GOOD)
    run_virtual(attempts, scheduler, max_delay=5.0)
    assert attempts.delays == [5.0]


@settings(max_examples=60, deadline=None)
@given(
    jitter=st.floats(min_value=0.0, max_value=1.0),
    base_delay=st.floats(min_value=0.01, max_value=10.0),
)
def test_jittered_delays_stay_within_their_bounds(jitter: float, base_delay: float) -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, EMPTY)
    max_delay = 8 * base_delay
    run_virtual(
        attempts,
        scheduler,
        max_attempts=6,
        base_delay=base_delay,
        max_delay=max_delay,
        jitter=jitter,
    )
    assert len(attempts.delays) == 5
    for failures, delay in enumerate(attempts.delays, start=1):
        backoff = min(base_delay * 2 ** (failures - 1), max_delay)
        assert (
            backoff * (1 - jitter) - 1e-6 <= delay <= min(backoff * (1 + jitter), max_delay) + 1e-6
        )


def test_jitter_function_gets_the_backoff_and_gives_the_delay() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, EMPTY)
    seen: list[float] = []

    def halve(backoff: float) -> float:
        seen.append(backoff)
        return backoff / 2

    run_virtual(attempts, scheduler, max_attempts=4, base_delay=2.0, jitter=halve)
    assert seen == [2.0, 4.0, 8.0]
    assert attempts.delays == [1.0, 2.0, 4.0]


def test_backoff_delay_is_never_negative_nor_over_the_cap() -> None:
    assert backoff_delay(1, base_delay=1.0, max_delay=5.0, jitter=lambda b: -3.0) == 0.0
    assert backoff_delay(1, base_delay=1.0, max_delay=5.0, jitter=lambda b: 99.0) == 5.0
    assert backoff_delay(10_000, base_delay=1.0, max_delay=30.0, jitter=0.0) == 30.0


# ---- disposal -------------------------------------------------------------


def test_dispose_during_the_delay_cancels_the_retry() -> None:
    scheduler = TestScheduler()
    attempts = Attempts(scheduler, RATE_LIMITED_35S, GOOD)
    items, kinds = run_virtual(attempts, scheduler, disposed=SUBSCRIBED + 10)
    assert attempts.times == [SUBSCRIBED]
    assert items == []
    assert kinds == []
    # The virtual clock went past the end of the (capped) delay: it was due, and did not run.
    assert scheduler.clock >= SUBSCRIBED + 30


def test_dispose_during_an_attempt_stops_it() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        ReactiveTest.on_next(10, Start(message_id="00000000-0000-4000-8000-000000000000")),
        ReactiveTest.on_next(20, Text(chunk="x")),
        ReactiveTest.on_next(200, Done(stop_reason="end_turn")),
        ReactiveTest.on_completed(200),
    )
    results = scheduler.start(lambda: retry_responses(source, scheduler=scheduler), disposed=300)
    assert source.subscriptions == [ReactiveTest.subscribe(200, 300)]
    assert [m.time for m in results.messages] == [220, 220]


# ---- failures of the caller's own code --------------------------------------


def test_failing_factory_is_reported_through_on_error() -> None:
    def broken() -> Observable[Item]:
        raise RuntimeError("no client")

    failures: list[Exception] = []
    retry_responses(broken).subscribe(on_error=failures.append)
    assert [str(f) for f in failures] == ["no client"]


def test_failing_jitter_function_is_reported_through_on_error() -> None:
    scheduler = TestScheduler()

    def broken(backoff: float) -> float:
        raise ValueError("bad jitter")

    results = scheduler.start(
        lambda: retry_responses(Attempts(scheduler, EMPTY), scheduler=scheduler, jitter=broken)
    )
    _, kinds = _unpack(results.messages)
    assert kinds == ["N", "E"]  # the held start, then the failure


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -1.0}, {"jitter": 1.5}],
)
def test_invalid_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        retry_responses(Attempts(None, GOOD), **options)


# ---- real schedulers --------------------------------------------------------


def test_retries_on_the_timeout_scheduler_by_default() -> None:
    attempts = Attempts(None, EMPTY, GOOD)
    items: list[Item] = []
    finished = threading.Event()
    retry_responses(attempts, base_delay=0.0).subscribe(
        items.append, lambda _: finished.set(), finished.set
    )
    assert finished.wait(10)
    assert len(attempts.times) == 2
    assert without_message_id(check_items(items)) == _direct(GOOD)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 7):
        await asyncio.sleep(0)
        yield body[start : start + 7]


@pytest.mark.asyncio
async def test_retries_on_the_running_event_loop_with_an_async_source() -> None:
    bodies = [EMPTY, INTERRUPTED, GOOD]
    loops: list[asyncio.AbstractEventLoop] = []

    def make() -> Observable[Item]:
        loops.append(asyncio.get_running_loop())  # the async source needs the loop
        body = bodies[len(loops) - 1]
        return responses(from_async_iterable(lambda: _chunks(body)))

    items = [item async for item in iterate(retry_responses(make, base_delay=0.0))]
    assert len(loops) == 3
    assert all(loop is asyncio.get_running_loop() for loop in loops)
    assert without_message_id(check_items(items)) == _direct(GOOD)


# ---- any sequence of outcomes -------------------------------------------------

OUTCOMES: dict[str, bytes] = {
    "rate_limited": RATE_LIMITED,
    "interrupted": INTERRUPTED,
    "empty": EMPTY,
    "failed": FAILED,
    "quota": QUOTA,
    "broken_first": BROKEN_FIRST,
    "text_then_rate_limited": TEXT_THEN_RATE_LIMITED,
    "tool_cut": TOOL_CUT,
    "good": GOOD,
}
RETRIED = frozenset({"rate_limited", "interrupted", "empty", "failed"})


@settings(max_examples=80, deadline=None)
@given(
    outcomes=st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=6),
    max_attempts=st.integers(min_value=1, max_value=5),
    chunk_size=st.integers(min_value=1, max_value=64),
)
def test_any_sequence_of_attempt_outcomes_keeps_the_invariants(
    outcomes: Sequence[str], max_attempts: int, chunk_size: int
) -> None:
    scheduler = TestScheduler()
    bodies = [OUTCOMES[name] for name in outcomes]
    attempts = Attempts(scheduler, *bodies, chunk_size=chunk_size)
    items, kinds = run_virtual(attempts, scheduler, max_attempts=max_attempts, base_delay=1.0)
    assert kinds.count("C") == 1
    assert "E" not in kinds
    objects = check_items(items)  # invariants 1-4 and 7
    # The attempt that ended the retrying is the one delivered, unchanged.
    names = [outcomes[min(i, len(outcomes) - 1)] for i in range(max_attempts)]
    last = next((i for i, name in enumerate(names) if name not in RETRIED or i == max_attempts - 1))
    assert len(attempts.times) == last + 1
    assert without_message_id(objects) == _direct(OUTCOMES[names[last]])
