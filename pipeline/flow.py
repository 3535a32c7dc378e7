"""Back-pressure across the push-based chain: a slow async consumer pauses the reading.

ReactiveX has no back-pressure of its own. ``FlowControl`` is the hook an
asynchronous source and its consumers share: a consumer whose buffer is full
calls ``pause()``; the source awaits ``ready()`` before each read, so it stops
reading (and, over HTTP, TCP flow control slows the server) until every
pausing consumer has called ``resume()``. With fan-out, the slowest consumer
sets the pace. Time spent waiting here is not time without bytes: an idle
timeout only runs while a read is under way.
"""

import asyncio


class FlowControl:
    """Counts the consumers that asked to pause; the source reads only when none has."""

    def __init__(self) -> None:
        self._pausing = 0
        self._ready = asyncio.Event()
        self._ready.set()

    @property
    def paused(self) -> bool:
        return self._pausing > 0

    def pause(self) -> None:
        self._pausing += 1
        self._ready.clear()

    def resume(self) -> None:
        if self._pausing == 0:
            return
        self._pausing -= 1
        if self._pausing == 0:
            self._ready.set()

    async def ready(self) -> None:
        """Return at once unless paused; otherwise when the last pause is lifted."""
        if self._pausing:
            await self._ready.wait()


__all__ = ["FlowControl"]
