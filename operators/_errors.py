"""Failures: the exception tree, and the rules that turn failures into ``error`` items.

Stream faults travel as ``error`` items. Exceptions exist for two jobs: a
source reports a failure through ``on_error`` with one of these (``finalize``
maps it to its item), and ``raise_errors()`` turns items back into exceptions
for callers who want ReactiveX error semantics::

    PipelineError                     kind            retryable
    ├── ServerError                   server_error    yes, but fatal codes
    ├── RateLimited                   rate_limited    yes, but fatal codes
    ├── HTTPStatusError               http_error      408 and 409 only
    ├── ConnectError (ConnectionError) connect_error  yes
    ├── StreamInterrupted (ConnectionError) stream_interrupted  yes
    ├── StreamTimeout (TimeoutError)  timeout         yes
    ├── DecodeError (ValueError)      decode_error    no
    └── UsageError (ValueError)       usage_error     no
"""

import re
from typing import ClassVar

from ._items import Error, ErrorKind

#: Server error codes that no retry can fix.
FATAL_CODES = frozenset(
    {
        "insufficient_quota",
        "context_length_exceeded",
        "invalid_prompt",
        "usage_not_included",
        "cyber_policy",
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
    }
)

_TRY_AGAIN = re.compile(r"try again in\s*", re.IGNORECASE)
#: One part of a duration: "7m", "12.48s", "28ms", "35 seconds", "1h".
_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(ms|millis|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)"
    r"(?![a-z])\s*",
    re.IGNORECASE,
)


def _unit_seconds(unit: str) -> float:
    if unit == "ms" or unit.startswith("mil"):
        return 0.001
    return {"s": 1.0, "m": 60.0, "h": 3600.0}[unit[0]]


def retry_after_from_message(message: str | None) -> float | None:
    """Seconds from a server message: "try again in 11.054s", "… in 7m12.48s", "… in 28ms"."""
    if not message:
        return None
    found = _TRY_AGAIN.search(message)
    if found is None:
        return None
    total: float | None = None
    at = found.end()
    while (part := _PART.match(message, at)) is not None:
        total = (total or 0.0) + float(part.group(1)) * _unit_seconds(part.group(2).lower())
        at = part.end()
    return total


def code_text(code: object) -> str | None:
    """A server's error code as text: a string as it is, an integer in decimal, else ``None``."""
    if isinstance(code, str):
        return code
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    return None


def is_fatal(code: object, error_type: str | None = None) -> bool:
    """True for server errors that a retry cannot fix (fatal codes, integer 4xx but 408/409)."""
    if isinstance(code, int) and not isinstance(code, bool):
        return 400 <= code <= 499 and code not in (408, 409, 429)
    return (isinstance(code, str) and code in FATAL_CODES) or error_type == "invalid_request_error"


def is_rate_limit(code: object, error_type: str | None = None) -> bool:
    """Whether a server's error says it is a rate limit: code 429, or ``rate_limit`` in its
    code or nested ``error.type``."""
    if isinstance(code, int) and not isinstance(code, bool):
        return code == 429
    return (isinstance(code, str) and "rate_limit" in code) or (
        error_type is not None and "rate_limit" in error_type
    )


def server_error(
    message: str,
    *,
    code: object = None,
    error_type: str | None = None,
    status: int | None = None,
) -> Error:
    """The ``error`` item for a failure the server reported in the stream (an ``error``
    event, ``response.failed``): ``rate_limited`` when it says so, else ``server_error``.

    ``code`` is the code as the wire gave it (a string, an integer, anything else
    counts as absent).
    """
    return Error(
        kind="rate_limited" if is_rate_limit(code, error_type) else "server_error",
        code=code_text(code),
        message=message,
        status=status,
        retryable=not is_fatal(code, error_type),
        retry_after=retry_after_from_message(message),
    )


def decode_error(message: str) -> Error:
    """The ``error`` item for one event that could not be decoded."""
    return Error(
        kind="decode_error",
        code=None,
        message=message,
        status=None,
        retryable=False,
        retry_after=None,
    )


class PipelineError(Exception):
    """Base of every failure this project raises; carries what the ``error`` item carries."""

    kind: ClassVar[ErrorKind] = "stream_interrupted"
    #: Whether retrying the request may succeed, when the instance does not say.
    default_retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, "
            f"status={self.status!r}, retryable={self.retryable!r}, "
            f"retry_after={self.retry_after!r})"
        )

    def to_item(self) -> Error:
        """The ``error`` item that stands for this failure."""
        return Error(
            kind=self.kind,
            code=self.code,
            message=self.message,
            status=self.status,
            retryable=self.retryable,
            retry_after=self.retry_after,
        )


class ServerError(PipelineError):
    """The server reported a failure: an ``error`` event, ``response.failed``, or HTTP 5xx."""

    kind = "server_error"


class RateLimited(PipelineError):
    """HTTP 429 (``insufficient_quota`` comes as a 429 too, and is not retryable)."""

    kind = "rate_limited"


class HTTPStatusError(PipelineError):
    """Any other non-2xx status, or a 2xx that is not ``text/event-stream``."""

    kind = "http_error"
    default_retryable = False


class ConnectError(PipelineError, ConnectionError):
    """The connection could not be made (refused, DNS, TLS, connect timeout)."""

    kind = "connect_error"


class StreamInterrupted(PipelineError, ConnectionError):
    """The byte source failed mid-stream, or ended before a terminal event."""

    kind = "stream_interrupted"


class StreamTimeout(PipelineError, TimeoutError):
    """No bytes arrived for longer than the idle timeout."""

    kind = "timeout"


class DecodeError(PipelineError, ValueError):
    """One event could not be decoded."""

    kind = "decode_error"
    default_retryable = False


class UsageError(PipelineError, ValueError):
    """The stream could not start as asked: a missing or unreadable file, a base URL
    that is not ``http(s)://``, no running event loop, a key refused for plain HTTP.

    Retrying the same request cannot help: the call itself must change.
    """

    kind = "usage_error"
    default_retryable = False


_BY_KIND: dict[str, type[PipelineError]] = {
    cls.kind: cls
    for cls in (
        ServerError,
        RateLimited,
        HTTPStatusError,
        ConnectError,
        StreamInterrupted,
        StreamTimeout,
        DecodeError,
        UsageError,
    )
}


def exception_from_item(item: Error) -> PipelineError:
    """The exception that stands for an ``error`` item."""
    cls = _BY_KIND.get(item.kind, PipelineError)
    return cls(
        item.message,
        code=item.code,
        status=item.status,
        retryable=item.retryable,
        retry_after=item.retry_after,
    )


def item_from_exception(exc: BaseException) -> Error:
    """The one ``error`` item for a source failure (``on_error`` of the byte source)."""
    if isinstance(exc, PipelineError):
        return exc.to_item()
    if isinstance(exc, TimeoutError):
        return StreamTimeout(f"no data within the idle timeout ({exc})").to_item()
    detail = str(exc) or type(exc).__name__
    return StreamInterrupted(f"stream interrupted: {detail}").to_item()


__all__ = [
    "FATAL_CODES",
    "ConnectError",
    "DecodeError",
    "HTTPStatusError",
    "PipelineError",
    "RateLimited",
    "ServerError",
    "StreamInterrupted",
    "StreamTimeout",
    "UsageError",
    "code_text",
    "decode_error",
    "exception_from_item",
    "is_fatal",
    "is_rate_limit",
    "item_from_exception",
    "retry_after_from_message",
    "server_error",
]
