"""The item log behind ``rxresponses web``: one numbered list of items per stream.

A producer appends each stream's items (position 1, 2, 3, … in order, the
last one ``done``); any number of watchers follow a stream from any
position, blocking for new items, and stop after ``done``. Watchers resume
by position, never by character offset, so a reconnecting browser tab gets
every item after the last one it saw, nothing repeated.

``MemoryBroker`` keeps the log in this process (the default);
``rxresponses.redis_stream.RedisBroker`` keeps it in Redis Streams, so any
process sharing the Redis serves any stream. Both take items as
``(type, JSON)`` pairs, encoded once by the producer, so fanning one item
out to many watchers costs no re-encoding.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

import msgspec
from reactivex import abc

from .operators import Done, Error, Item

#: One item as the log keeps it: its ``type`` and its JSON form (SPEC §1).
Entry = tuple[str, bytes]
#: A followed entry and its position in the stream (1 for ``start``).
Numbered = tuple[int, str, bytes]

#: How long a finished stream stays readable by late watchers.
DEFAULT_KEEP_AFTER_DONE = 3600.0


class Broker(Protocol):
    """Where a stream's items live between the producer and its watchers."""

    async def start(self, on_cancel: Callable[[str], None]) -> None:
        """Begin serving; ``on_cancel(stream_id)`` runs when any process asks to cancel."""

    async def close(self) -> None:
        """Stop serving and release connections."""

    async def append(self, stream_id: str, first: int, entries: Sequence[Entry]) -> None:
        """Append ``entries``, the first at position ``first`` (the next one of the stream)."""

    async def last(self, stream_id: str) -> tuple[int, str] | None:
        """The position and type of the stream's last item; ``None`` for an unknown stream."""

    async def read(self, stream_id: str, after: int, limit: int) -> list[Numbered]:
        """Up to ``limit`` items after position ``after`` that are in the log now (no waiting)."""

    def follow(self, stream_id: str, after: int, idle: float) -> AsyncIterator[list[Numbered]]:
        """The items after position ``after``, in batches, ending with the one holding ``done``.

        Yields an empty batch when ``idle`` seconds pass with nothing new (a
        watcher sends a heartbeat then).
        """

    async def request_cancel(self, stream_id: str) -> None:
        """Ask the process that holds the stream's upstream request to stop it."""


class _Log:
    """One stream's items in memory, and a way to wait for more."""

    __slots__ = ("done", "entries", "grown")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.done = False
        self.grown = asyncio.Event()


class MemoryBroker:
    """The log in this process's memory: one process serves its own streams.

    A finished stream is dropped ``keep_after_done`` seconds after its ``done``.
    """

    def __init__(self, *, keep_after_done: float = DEFAULT_KEEP_AFTER_DONE) -> None:
        self._logs: dict[str, _Log] = {}
        self._keep = keep_after_done
        self._on_cancel: Callable[[str], None] | None = None
        self._expiries: list[asyncio.TimerHandle] = []

    async def start(self, on_cancel: Callable[[str], None]) -> None:
        self._on_cancel = on_cancel

    async def close(self) -> None:
        for handle in self._expiries:
            handle.cancel()
        self._expiries.clear()
        for log in self._logs.values():
            log.grown.set()  # wake followers so they can see the broker is gone
        self._logs.clear()

    async def append(self, stream_id: str, first: int, entries: Sequence[Entry]) -> None:
        log = self._logs.get(stream_id)
        if log is None:
            log = self._logs[stream_id] = _Log()
        if first != len(log.entries) + 1:
            raise ValueError(f"stream {stream_id}: position {first} follows {len(log.entries)}")
        if log.done:
            raise ValueError(f"stream {stream_id}: nothing may follow done")
        log.entries.extend(entries)
        if entries and entries[-1][0] == "done":
            log.done = True
            loop = asyncio.get_running_loop()
            self._expiries.append(loop.call_later(self._keep, self._logs.pop, stream_id, None))
        # Wake the current followers; later ones wait on a fresh event.
        grown, log.grown = log.grown, asyncio.Event()
        grown.set()

    async def last(self, stream_id: str) -> tuple[int, str] | None:
        log = self._logs.get(stream_id)
        if log is None or not log.entries:
            return None
        return len(log.entries), log.entries[-1][0]

    async def read(self, stream_id: str, after: int, limit: int) -> list[Numbered]:
        log = self._logs.get(stream_id)
        if log is None:
            return []
        start = max(after, 0)
        chosen = log.entries[start : start + limit]
        return [(start + 1 + i, kind, data) for i, (kind, data) in enumerate(chosen)]

    async def follow(
        self, stream_id: str, after: int, idle: float
    ) -> AsyncIterator[list[Numbered]]:
        log = self._logs.get(stream_id)
        if log is None:
            return
        seen = max(after, 0)
        while True:
            entries = log.entries
            if seen < len(entries):
                batch = [
                    (seen + 1 + i, kind, data) for i, (kind, data) in enumerate(entries[seen:])
                ]
                seen = len(entries)
                yield batch
                if log.done and seen == len(log.entries):
                    return
                continue
            if log.done or self._logs.get(stream_id) is not log:
                return  # read to the end, or the broker dropped the stream
            try:
                async with asyncio.timeout(idle):  # no task per wait, unlike wait_for
                    await log.grown.wait()
            except TimeoutError:
                yield []

    async def request_cancel(self, stream_id: str) -> None:
        if self._on_cancel is not None:
            self._on_cancel(stream_id)


_ENCODER = msgspec.json.Encoder()
#: The most items one append carries; under load, items wait while one is written.
MAX_BATCH = 1024


def entry_of(item: Item) -> Entry:
    """The item as the log keeps it: ``(type, JSON)``."""
    return str(item.__struct_config__.tag), _ENCODER.encode(item)


def _ending(message: str, kind: str) -> list[Entry]:
    error = Error(
        kind="cancelled" if kind == "cancelled" else "stream_interrupted",
        code=None,
        message=message,
        status=None,
        retryable=kind != "cancelled",
        retry_after=None,
    )
    return [entry_of(error), entry_of(Done(stop_reason=None))]


class BrokerSink(abc.ObserverBase[Item]):
    """Appends one stream's items to a broker, in batches, from a task of the running loop.

    Make it on the running loop that will deliver the items.

    While one batch is written the next items gather, so a fast producer
    makes few large appends and a slow one appends each item at once. The
    log always ends with ``done``: if the source completes or fails without
    one, a ``stream_interrupted`` error and ``done`` are appended; after
    ``cancel()``, a ``cancelled`` error and ``done``, and later items are
    dropped. ``await sink.flushed()`` waits until everything is written
    (and raises what the broker raised).
    """

    def __init__(self, broker: Broker, stream_id: str, *, max_batch: int = MAX_BATCH) -> None:
        self._broker = broker
        self._stream_id = stream_id
        self._max_batch = max_batch
        self._pending: list[Entry] = []
        self._next = 1
        self._ended = False
        self._wake = asyncio.Event()
        self._first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    @property
    def ended(self) -> bool:
        """Whether ``done`` has been taken in (written or about to be)."""
        return self._ended

    def _push(self, entries: list[Entry]) -> None:
        self._pending.extend(entries)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._write())
        self._wake.set()

    def on_next(self, value: Item) -> None:
        if self._ended:
            return
        if isinstance(value, Done):
            self._ended = True
        self._push([entry_of(value)])

    def on_error(self, error: Exception) -> None:
        if not self._ended:
            self._ended = True
            self._push(_ending(f"the stream failed: {error}", "stream_interrupted"))

    def on_completed(self) -> None:
        if not self._ended:
            self._ended = True
            self._push(_ending("the stream ended before done", "stream_interrupted"))

    def cancel(self, message: str = "cancelled") -> bool:
        """End the log now with a ``cancelled`` error and ``done``; ``False`` if it had ended."""
        if self._ended:
            return False
        self._ended = True
        self._push(_ending(message, "cancelled"))
        return True

    async def _write(self) -> None:
        try:
            await self._write_all()
        except asyncio.CancelledError:
            self._first.cancel()
            raise
        except Exception as exc:
            if not self._first.done():
                self._first.set_exception(exc)
                self._first.exception()  # retrieved: ``flushed`` raises it too
            raise

    async def _write_all(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._broker.append(self._stream_id, self._next, batch)
                self._next += len(batch)
                if not self._first.done():
                    self._first.set_result(None)
            if self._ended:
                return

    async def started(self) -> None:
        """Wait until the first item (``start``) is in the log; raise what the broker raised."""
        await asyncio.shield(self._first)

    async def flushed(self) -> None:
        """Wait until every item taken in, ``done`` included, is in the log."""
        if self._task is not None:
            await asyncio.shield(self._task)


__all__ = [
    "DEFAULT_KEEP_AFTER_DONE",
    "MAX_BATCH",
    "Broker",
    "BrokerSink",
    "Entry",
    "MemoryBroker",
    "Numbered",
    "entry_of",
]
