"""``iterate(items)``: an observable as an async iterator (``async for item in ...``)."""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import TypeVar

from reactivex import Observable

_T = TypeVar("_T")
_NEXT, _ERROR, _DONE = 0, 1, 2


async def iterate(source: Observable[_T]) -> AsyncIterator[_T]:
    """Yield what ``source`` emits; re-raise its ``on_error``; dispose it when the loop stops.

    Leaving the ``async for`` early (``break``, an exception, cancellation)
    disposes the subscription, which stops the source's reading.
    """
    loop = asyncio.get_running_loop()
    owner = threading.get_ident()
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()

    def put(entry: tuple[int, object]) -> None:
        if threading.get_ident() == owner:
            queue.put_nowait(entry)
        else:  # emitted from another thread: hand it to the loop
            loop.call_soon_threadsafe(queue.put_nowait, entry)

    subscription = source.subscribe(
        lambda value: put((_NEXT, value)),
        lambda exc: put((_ERROR, exc)),
        lambda: put((_DONE, None)),
    )
    try:
        while True:
            kind, value = await queue.get()
            if kind == _NEXT:
                yield value  # type: ignore[misc]
            elif kind == _ERROR:
                assert isinstance(value, BaseException)
                raise value
            else:
                return
    finally:
        subscription.dispose()


__all__ = ["iterate"]
