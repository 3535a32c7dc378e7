"""Resume, not restart: a background response's stream continues after a dropped connection.

A Responses request with ``"background": true`` keeps running on the server,
and every event carries a ``sequence_number``. When the connection drops or
stalls, ``GET /responses/{id}?stream=true&starting_after=N`` serves the rest.
``resumable_source`` does that on its own: it passes on whole events only,
remembers the response id and the last sequence number it passed on, and
after a retryable interruption (``stream_interrupted``, ``timeout``, or the
body ending before a terminal event) reconnects from there, skipping any
event at or below that number. The chain downstream sees one unbroken
stream: one ``start``, one ``metadata``, nothing repeated or lost, one
``done``.

It gives up after ``max_resumes`` reconnections in a row that read nothing
new (waiting ``retry_after``, else an exponential backoff, between them), or
at once when the reconnection fails for good (a 404, any non-retryable
error); then the stream ends with the error of the original interruption.
"""

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable

from .flow import FlowControl
from .http import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    http_source,
    resolve_api_key,
)
from .operators import Item, PipelineError, StreamInterrupted, StreamTimeout
from .retry import backoff_delay

DEFAULT_MAX_RESUMES = 5
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
_BLANK_LINE = re.compile(rb"\r\n\r\n|\n\n|\r\r")


class _PeekResponse(msgspec.Struct):
    id: Any = None


class _Peek(msgspec.Struct):
    """The three fields resuming needs; everything else is left unread."""

    type: Any = None
    sequence_number: Any = None
    response: _PeekResponse | None = None


_peek = msgspec.json.Decoder(_Peek).decode


def _data(event: bytes) -> bytes:
    """The ``data:`` of one SSE event, its lines joined."""
    lines = [
        line[5:].removeprefix(b" ") for line in event.splitlines() if line.startswith(b"data:")
    ]
    return lines[0] if len(lines) == 1 else b"\n".join(lines)


def _peek_event(event: bytes) -> _Peek | None:
    try:
        return _peek(_data(event))
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def _resumable(exc: Exception) -> bool:
    return isinstance(exc, StreamInterrupted | StreamTimeout) and exc.retryable


def resumable_source(
    body: Mapping[str, Any],
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_key: str | None = None,
    session: Any = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    flow: FlowControl | None = None,
    allow_insecure_key: bool = False,
    max_resumes: int = DEFAULT_MAX_RESUMES,
    base_delay: float = 0.25,
    max_delay: float = 8.0,
    on_resume: Callable[[int], None] | None = None,
) -> Observable[bytes]:
    """The body of a background ``POST /responses``, resumed across dropped connections.

    ``body`` is sent with ``"background": true`` (and ``"store": true``, which
    background responses need). ``on_resume(n)`` is called each time it
    reconnects, with the sequence number it continues after. The other
    arguments are those of ``http_source``.
    """
    if max_resumes < 0:
        raise ValueError(f"max_resumes must not be negative, not {max_resumes}")
    request = {**body, "background": True, "store": True}
    options: dict[str, Any] = {
        "base_url": base_url,
        "api_key": api_key,
        "session": session,
        "idle_timeout": idle_timeout,
        "connect_timeout": connect_timeout,
        "headers": headers,
        "flow": flow,
        "allow_insecure_key": allow_insecure_key,
    }

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        loop = asyncio.get_running_loop()
        current = SerialDisposable()
        held = bytearray()  # bytes of an event not yet whole
        scanned = 0  # how far ``held`` was searched for a blank line
        response_id: str | None = None
        last: int | None = None  # the largest sequence number passed on
        ended = False  # a terminal event was passed on
        interruption: Exception | None = None  # the first failure of the current gap
        failures = 0  # reconnections in a row that read nothing new
        stopped = False

        def connect(resume: tuple[str, int] | None) -> None:
            nonlocal held, scanned
            held, scanned = bytearray(), 0
            source = http_source(request, resume=resume, **options)
            current.disposable = source.subscribe(on_next, on_error, on_completed)

        def on_next(chunk: bytes) -> None:
            nonlocal scanned
            held.extend(chunk)
            end = 0
            for found in _BLANK_LINE.finditer(held, max(scanned - 3, 0)):
                end = found.end()
            scanned = len(held)
            if end:
                whole = bytes(held[:end])
                del held[:end]
                scanned = len(held)
                passed = pass_on(whole)
                if passed:
                    observer.on_next(passed)

        def pass_on(whole: bytes) -> bytes:
            """The events of ``whole`` not seen before; notes the id and sequence numbers."""
            nonlocal response_id, last, ended, failures, interruption
            out = bytearray()
            start = 0
            for found in _BLANK_LINE.finditer(whole):
                event = whole[start : found.end()]
                start = found.end()
                peek = _peek_event(event)
                if peek is not None:
                    number = peek.sequence_number
                    if type(number) is int:
                        if last is not None and number <= last:
                            continue  # told already, before the connection dropped
                        last = number
                    if response_id is None and peek.response is not None:
                        found_id = peek.response.id
                        if isinstance(found_id, str) and found_id:
                            response_id = found_id
                    if peek.type in _TERMINAL:
                        ended = True
                out += event
            if out:
                failures, interruption = 0, None
            return bytes(out)

        def retry(exc: Exception) -> bool:
            """Reconnect after a delay if the response can be resumed; ``False`` if not."""
            nonlocal failures, interruption
            if stopped or ended or response_id is None or last is None:
                return False
            if failures >= max_resumes:
                return False
            failures += 1
            interruption = interruption or exc
            wait = getattr(exc, "retry_after", None)
            if wait is None:
                wait = backoff_delay(
                    failures, base_delay=base_delay, max_delay=max_delay, jitter=0.2
                )
            after = last
            resume_id = response_id

            async def later() -> None:
                await asyncio.sleep(min(max(wait, 0.0), max_delay))
                if stopped:
                    return
                if on_resume is not None:
                    on_resume(after)
                connect((resume_id, after))

            task = loop.create_task(later())

            def cancel() -> None:
                task.cancel()

            current.disposable = Disposable(cancel)
            return True

        def on_error(exc: Exception) -> None:
            if interruption is None:
                # Only a dropped or stalled connection is resumed; a failure of the
                # request itself (a 429, a refused key) is the retry operator's.
                if _resumable(exc) and retry(exc):
                    return
                observer.on_error(exc)
                return
            # Reconnecting failed: again while it may still work, else the end
            # comes as the interruption would have brought it.
            if isinstance(exc, PipelineError) and exc.retryable and retry(exc):
                return
            observer.on_error(interruption)

        def on_completed() -> None:
            if not ended:
                early = StreamInterrupted("the stream ended before the response completed")
                if retry(early):
                    return
                if interruption is not None:
                    observer.on_error(interruption)
                    return
            if held:
                observer.on_next(bytes(held))  # an unterminated last event: the chain decides
            observer.on_completed()

        def dispose() -> None:
            nonlocal stopped
            stopped = True
            current.dispose()

        connect(None)
        return Disposable(dispose)

    return Observable(subscribe)


def stream_background(
    body: Mapping[str, Any],
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_key: str | None = None,
    on_resume: Callable[[int], None] | None = None,
    **options: Any,
) -> Observable[Item]:
    """The items of a background response, resumed across dropped connections.

    ``responses(resumable_source(...))`` with the key redacted; the options are
    those of ``resumable_source``.
    """
    from ._compose import responses

    key = resolve_api_key(api_key)
    source = resumable_source(
        body, base_url=base_url, api_key=key or "", on_resume=on_resume, **options
    )
    return responses(source, secrets=(key,) if key else ())


__all__ = ["DEFAULT_MAX_RESUMES", "resumable_source", "stream_background"]
