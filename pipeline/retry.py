"""``retry_responses``: request again when a stream fails before it said anything.

A retry is safe only while the caller has seen nothing of the answer, so the
operator holds back ``start`` and ``metadata`` until the first item that is
not ``start``, ``metadata``, ``error`` or ``done`` arrives. Until then a
retryable ``error`` ends the attempt silently (its held items are dropped and
its subscription disposed) and, after a delay, a new attempt subscribes. A
non-retryable error, the last attempt's error, or any other item ends the
retrying: the held items are released and everything passes unchanged.
"""

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable, SingleAssignmentDisposable
from reactivex.scheduler import CurrentThreadScheduler, TimeoutScheduler
from reactivex.scheduler.eventloop import AsyncIOScheduler

from .operators import Error, Item, Metadata, Start

#: The longest exponent of the backoff; past it the delay is ``max_delay`` anyway.
_MAX_EXPONENT = 60


def backoff_delay(
    failures: int,
    *,
    base_delay: float,
    max_delay: float,
    jitter: float | Callable[[float], float],
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1 for the first).

    The backoff is ``base_delay * 2 ** (failures - 1)``, at most ``max_delay``.
    A float ``jitter`` multiplies it by a random factor in ``[1 - jitter,
    1 + jitter]``; a callable gets the backoff and returns the delay. The
    result is clamped to ``[0, max_delay]``.
    """
    exponent = min(max(failures - 1, 0), _MAX_EXPONENT)
    backoff = min(base_delay * 2**exponent, max_delay)
    delay = jitter(backoff) if callable(jitter) else backoff * (1.0 + uniform(-jitter, jitter))
    return max(0.0, min(delay, max_delay))


def _default_scheduler() -> abc.SchedulerBase:
    """The running asyncio loop if there is one (the HTTP source needs it), else timer threads."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return TimeoutScheduler.singleton()
    return AsyncIOScheduler(loop)


def retry_responses(
    make_items: Callable[[], Observable[Item]] | Observable[Item],
    *,
    max_attempts: int = 3,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    jitter: float | Callable[[float], float] = 0.2,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Item]:
    """The items of a request, requested again while it fails before any content.

    Each attempt subscribes to ``make_items()`` (or re-subscribes to
    ``make_items`` when it is an observable, which must then be cold, such as
    ``responses(from_bytes(...))``). The subscriber sees one ``start``, at most
    one ``metadata`` and one ``done``: those of the attempt that ended the
    retrying.

    .. code::

        attempt 1: -start-metadata-error(rate_limited, retryable)
        attempt 2:                                  ··delay··-start-metadata-text-done-|
        [                         retry_responses()                                    ]
                                                   ··delay··-start-metadata-text-done-|

    The delay is the error's ``retry_after`` if it has one, else the backoff
    of :func:`backoff_delay`; either way at most ``max_delay``. Delays run on
    ``scheduler``, else on the scheduler given to ``subscribe``, else on the
    running asyncio loop, else on RxPY's timeout scheduler (timer threads).
    Disposing the subscription cancels a pending delay and the current attempt.

    Args:
        make_items: A factory of the request's items, or a cold observable of them.
        max_attempts: How many attempts in all (1: no retry).
        base_delay: Seconds before the first retry; doubled for each later one.
        max_delay: The longest wait between two attempts, in seconds.
        jitter: A fraction by which each backoff varies at random, or a
            function from the backoff to the delay.
        scheduler: Where the delays run (a ``TestScheduler`` for virtual time).

    Returns:
        An observable of items that keeps the stream's guarantees.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
    if base_delay < 0 or max_delay < 0:
        raise ValueError("base_delay and max_delay must not be negative")
    if not callable(jitter) and not 0 <= jitter <= 1:
        raise ValueError(f"jitter must be between 0 and 1, not {jitter}")

    def open_attempt() -> Observable[Item]:
        if isinstance(make_items, Observable):
            return make_items
        return make_items()

    def subscribe(
        observer: abc.ObserverBase[Item], scheduler_: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        timer = scheduler or scheduler_ or _default_scheduler()
        lock = threading.RLock()
        current = SerialDisposable()  # the running attempt, or the pending delay
        held: list[Item] = []
        started = 0  # attempts started so far
        live = 0  # the attempt whose items count; 0 while none does
        passing = False  # the retrying is over: items pass unchanged
        stopped = False  # disposed, or the output ended

        def start_attempt(_: abc.SchedulerBase | None = None, __: Any = None) -> None:
            nonlocal started, live
            with lock:
                if stopped:
                    return
                started += 1
                number = live = started
            try:
                items = open_attempt()
            except Exception as exc:  # the caller's factory failed
                fail(number, exc)
                return
            attempt = SingleAssignmentDisposable()
            current.disposable = attempt
            attempt.disposable = items.subscribe(
                lambda item: on_next(number, item),
                lambda exc: fail(number, exc),
                lambda: on_completed(number),
                scheduler=scheduler_,
            )

        def launch(_: abc.SchedulerBase | None = None, __: Any = None) -> None:
            # Through the trampoline, so the attempt's subscription is held
            # before a synchronous source emits (and can stop it).
            CurrentThreadScheduler.singleton().schedule(start_attempt)

        def delay_after(number: int, error: Error) -> float:
            if error.retry_after is not None:
                return max(0.0, min(error.retry_after, max_delay))
            return backoff_delay(number, base_delay=base_delay, max_delay=max_delay, jitter=jitter)

        def release() -> list[Item]:
            nonlocal passing
            passing = True
            out = held[:]
            held.clear()
            return out

        def on_next(number: int, item: Item) -> None:
            nonlocal live, stopped
            failure: Exception | None = None
            with lock:
                if stopped or number != live:
                    return
                released: list[Item] = []
                if not passing:
                    if isinstance(item, Start | Metadata):
                        held.append(item)
                        return
                    if isinstance(item, Error) and item.retryable and number < max_attempts:
                        try:
                            delay = delay_after(number, item)
                        except Exception as exc:  # the caller's jitter failed
                            failure = exc
                            stopped = True
                        else:
                            live = 0
                            held.clear()
                            # Replacing the attempt's subscription disposes it.
                            current.disposable = timer.schedule_relative(delay, launch)
                            return
                    released = release()
            for value in released:
                observer.on_next(value)
            if failure is None:
                observer.on_next(item)
            else:
                current.dispose()
                observer.on_error(failure)

        def end(number: int, signal: Callable[[], None]) -> None:
            """The live attempt ended: pass on what it held, then ``signal`` the end."""
            nonlocal stopped
            with lock:
                if stopped or number != live:
                    return
                stopped = True
                released = release()
            for value in released:
                observer.on_next(value)
            signal()

        def on_completed(number: int) -> None:
            end(number, observer.on_completed)

        def fail(number: int, exc: Exception) -> None:
            end(number, lambda: observer.on_error(exc))

        def dispose() -> None:
            nonlocal stopped
            with lock:
                stopped = True
                held.clear()
            current.dispose()

        launch()
        return Disposable(dispose)

    return Observable(subscribe)


__all__ = ["backoff_delay", "retry_responses"]
