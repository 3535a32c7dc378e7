"""``iterate(items)``: an observable as an async iterator (``async for item in ...``)."""

import asyncio
import threading
from collections import deque
from collections.abc import AsyncGenerator
from typing import TypeVar

from reactivex import Observable

from .flow import FlowControl

_T = TypeVar("_T")
_NEXT, _ERROR, _DONE = 0, 1, 2


def iterate(
    source: Observable[_T],
    *,
    max_items: int | None = None,
    flow: FlowControl | None = None,
) -> AsyncGenerator[_T, None]:
    """Yield what ``source`` emits; re-raise its ``on_error``; dispose it when the loop stops.

    Leaving the ``async for`` early (``break``, an exception, cancellation)
    disposes the subscription, which stops the source's reading.

    With ``max_items`` and the ``flow`` the source reads through, the buffer
    between the push-based stream and a slower consumer stays bounded: at
    ``max_items`` waiting items the source is paused, and it resumes when the
    consumer has caught up to half of that. (Items of the chunk being
    processed when the pause comes are still buffered: the bound is
    ``max_items`` plus one chunk's items.)

    ``max_items`` and ``flow`` go together: ReactiveX has no back-pressure, so
    a bound on the buffer can only be kept by pausing the source, and that
    takes the ``FlowControl`` the source reads through. Either one alone
    raises ``ValueError`` at once rather than bounding nothing.
    """
    if max_items is not None and max_items < 1:
        raise ValueError("max_items must be at least 1")
    if max_items is not None and flow is None:
        raise ValueError(
            "max_items needs flow=: the buffer is bounded by pausing the source through "
            "the FlowControl it reads with (e.g. http_source(..., flow=flow))"
        )
    if flow is not None and max_items is None:
        raise ValueError("flow needs max_items=: the number of waiting items that pauses it")
    return _iterate(source, max_items, flow)


async def _iterate(
    source: Observable[_T], max_items: int | None, flow: FlowControl | None
) -> AsyncGenerator[_T, None]:
    loop = asyncio.get_running_loop()
    owner = threading.get_ident()
    buffer: deque[tuple[int, object]] = deque()
    wakeup = asyncio.Event()
    paused = False

    def push(entry: tuple[int, object]) -> None:
        nonlocal paused
        buffer.append(entry)
        if flow is not None and max_items is not None and not paused and len(buffer) >= max_items:
            paused = True
            flow.pause()
        wakeup.set()

    def put(entry: tuple[int, object]) -> None:
        if threading.get_ident() == owner:
            push(entry)
        else:  # emitted from another thread: hand it to the loop
            loop.call_soon_threadsafe(push, entry)

    subscription = source.subscribe(
        lambda value: put((_NEXT, value)),
        lambda exc: put((_ERROR, exc)),
        lambda: put((_DONE, None)),
    )
    low_water = (max_items or 0) // 2
    try:
        while True:
            while not buffer:
                wakeup.clear()
                await wakeup.wait()
            kind, value = buffer.popleft()
            if paused and len(buffer) <= low_water:
                paused = False
                assert flow is not None
                flow.resume()
            if kind == _NEXT:
                yield value  # type: ignore[misc]
            elif kind == _ERROR:
                assert isinstance(value, BaseException)
                raise value
            else:
                return
    finally:
        subscription.dispose()
        if paused and flow is not None:
            flow.resume()


__all__ = ["iterate"]
