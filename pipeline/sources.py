"""Byte sources: cold observables that read on subscribe and stop reading when disposed.

The synchronous ones (bytes, files) run their loop on RxPY's current-thread
trampoline, so a subscriber (or ``finalize``) holds its subscription before
the first chunk arrives and can stop the reading mid-stream.
"""

import asyncio
import os
from collections.abc import AsyncIterable, Callable, Iterator
from typing import IO, Any

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.scheduler import CurrentThreadScheduler

from .flow import FlowControl
from .operators import UsageError

DEFAULT_CHUNK_SIZE = 64 * 1024


def from_chunks(open_chunks: Callable[[], Iterator[bytes]]) -> Observable[bytes]:
    """A source that calls ``open_chunks()`` on each subscription and emits what it yields.

    The iterator is closed (``close()``, if it has one) when the stream ends or
    is disposed; a failure while reading goes to ``on_error``.
    """

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        disposed = False

        def run(_: abc.SchedulerBase, __: Any = None) -> None:
            try:
                chunks = open_chunks()
            except Exception as exc:
                observer.on_error(exc)
                return
            try:
                while not disposed:
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        observer.on_completed()
                        return
                    except Exception as exc:
                        observer.on_error(exc)
                        return
                    observer.on_next(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

        def dispose() -> None:
            nonlocal disposed
            disposed = True

        runner = scheduler or CurrentThreadScheduler.singleton()
        return CompositeDisposable(Disposable(dispose), runner.schedule(run))

    return Observable(subscribe)


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")


def from_bytes(data: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Observable[bytes]:
    """``data`` in chunks of ``chunk_size`` bytes."""
    _check_chunk_size(chunk_size)
    view = bytes(data)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(view), chunk_size):
            yield view[start : start + chunk_size]

    return from_chunks(chunks)


def read_chunks(file: IO[bytes], chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks of an open binary file; a pipe's chunks come as soon as they are there."""
    read = getattr(file, "read1", file.read)
    while chunk := read(chunk_size):
        yield chunk


def _open_to_read(path: str | os.PathLike[str]) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot read {os.fsdecode(path)!r}: {reason}") from exc


def from_file(
    path: str | os.PathLike[str], chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Observable[bytes]:
    """The file at ``path``, opened anew on each subscription and closed when done.

    A file that cannot be opened (missing, unreadable, a directory) is a
    ``UsageError`` (kind ``usage_error``, not retryable): the stream could not
    start as asked. A failure while reading it is the stream's
    (``stream_interrupted``).
    """
    _check_chunk_size(chunk_size)

    def chunks() -> Iterator[bytes]:
        with _open_to_read(path) as file:
            yield from read_chunks(file, chunk_size)

    return from_chunks(chunks)


def from_async_iterable(
    iterable: AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]],
    *,
    flow: FlowControl | None = None,
) -> Observable[bytes]:
    """Chunks from an async iterable, read by a task on the running event loop.

    Pass a callable returning a fresh iterable to make the source re-readable;
    disposing the subscription cancels the task. With ``flow``, the next
    chunk is not asked for while a consumer has paused it.
    """

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        loop = asyncio.get_running_loop()
        chunks = iterable() if callable(iterable) else iterable

        async def pump() -> None:
            try:
                iterator = aiter(chunks)
                while True:
                    if flow is not None:
                        await flow.ready()
                    try:
                        chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    observer.on_next(chunk)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                observer.on_error(exc)
                return
            observer.on_completed()

        task = loop.create_task(pump())

        def cancel() -> None:
            task.cancel()

        return Disposable(cancel)

    return Observable(subscribe)


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "from_async_iterable",
    "from_bytes",
    "from_chunks",
    "from_file",
    "read_chunks",
]
