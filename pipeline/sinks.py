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

from .items import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    Text,
    ToolCall,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
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
    """Writes each item as one JSON line to a binary file, flushed per item by default.

    With ``flush_each=False`` the lines gather in memory and go to the file in
    one write at ``flush()`` (or once they pass 64 KiB, or at the end): the
    caller says when, e.g. after each chunk of input.
    """

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
        _ENCODER.encode_into(value, buffer, -1)
        buffer.append(0x0A)
        if self._flush_each or len(buffer) >= _GATHERED:
            self.flush()

    def flush(self) -> None:
        """Writes the gathered lines and flushes the file."""
        if self._buffer:
            self._file.write(self._buffer)
            del self._buffer[:]
        self._file.flush()

    def on_error(self, error: Exception) -> None:
        self._finish()

    def on_completed(self) -> None:
        self._finish()

    def _finish(self) -> None:
        self.flush()
        if self._close:
            self._file.close()


#: Lines a ``JsonLinesSink`` gathers at most before it writes them.
_GATHERED = 64 * 1024


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

_DIM, _BOLD, _RED, _CYAN, _YELLOW, _RESET = (
    "\x1b[2m",
    "\x1b[1m",
    "\x1b[31m",
    "\x1b[36m",
    "\x1b[33m",
    "\x1b[0m",
)

#: Control characters (but tab and line feed) shown as visible symbols on a terminal, so
#: a server's text cannot move the cursor, recolor or retitle it: ESC → ␛, BEL → ␇.
_CONTROLS = {
    **{code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)},
    0x7F: 0x2421,
    **{code: 0xFFFD for code in range(0x80, 0xA0)},
}


def _json(text: str) -> Any:
    """``text`` parsed, or ``None`` when it is not JSON."""
    import json  # only the terminal view needs it, and only for tools

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _count(value: Any, noun: str) -> str:
    count = len(value) if isinstance(value, list) else 0
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _size(characters: int) -> str:
    """The size of the bytes ``characters`` of base64 hold, in decimal units."""
    size = characters * 3 // 4
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.1f} kB"
    return f"{size} B"


def describe_result(result: ToolResult, call: ToolCall | None = None) -> str:
    """One line for a server-run tool's result, from its ``output`` JSON.

    ``web_search: 3 sources``, ``code_interpreter: ran, 2 outputs``,
    ``image_generation: 1.2 MB image``; ``call`` (its completed call) adds
    what was asked, such as the search query.
    """
    output = _json(result.output)
    fields = output if isinstance(output, dict) else {}
    status = fields.get("status")
    name = result.name
    arguments = _json(call.arguments) if call is not None else None
    asked = arguments if isinstance(arguments, dict) else {}
    if fields.get("truncated") is True:
        detail = "output too large, cut"
    elif name == "web_search":
        action = asked.get("action")
        query = action.get("query") if isinstance(action, dict) else None
        if isinstance(query, str) and query:
            name = f"web_search “{query}”"
        detail = _count(fields.get("sources"), "source")
    elif name == "file_search":
        detail = _count(fields.get("results"), "result")
    elif name == "code_interpreter":
        verb = "failed" if status == "failed" else "ran"
        detail = f"{verb}, {_count(fields.get('outputs'), 'output')}"
    elif name == "image_generation":
        image = fields.get("result")
        detail = f"{_size(len(image))} image" if isinstance(image, str) else "no image"
    elif name in ("mcp", "mcp_list_tools"):
        server = asked.get("server")
        tool = asked.get("tool")
        where = "/".join(part for part in (server, tool) if isinstance(part, str) and part)
        name = f"{name} {where}" if where else name
        error = fields.get("error")
        if error is not None:
            detail = f"error: {error if isinstance(error, str) else 'failed'}"
        elif result.name == "mcp_list_tools":
            detail = _count(fields.get("tools"), "tool")
        else:
            text = fields.get("output")
            detail = f"{len(text):,} chars" if isinstance(text, str) else "no output"
    else:
        detail = status if isinstance(status, str) else "done"
    if result.is_error and "error" not in detail and "failed" not in detail:
        detail = f"failed, {detail}"
    return f"{name}: {detail}"


class TerminalView(abc.ObserverBase[Item]):
    """A live, human view: the answer as it streams, the rest set apart in brief.

    Reasoning comes dimmed after ``thinking:``; a ``commentary`` message (a
    progress note between tool calls) after a dim ``commentary:``, and the
    answer that follows commentary after ``answer:``. Calls the caller must
    run appear when complete, with pretty-printed arguments; a server-run
    tool is one line with what it did (``web_search: 3 sources``); an
    approval request is one line too. Citations are numbered in the text
    (``[1]``) and listed as links at the end.

    Colors only when ``out`` is a terminal (or ``color=True``), and then
    control characters in the server's text are shown as symbols; otherwise
    the text is plain and as received. The last line (on ``done``) has the
    stop reason, token usage and, with ``stats``, time to first token and
    items/s.
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
        # What the last write was: "text", "commentary", "reasoning", "refusal", or
        # "" (a line end).
        self._mode = ""
        self._text_mode = "text"  # where text chunks go: "text" or "commentary"
        self._part: tuple[str | None, int | None] | None = None  # the message shown last
        self._commentary_shown = False
        self._sources: dict[str, int] = {}  # a citation's line → its number
        self._calls: dict[str, ToolCall] = {}  # server-run calls, for their results
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

    def _begin(self, mode: str, heading: str) -> None:
        """Start a part on a fresh line, after its heading (if any)."""
        if self._mode:
            self._out.write("\n")
        if heading:
            self._out.write(self._style(heading, _DIM))
        self._mode = mode

    def _stream(self, chunk: str, mode: str) -> None:
        if self._mode != mode:
            self._begin(mode, "thinking: " if mode == "reasoning" else "")
        if mode in ("reasoning", "commentary"):
            chunk = self._style(chunk, _DIM)
        elif mode == "refusal":
            chunk = self._style(chunk, _RED)
        self._out.write(chunk)

    def _part_start(self, part: PartStart) -> None:
        if part.kind in ("reasoning", "reasoning_summary"):
            self._part = None
            self._begin("reasoning", "thinking: ")
            return
        key = (part.id, part.index)
        mode = "refusal" if part.kind == "refusal" else "text"
        if part.kind == "text" and part.phase == "commentary":
            mode = "commentary"
        self._text_mode = "commentary" if mode == "commentary" else "text"
        if key == self._part and self._mode == mode:
            return  # the same message goes on
        self._part = key
        if mode == "commentary":
            self._commentary_shown = True
            self._begin(mode, "commentary: ")
        elif mode == "text" and self._commentary_shown:
            self._begin(mode, "answer: ")
        else:
            self._begin(mode, "")

    def on_next(self, value: Item) -> None:
        self._metrics.on_next(value)
        if type(value) is Text:
            self._stream(self._clean(value.chunk), self._text_mode)
        elif type(value) is Reasoning:
            self._stream(self._clean(value.chunk), "reasoning")
        elif type(value) is PartStart:
            self._part_start(value)
        elif type(value) is Refusal:
            self._stream(self._clean(value.chunk), "refusal")
        elif type(value) is Citation:
            self._citation(value)
        elif type(value) is ToolRequestComplete:
            self._tool_call(value.tool_call)
        elif type(value) is ToolResult:
            if not value.preliminary:
                line = self._clean(describe_result(value, self._calls.pop(value.id, None)))
                self._line(self._style(line, _RED if value.is_error else _CYAN))
        elif type(value) is ApprovalRequest:
            self._approval(value)
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
        elif type(value) is Compaction:
            self._line(self._style(f"(compacted context, {len(value.content)} chars)", _DIM))
        elif type(value) is Done:
            self._done = True
            self._list_sources()
            self._line(self._summary(value))
        if self._flush_each:
            self._out.flush()

    def _citation(self, citation: Citation) -> None:
        """A number in the text now; the source in the list at the end."""
        if citation.url is not None:
            title = f"{citation.title} " if citation.title else ""
            source = f"{title}<{citation.url}>"
        elif citation.file_id is not None:
            name = f"{citation.filename} " if citation.filename else ""
            source = f"{name}({citation.file_id})"
        else:
            source = f"“{citation.quote or ''}”"
        number = self._sources.setdefault(self._clean(source), len(self._sources) + 1)
        marker = self._style(f"[{number}]", _CYAN)
        if self._mode in ("text", "commentary", "refusal"):
            self._out.write(marker)
        else:
            self._line(marker)

    def _list_sources(self) -> None:
        for source, number in self._sources.items():
            self._line(self._style(f"[{number}] ", _CYAN) + source)
        self._sources.clear()

    def _tool_call(self, call: ToolCall) -> None:
        if call.provider_executed:
            self._calls[call.id] = call
            if call.partial:  # no result will come for it
                self._line(self._style(f"{self._clean(call.name)}: cut short", _DIM))
            return
        import json  # only the terminal view needs it, and only for tool calls

        try:
            body = json.dumps(json.loads(call.arguments), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            body = call.arguments
        flag = " (partial)" if call.partial else ""
        head = self._style(f"tool call {self._clean(call.name)}{flag}", _BOLD + _CYAN)
        owed = "" if call.partial else self._style(" · for the caller to run", _YELLOW)
        self._line(f"{head} [{self._clean(call.call_id or call.id)}]{owed}\n{self._clean(body)}")

    def _approval(self, request: ApprovalRequest) -> None:
        call = self._calls.get(request.tool_id)
        what = "a call"
        if call is not None:
            arguments = _json(call.arguments)
            fields = arguments if isinstance(arguments, dict) else {}
            where = "/".join(
                part
                for part in (fields.get("server"), fields.get("tool"))
                if isinstance(part, str) and part
            )
            what = f"{call.name} {where}".rstrip()
        text = f"approval needed: {self._clean(what)} [{self._clean(request.id)}]"
        self._line(self._style(text, _BOLD + _YELLOW))

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
            self._list_sources()
            self._line(self._style("stopped before the end of the answer", _DIM))
        self._out.flush()


__all__ = [
    "KEPT_ERRORS",
    "JsonLinesSink",
    "MetricsSink",
    "TerminalView",
    "describe_result",
    "encode_line",
]
