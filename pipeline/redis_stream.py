"""Items in Redis Streams: a sink that appends a stream's items, a source that follows them.

Each item stream is one Redis stream. The item at position N (1 for
``start``) has the entry id ``0-N`` and two fields, ``t`` (its type) and
``j`` (its JSON form, SPEC §1), so a reader resumes "after item N" with a
plain ``XREAD … 0-N``, from any machine, and an append can never repeat a
position (Redis refuses an id that is not above the last one). Items go in
batches, one script call per batch. The stream is trimmed to ``max_len``
items (approximately) and expires ``keep_after_done`` seconds after its
``done`` (``keep_unfinished`` after its last append if ``done`` never
comes, so an abandoned stream does not stay forever).

::

    client = redis.asyncio.Redis.from_url("redis://127.0.0.1:6379/0")
    sink = redis_sink(client, "answers:42")
    stream_responses(body).subscribe(sink)
    await sink.flushed()

    # elsewhere: a logger following the same answer, from the start or any position
    redis_items(client, "answers:42").subscribe(JsonLinesSink.open("answer.log"))

``RedisBroker`` is the same log keyed by stream id under a prefix, with a
pub/sub channel that carries cancel requests to whichever process holds the
upstream request: what ``rxresponses web --redis URL`` uses.

Needs the ``redis`` extra (``pip install 'rxresponses[redis]'``).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import msgspec
import redis.asyncio as aioredis
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .broker import DEFAULT_KEEP_AFTER_DONE, BrokerSink, Entry, Numbered
from .operators import Item

#: Items kept per stream; older ones are trimmed (approximately: whole nodes at once).
DEFAULT_MAX_LEN = 1_000_000
#: How long a stream without ``done`` is kept after its last append.
DEFAULT_KEEP_UNFINISHED = 86_400.0
DEFAULT_PREFIX = "rxresponses:"
#: The most entries one read returns.
READ_COUNT = 4096

# KEYS[1] the stream; ARGV: first position, max length, expiry in seconds, then type, JSON pairs.
_APPEND = """
local first = tonumber(ARGV[1])
local n = (#ARGV - 3) / 2
for i = 0, n - 1 do
  redis.call('XADD', KEYS[1], '0-' .. (first + i), 't', ARGV[4 + 2 * i], 'j', ARGV[5 + 2 * i])
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return n
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _position(entry_id: Any) -> int:
    return int(_text(entry_id).partition("-")[2])


def _field(fields: Any, name: str) -> bytes:
    """A field of an entry, whether the client decodes responses or not."""
    value = fields.get(name.encode(), fields.get(name, b""))
    return value.encode() if isinstance(value, str) else bytes(value)


class RedisBroker:
    """The item log in Redis: any process sharing the Redis serves any stream.

    Stream ``id`` lives at the key ``{prefix}{id}``; cancel requests travel on
    the channel ``{prefix}cancel``.
    """

    def __init__(
        self,
        client: "aioredis.Redis",
        *,
        prefix: str = DEFAULT_PREFIX,
        max_len: int = DEFAULT_MAX_LEN,
        keep_after_done: float = DEFAULT_KEEP_AFTER_DONE,
        keep_unfinished: float = DEFAULT_KEEP_UNFINISHED,
        owns_client: bool = False,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._max_len = max_len
        self._keep_done = max(1, round(keep_after_done))
        self._keep_unfinished = max(1, round(keep_unfinished))
        self._owns_client = owns_client
        self._append = client.register_script(_APPEND)
        self._listener: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> "RedisBroker":
        """A broker with its own client for ``url`` (``redis://host:port/db``), closed with it."""
        return cls(aioredis.Redis.from_url(url), owns_client=True, **options)

    @property
    def channel(self) -> str:
        return f"{self._prefix}cancel"

    def key(self, stream_id: str) -> str:
        return f"{self._prefix}{stream_id}"

    async def start(self, on_cancel: Callable[[str], None]) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)

        async def listen() -> None:
            try:
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        on_cancel(_text(message["data"]))
            finally:
                await pubsub.aclose()

        self._listener = asyncio.get_running_loop().create_task(listen())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._owns_client:
            await self._client.aclose()

    async def append(self, stream_id: str, first: int, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        ends = entries[-1][0] == "done"
        args: list[Any] = [first, self._max_len, self._keep_done if ends else self._keep_unfinished]
        for kind, data in entries:
            args.append(kind)
            args.append(data)
        await self._append(keys=[self.key(stream_id)], args=args)

    async def last(self, stream_id: str) -> tuple[int, str] | None:
        found: Any = await self._client.xrevrange(self.key(stream_id), count=1)
        if not found:
            return None
        entry_id, fields = found[0]
        return _position(entry_id), _field(fields, "t").decode()

    async def read(self, stream_id: str, after: int, limit: int) -> list[Numbered]:
        found: Any = await self._client.xrange(
            self.key(stream_id), min=f"0-{max(after, 0) + 1}", count=limit
        )
        return [
            (_position(entry_id), _field(fields, "t").decode(), _field(fields, "j"))
            for entry_id, fields in found
        ]

    async def follow(
        self, stream_id: str, after: int, idle: float
    ) -> AsyncIterator[list[Numbered]]:
        key = self.key(stream_id)
        cursor = f"0-{max(after, 0)}"
        block = max(1, round(idle * 1000))
        last = await self.last(stream_id)
        if last is not None and last[1] == "done" and last[0] <= after:
            return  # read to the end already
        while True:
            found: Any = await self._client.xread({key: cursor}, count=READ_COUNT, block=block)
            if not found:
                yield []
                continue
            batch: list[Numbered] = []
            done = False
            for entry_id, fields in found[0][1]:
                kind = _field(fields, "t").decode()
                batch.append((_position(entry_id), kind, _field(fields, "j")))
                cursor = _text(entry_id)
                if kind == "done":
                    done = True
                    break
            yield batch
            if done:
                return

    async def request_cancel(self, stream_id: str) -> None:
        await self._client.publish(self.channel, stream_id)


def redis_sink(
    client: "aioredis.Redis",
    key: str,
    *,
    max_len: int = DEFAULT_MAX_LEN,
    keep_after_done: float = DEFAULT_KEEP_AFTER_DONE,
) -> BrokerSink:
    """An observer that appends a stream's items to the Redis stream ``key``.

    Subscribe it on a running event loop; ``await sink.flushed()`` waits
    until ``done`` is written. The Redis stream always ends with ``done``.
    """
    broker = RedisBroker(client, prefix="", max_len=max_len, keep_after_done=keep_after_done)
    return BrokerSink(broker, key)


_DECODER = msgspec.json.Decoder(Item)


def redis_items(
    client: "aioredis.Redis", key: str, *, after: int = 0, idle: float = 5.0
) -> Observable[Item]:
    """The items of the Redis stream ``key`` after position ``after``, as they are appended.

    Blocks for new items and completes after ``done``. Subscribe on a
    running event loop; disposing stops the reading. Entries of an item
    type this version does not know are skipped (SPEC §1: readers ignore
    them). A Redis failure goes to ``on_error``.
    """
    broker = RedisBroker(client, prefix="")

    def subscribe(
        observer: abc.ObserverBase[Item], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        async def pump() -> None:
            try:
                async for batch in broker.follow(key, after, idle):
                    for _, _, data in batch:
                        try:
                            item = _DECODER.decode(data)
                        except msgspec.ValidationError:
                            continue
                        observer.on_next(item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                observer.on_error(exc)
                return
            observer.on_completed()

        task = asyncio.get_running_loop().create_task(pump())

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return Observable(subscribe)


__all__ = [
    "DEFAULT_KEEP_UNFINISHED",
    "DEFAULT_MAX_LEN",
    "DEFAULT_PREFIX",
    "RedisBroker",
    "redis_items",
    "redis_sink",
]
