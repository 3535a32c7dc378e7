"""Observers to fan a stream out to: a JSON Lines log, a terminal view, metrics.

Each is an ``abc.ObserverBase[Item]``; subscribe several to one shared stream
(``ops.publish()`` + ``connect()``, or ``ops.share()`` on an async source).
"""

import os
import sys
import time
from typing import IO, Any

import msgspec
from reactivex import abc

from .operators import (
    Done,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    Text,
    ToolRequestComplete,
    ToolRequestStart,
    Usage,
)

_ENCODER = msgspec.json.Encoder()


def encode_line(item: Item) -> bytes:
    """The item's JSON form, one line (``\\n``-terminated)."""
    buffer = bytearray()
    _ENCODER.encode_into(item, buffer)
    buffer += b"\n"
    return bytes(buffer)


class JsonLinesSink(abc.ObserverBase[Item]):
    """Writes each item as one JSON line to a binary file, flushed per item by default."""

    def __init__(self, file: IO[bytes], *, flush_each: bool = True, close: bool = False) -> None:
        self._file = file
        self._flush_each = flush_each
        self._close = close
        self._buffer = bytearray()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, flush_each: bool = True) -> "JsonLinesSink":
        """A sink that writes to (and finally closes) the file at ``path``."""
        return cls(open(path, "wb"), flush_each=flush_each, close=True)

    def on_next(self, value: Item) -> None:
        buffer = self._buffer
        _ENCODER.encode_into(value, buffer)
        buffer += b"\n"
        self._file.write(buffer)
        del buffer[:]
        if self._flush_each:
            self._file.flush()

    def on_error(self, error: Exception) -> None:
        self._finish()

    def on_completed(self) -> None:
        self._finish()

    def _finish(self) -> None:
        self._file.flush()
        if self._close:
            self._file.close()


#: How many ``error`` items a ``MetricsSink`` keeps (all of them are counted).
KEPT_ERRORS = 100


class MetricsSink(abc.ObserverBase[Item]):
    """Counts what a stream carried: time to first token and text, tokens, items/s, errors.

    Times count from ``start`` (the first item), or from ``mark_start()`` if it
    was called before: call it right before subscribing (or ``connect()``) to
    include the wait for the server. ``errors`` keeps the first 100 ``error``
    items and ``error_count`` counts them all: a stream of broken events must
    not grow the sink.
    """

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._clock = clock
        self.started_at: float | None = None
        self.first_token_at: float | None = None
        self.first_text_at: float | None = None
        self.ended_at: float | None = None
        self.items = 0
        self.text_chars = 0
        self.tool_calls = 0
        self.usage: Usage | None = None
        self.errors: list[Error] = []  # the first KEPT_ERRORS of them
        self.error_count = 0
        self.stop_reason: str | None = None

    def mark_start(self) -> None:
        """Count times from now (the request) rather than from the first item."""
        self.started_at = self._clock()

    def on_next(self, value: Item) -> None:
        now = self._clock()
        self.items += 1
        if self.started_at is None:
            self.started_at = now
        if self.first_token_at is None and type(value) in _OUTPUT:
            self.first_token_at = now
        if type(value) is Text:
            self.text_chars += len(value.chunk)
            if self.first_text_at is None:
                self.first_text_at = now
        elif type(value) is ToolRequestComplete:
            self.tool_calls += 1
        elif type(value) is Usage:
            self.usage = value
        elif type(value) is Error:
            self.error_count += 1
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(value)
        elif type(value) is Done:
            self.stop_reason = value.stop_reason
            self.ended_at = now

    def on_error(self, error: Exception) -> None:
        self.ended_at = self._clock()

    def on_completed(self) -> None:
        if self.ended_at is None:
            self.ended_at = self._clock()

    def _since_start(self, at: float | None) -> float | None:
        if self.started_at is None or at is None:
            return None
        return at - self.started_at

    @property
    def time_to_first_token(self) -> float | None:
        """Seconds to the first piece of output: text, refusal, reasoning or a tool call."""
        return self._since_start(self.first_token_at)

    @property
    def time_to_first_text(self) -> float | None:
        """Seconds to the first ``text`` item."""
        return self._since_start(self.first_text_at)

    @property
    def items_per_second(self) -> float | None:
        """Items over the time from the start to ``done``."""
        if self.started_at is None or self.ended_at is None or self.ended_at <= self.started_at:
            return None
        return self.items / (self.ended_at - self.started_at)

    def summary(self) -> dict[str, Any]:
        """The counts as one JSON-ready dict."""
        tokens = self.usage.tokens if self.usage else None
        return {
            "items": self.items,
            "text_chars": self.text_chars,
            "tool_calls": self.tool_calls,
            "input_tokens": tokens.input_tokens if tokens else None,
            "output_tokens": tokens.output_tokens if tokens else None,
            "reasoning_tokens": tokens.reasoning_tokens if tokens else None,
            "cache_read_tokens": tokens.cache_read_tokens if tokens else None,
            "errors": [error.kind for error in self.errors],
            "error_count": self.error_count,
            "stop_reason": self.stop_reason,
            "time_to_first_token_s": self.time_to_first_token,
            "time_to_first_text_s": self.time_to_first_text,
            "items_per_second": self.items_per_second,
        }


#: The items that carry output: the first of them is the "first token".
_OUTPUT = frozenset({Text, Refusal, Reasoning, ToolRequestStart})

_DIM, _BOLD, _RED, _CYAN, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[31m", "\x1b[36m", "\x1b[0m"

#: Control characters (but tab and line feed) shown as visible symbols on a terminal, so
#: a server's text cannot move the cursor, recolor or retitle it: ESC → ␛, BEL → ␇.
_CONTROLS = {
    **{code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
}


class TerminalView(abc.ObserverBase[Item]):
    """A live, human view: text as it streams, reasoning dimmed, tool calls and usage in brief.

    Colors only when ``out`` is a terminal (or ``color=True``), and then control
    characters in the server's text are shown as symbols; otherwise the text is
    plain and as received. Tool calls appear when complete, with their name and
    pretty-printed arguments. The last line (on ``done``) has the stop reason,
    token usage and, with ``stats``, time to first text and items/s.
    """

    def __init__(
        self,
        out: IO[str] | None = None,
        *,
        color: bool | None = None,
        stats: bool = True,
        flush_each: bool = True,
        clock: Any = time.perf_counter,
    ) -> None:
        self._out = out if out is not None else sys.stdout
        isatty = getattr(self._out, "isatty", None)
        self._color = color if color is not None else bool(isatty and isatty())
        self._stats = stats
        self._flush_each = flush_each
        self._metrics = MetricsSink(clock)
        self._mode = ""  # what the last write was: "text", "reasoning", "" (a line end)
        self._usage = ""
        self._done = False

    def _clean(self, text: str) -> str:
        return text.translate(_CONTROLS) if self._color else text

    @property
    def metrics(self) -> MetricsSink:
        """The counts behind the last line (``metrics.mark_start()`` before connecting)."""
        return self._metrics

    def note(self, text: str) -> None:
        """A dimmed line of the caller's own (a header, a hint)."""
        self._line(self._style(text, _DIM))
        if self._flush_each:
            self._out.flush()

    def _style(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self._color else text

    def _line(self, text: str) -> None:
        if self._mode:
            self._out.write("\n")
        self._out.write(text + "\n")
        self._mode = ""

    def _stream(self, chunk: str, mode: str) -> None:
        if self._mode != mode and self._mode:
            self._out.write("\n")
        if self._mode != mode and mode == "reasoning":
            self._out.write(self._style("thinking: ", _DIM))
        self._out.write(self._style(chunk, _DIM) if mode == "reasoning" else chunk)
        self._mode = mode

    def on_next(self, value: Item) -> None:
        self._metrics.on_next(value)
        if type(value) is Text:
            self._stream(self._clean(value.chunk), "text")
        elif type(value) is Reasoning:
            self._stream(self._clean(value.chunk), "reasoning")
        elif type(value) is Refusal:
            self._stream(self._style(self._clean(value.chunk), _RED), "refusal")
        elif type(value) is PartStart:
            if self._mode:  # a new part of the answer starts on a line of its own
                self._out.write("\n")
                self._mode = ""
        elif type(value) is ToolRequestComplete:
            self._line(self._tool_call(value))
        elif type(value) is Usage:
            tokens = value.tokens
            extra = "".join(
                f", {label} {count}"
                for label, count in (
                    ("cached", tokens.cache_read_tokens),
                    ("cache write", tokens.cache_creation_tokens),
                    ("reasoning", tokens.reasoning_tokens),
                )
                if count
            )
            self._usage = f"tokens in {tokens.input_tokens}, out {tokens.output_tokens}{extra}"
        elif type(value) is Error:
            retry = " (retryable)" if value.retryable else ""
            message = self._clean(value.message)
            self._line(self._style(f"error [{value.kind}] {message}{retry}", _RED))
        elif type(value) is Metadata:
            model = self._clean(value.model or "?")
            self._line(self._style(f"response {self._clean(value.response_id)} · {model}", _DIM))
        elif type(value) is EncryptedReasoning:
            self._line(self._style(f"(encrypted reasoning, {len(value.content)} chars)", _DIM))
        elif type(value) is Done:
            self._done = True
            self._line(self._summary(value))
        if self._flush_each:
            self._out.flush()

    def _tool_call(self, item: ToolRequestComplete) -> str:
        import json  # only the terminal view needs it, and only for tool calls

        call = item.tool_call
        try:
            body = json.dumps(json.loads(call.arguments), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            body = call.arguments
        flag = " (partial)" if call.partial else ""
        head = self._style(f"tool call {self._clean(call.name)}{flag}", _BOLD + _CYAN)
        return f"{head} [{self._clean(call.call_id or call.id)}]\n{self._clean(body)}"

    def _summary(self, done: Done) -> str:
        parts = [f"done: {done.stop_reason or 'no stop reason'}"]
        if self._usage:
            parts.append(self._usage)
        if self._stats:
            ttft = self._metrics.time_to_first_token
            if ttft is not None:
                parts.append(f"first token after {ttft * 1000:.0f} ms")
            rate = self._metrics.items_per_second
            if rate is not None:
                parts.append(f"{rate:,.0f} items/s")
        return self._style(" · ".join(parts), _DIM)

    def on_error(self, error: Exception) -> None:
        self._line(self._style(f"failed: {error}", _RED))
        self._out.flush()

    def on_completed(self) -> None:
        self._metrics.on_completed()
        if not self._done:
            # Completed without ``done``: the subscriber stopped it (``take_until``).
            self._line(self._style("stopped before the end of the answer", _DIM))
        self._out.flush()


__all__ = ["KEPT_ERRORS", "JsonLinesSink", "MetricsSink", "TerminalView", "encode_line"]
