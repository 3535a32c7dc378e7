"""The commands that need a network stack: ``demo``, ``stream`` and ``serve``.

Only their arguments are defined at import time: aiohttp (``rxresponses.http``,
``rxresponses.server``) is imported when one of them runs, so ``rxresponses
--help`` and ``replay`` stay light.
"""

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SingleAssignmentDisposable

from .cli import (
    EXIT_OK,
    FORMATS,
    PROG,
    WIRES,
    Tally,
    cancelled_tail,
    interrupted,
    open_file,
    quiet_broken_pipe,
    sniff_format,
    usage_error,
)
from .operators import Done, Item

DEMO_RECORDING = "demo.sse"
DEMO_LOG = "demo.jsonl.log"
DEMO_MODEL = "gpt-5"
DEMO_PROMPT = "Is it warmer in Lisbon or in Kyoto right now? I'm planning a long weekend."
#: Events per second for ``demo`` and ``serve``: about what a fast model streams.
DEFAULT_RATE = 60.0
_BROKEN_PIPE = -1  # the reader of standard output went away (``| head``)
#: Same as ``rxresponses.http.DEFAULT_BASE_URL`` (not imported: that loads aiohttp).
DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Where each wire's key comes from (``stream``).
KEY_VARIABLES = {
    "responses": "OPENAI_API_KEY",
    "chat": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}


def demo_recording_path() -> str:
    """The bundled stream the demo plays (generated, see ``pipeline/data/README.md``)."""
    from importlib import resources  # with tempfile and shutil: kept off the replay path

    return str(resources.files("rxresponses") / "data" / DEMO_RECORDING)


def default_demo_log() -> str:
    """Where ``demo`` writes its log unless ``--log`` says: never the working directory.

    ``$XDG_CACHE_HOME/rxresponses`` (else ``~/.cache/rxresponses``), or the
    temporary directory when that cannot be made.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "rxresponses")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        import tempfile

        folder = tempfile.gettempdir()
    return os.path.join(folder, DEMO_LOG)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _non_negative(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value >= 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be zero or more, not {text}")
        return value

    return parse


def _status(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an HTTP status: {text!r}") from None
    if not 200 <= value <= 599:
        raise argparse.ArgumentTypeError(f"not an HTTP status: {value}")
    return value


def _base_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host (SPEC §6: checked before the chain)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise argparse.ArgumentTypeError(f"not an http:// or https:// URL: {text!r}")
    return text


class _Guard(abc.ObserverBase[Item]):
    """Forwards to a sink that writes to standard output; a closed pipe ends the run quietly."""

    def __init__(self, sink: abc.ObserverBase[Item], on_broken: Callable[[], None]) -> None:
        self._sink = sink
        self._on_broken = on_broken
        self.broken = False

    def _call(self, action: Callable[[], None]) -> None:
        if self.broken:
            return
        try:
            action()
        except BrokenPipeError:
            self.broken = True
            self._on_broken()

    def on_next(self, value: Item) -> None:
        self._call(lambda: self._sink.on_next(value))

    def on_error(self, error: Exception) -> None:
        self._call(lambda: self._sink.on_error(error))

    def on_completed(self) -> None:
        self._call(self._sink.on_completed)


class Cancel:
    """Ctrl-C for a running stream: reading stops, then ``error(cancelled)`` and ``done``.

    ``cancel.wrap(items)`` is the stream to subscribe; ``cancel()`` (a SIGINT
    handler on the event loop) disposes the request and ends the stream with
    whole items, so every output still ends with ``done``.
    """

    def __init__(self) -> None:
        self._stop: Callable[[], None] = lambda: None
        self.requested = False

    def __call__(self) -> None:
        self.requested = True
        self._stop()

    def wrap(self, items: Observable[Item]) -> Observable[Item]:
        def subscribe(
            observer: abc.ObserverBase[Item], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            upstream = SingleAssignmentDisposable()
            started = False
            done = False  # ``done`` went out: nothing left to cancel
            closed = False

            def on_next(item: Item) -> None:
                nonlocal started, done
                if closed:
                    return
                started = True
                done = done or type(item) is Done
                observer.on_next(item)

            def on_error(error: Exception) -> None:
                nonlocal closed
                if not closed:
                    closed = True
                    observer.on_error(error)

            def on_completed() -> None:
                nonlocal closed
                if not closed:
                    closed = True
                    observer.on_completed()

            def stop() -> None:
                nonlocal closed
                if closed or done:
                    return
                closed = True
                upstream.dispose()
                for item in cancelled_tail(started):
                    observer.on_next(item)
                observer.on_completed()

            self._stop = stop
            if self.requested:  # Ctrl-C came before the stream was subscribed
                stop()
                return upstream
            upstream.disposable = items.subscribe(
                on_next, on_error, on_completed, scheduler=scheduler
            )
            return Disposable(upstream.dispose)

        return Observable(subscribe)


async def fan_out(items: Observable[Item], sinks: Sequence[abc.ObserverBase[Item]]) -> bool:
    """Run one stream to all ``sinks`` (``publish`` + ``connect``) until it ends.

    Returns ``False`` if standard output was closed under a sink (``| head``);
    re-raises what a sink raised otherwise.
    """
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[bool] = loop.create_future()

    def broken() -> None:
        if not finished.done():
            finished.set_result(False)

    def on_error(error: Exception) -> None:
        if not finished.done():
            finished.set_exception(error)

    def on_completed() -> None:
        if not finished.done():
            finished.set_result(True)

    from reactivex import operators as ops  # about 3 ms: only the HTTP commands need it

    published = items.pipe(ops.publish())
    for sink in sinks:
        published.subscribe(_Guard(sink, broken))
    published.subscribe(on_error=on_error, on_completed=on_completed)
    connection = published.connect()
    try:
        return await finished
    finally:
        if connection is not None:
            connection.dispose()


async def run_cancellable(
    items: Observable[Item], sinks: Sequence[abc.ObserverBase[Item]]
) -> tuple[bool, bool]:
    """``fan_out`` with Ctrl-C ending the stream as ``cancelled``: (output open, cancelled)."""
    cancel = Cancel()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, cancel)
    try:
        completed = await fan_out(cancel.wrap(items), sinks)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return completed, cancel.requested


def _run(main: Callable[[], Awaitable[int]]) -> int:
    """Run ``main`` on a fresh event loop; a Ctrl-C before the stream began still ends with 130."""

    async def runner() -> int:
        return await main()

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        return interrupted()


def _cancelled_before_start(sinks: Sequence[abc.ObserverBase[Item]]) -> int:
    """Ctrl-C before the request: the outputs still end with ``error(cancelled)`` and ``done``."""
    for sink in sinks:
        try:
            for item in cancelled_tail(started=False):
                sink.on_next(item)
            sink.on_completed()
        except BrokenPipeError:
            pass
    return interrupted()


def _demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    log_path = os.path.abspath(args.log or default_demo_log())
    log_file = open_file(parser, log_path, "w")

    async def main() -> int:
        from .http import FunctionTool, build_request, stream_responses
        from .server import ReplayServer
        from .sinks import JsonLinesSink, TerminalView

        rate = args.rate or None
        tally = Tally()
        async with ReplayServer([demo_recording_path()], events_per_second=rate) as server:
            view = TerminalView(sys.stdout)
            view.note(f"replay server at {server.base_url} · POST /responses")
            view.note(f"> {DEMO_PROMPT}")
            weather = FunctionTool(
                "get_weather",
                "Current weather for a city.",
                {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "country": {"type": "string"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["city", "country", "unit"],
                    "additionalProperties": False,
                },
            )
            body = build_request(
                DEMO_MODEL,
                DEMO_PROMPT,
                tools=[weather],
                reasoning_effort="medium",
                reasoning_summary="auto",
                parallel_tool_calls=True,
            )
            # api_key="": the demo's server is local; never send a real key to it.
            items = stream_responses(body, base_url=server.base_url, api_key="")
            view.metrics.mark_start()  # time to first token counts from the request
            sinks = [view, JsonLinesSink(log_file, close=True), tally]
            completed, cancelled = await run_cancellable(items, sinks)
        if not completed:
            return _BROKEN_PIPE
        print(f"JSON Lines log: {log_path}", flush=True)
        return interrupted() if cancelled else tally.exit_code

    try:
        code = _run(main)
    finally:
        log_file.close()
    if code == _BROKEN_PIPE:
        quiet_broken_pipe()
    return code


def _read_prompt(parser: argparse.ArgumentParser) -> str:
    """The prompt from standard input (``stream -``): UTF-8, one final line break dropped."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        usage_error(parser, "standard input: the prompt is not UTF-8")
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text.strip():
        usage_error(parser, "standard input held no prompt")
    return text


def _read_tools(parser: argparse.ArgumentParser, path: str) -> list[dict[str, Any]]:
    """``--tools FILE``: a JSON list of tool definitions, sent as they are."""
    import json

    with open_file(parser, path, "r") as file:
        data = file.read()
    try:
        tools = json.loads(data)
    except (ValueError, RecursionError):
        usage_error(parser, f"--tools {path}: not valid JSON")
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        usage_error(parser, f"--tools {path}: not a JSON list of tool objects")
    return tools


def warn_without_key(args: argparse.Namespace, command: str = "stream") -> None:
    """One line on standard error when no key is set for a host that is not this machine."""
    from urllib.parse import urlsplit

    from .http import is_loopback_host

    variable = KEY_VARIABLES[args.wire]
    host = urlsplit(args.base_url).hostname
    if not os.environ.get(variable) and not is_loopback_host(host):
        print(
            f"{PROG} {command}: warning: {variable} is not set; {host} gets no key",
            file=sys.stderr,
            flush=True,
        )


def _stream(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from . import http

    if args.background and args.wire != "responses":
        usage_error(parser, "--background: only a Responses request can be resumed")
    if args.base_url is None:
        args.base_url = http.ANTHROPIC_BASE_URL if args.wire == "anthropic" else DEFAULT_BASE_URL
    tools = _read_tools(parser, args.tools) if args.tools else None
    log_file = open_file(parser, os.path.abspath(args.log), "w") if args.log else None
    from .sinks import JsonLinesSink, TerminalView

    out: abc.ObserverBase[Item] = (
        JsonLinesSink(sys.stdout.buffer) if args.jsonl else TerminalView(sys.stdout)
    )
    tally = Tally()
    sinks = [out, tally] if log_file is None else [out, JsonLinesSink(log_file, close=True), tally]
    try:
        prompt = _read_prompt(parser) if args.prompt == "-" else args.prompt
    except KeyboardInterrupt:
        return _cancelled_before_start(sinks)
    warn_without_key(args)

    async def main() -> int:
        body: dict[str, Any]
        if args.wire == "chat":
            body = http.build_chat_request(args.model, prompt, tools=tools)
            if args.instructions is not None:
                body["messages"].insert(0, {"role": "system", "content": args.instructions})
        elif args.wire == "anthropic":
            body = http.build_anthropic_request(
                args.model, prompt, tools=tools, system=args.instructions
            )
        else:
            body = http.build_request(
                args.model,
                prompt,
                instructions=args.instructions,
                tools=tools,
                reasoning_effort=args.reasoning_effort,
                reasoning_summary=args.reasoning_summary,
                include_encrypted_reasoning=args.reasoning_effort is not None,
            )
        options: dict[str, Any] = {
            "base_url": args.base_url,
            "idle_timeout": args.idle_timeout,
            "connect_timeout": args.connect_timeout,
            "allow_insecure_key": args.allow_insecure_key,
        }

        def reconnected(after: int) -> None:
            # Beside the items, never among them: the JSON Lines stay clean.
            if isinstance(out, TerminalView):
                out.note(f"reconnected at event {after + 1}")
            else:
                print(f"{PROG}: reconnected at event {after + 1}", file=sys.stderr, flush=True)

        def request() -> Observable[Item]:
            if args.background:
                from .resume import stream_background

                return stream_background(body, on_resume=reconnected, **options)
            return http.stream_responses(body, wire=args.wire, **options)

        if args.retries:
            from .retry import retry_responses

            items = retry_responses(request, max_attempts=args.retries + 1)
        else:
            items = request()
        if isinstance(out, TerminalView):
            out.metrics.mark_start()
        completed, cancelled = await run_cancellable(items, sinks)
        if not completed:
            return _BROKEN_PIPE
        return interrupted() if cancelled else tally.exit_code

    try:
        code = _run(main)
    finally:
        if log_file is not None:
            log_file.close()
    if code == _BROKEN_PIPE:
        quiet_broken_pipe()
    return code


def jsonl_as_sse(data: bytes) -> bytes:
    """A JSON Lines recording as server-sent events: each line becomes ``data: <line>\\n\\n``.

    Lines split on ``\\n`` with a final ``\\r`` removed, blank lines skipped and a
    leading byte-order mark dropped, as the JSON Lines framing reads them (SPEC §5).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    events = bytearray()
    for line in data.split(b"\n"):
        line = line.removesuffix(b"\r")
        if line.strip():
            events += b"data: " + line + b"\n\n"
    return bytes(events)


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    recordings: list[bytes] = []
    for path in args.files:
        with open_file(parser, path, "r") as file:
            data = file.read()
        framing = (sniff_format(data) or "sse") if args.format == "auto" else args.format
        recordings.append(jsonl_as_sse(data) if framing == "jsonl" else data)

    async def main() -> int:
        from .server import ReplayServer

        server = ReplayServer(
            recordings,
            host=args.host,
            port=args.port,
            events_per_second=args.rate or None,
            close_after=args.close_after,
            stall_after=args.stall_after,
            stall_seconds=args.stall_seconds,
            status=args.status,
            retry_after=args.retry_after,
            first_byte_delay=args.first_byte_delay,
            keep_open_after_end=args.keep_open,
        )
        try:
            await server.start()
        except OSError as exc:
            print(f"{PROG} serve: {exc.strerror or exc}", file=sys.stderr)
            return 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            pace = f"{args.rate:g} events/s" if args.rate else "unpaced"
            print(
                f"serving {len(args.files)} recording(s) at {server.base_url} "
                f"(POST /v1/responses, {pace}); Ctrl-C stops",
                flush=True,
            )
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await server.close()
        print(f"served {server.stats.requests} request(s)", flush=True)
        return EXIT_OK

    return _run(main)


def add_commands(commands: Any) -> None:
    """Add ``demo``, ``stream`` and ``serve`` to the ``rxresponses`` subcommands."""
    demo = commands.add_parser(
        "demo",
        help="stream a bundled answer over local HTTP to the terminal and a JSON Lines log",
        description=(
            "Start a replay server on 127.0.0.1, stream the bundled answer (reasoning, "
            "text, two parallel tool calls) through the HTTP client and the pipeline, "
            "and show it live while logging every item as JSON Lines."
        ),
    )
    demo.add_argument(
        "--log",
        metavar="PATH",
        help=(
            f"where to write the JSON Lines log (default: {DEMO_LOG} in the user's cache "
            "directory, $XDG_CACHE_HOME/rxresponses or ~/.cache/rxresponses)"
        ),
    )
    demo.add_argument(
        "--rate",
        type=_non_negative(float),
        default=DEFAULT_RATE,
        metavar="EPS",
        help=f"events per second, 0 for as fast as possible (default {DEFAULT_RATE:g})",
    )
    demo.set_defaults(run=_demo)

    stream = commands.add_parser(
        "stream",
        help="stream an answer from a Responses API endpoint",
        description=(
            "POST {URL}/responses with the prompt and print the items as they arrive. "
            "The API key comes from OPENAI_API_KEY (no Authorization header when unset) "
            "and is never printed."
        ),
    )
    stream.add_argument(
        "prompt", metavar="PROMPT", help="what to ask; - reads it from standard input"
    )
    stream.add_argument(
        "--base-url",
        metavar="URL",
        type=_base_url,
        default=None,
        help=f"the API's base URL (default {DEFAULT_BASE_URL}, or Anthropic's with "
        "--wire anthropic)",
    )
    stream.add_argument("--model", metavar="M", required=True, help="the model to ask")
    stream.add_argument(
        "--background",
        action="store_true",
        help="ask for a background response and resume it if the connection drops",
    )
    stream.add_argument(
        "--jsonl", action="store_true", help="print one JSON object per item, one per line"
    )
    stream.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="give up after S seconds without a byte (default 60)",
    )
    stream.add_argument(
        "--connect-timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="give up connecting after S seconds (default 10)",
    )
    stream.add_argument("--instructions", metavar="TEXT", help="system instructions")
    stream.add_argument(
        "--reasoning-effort",
        metavar="E",
        help="reasoning effort (minimal, low, medium, high); also asks for encrypted reasoning",
    )
    stream.add_argument(
        "--reasoning-summary", metavar="S", help="reasoning summary (auto, concise, detailed)"
    )
    stream.add_argument(
        "--wire",
        choices=WIRES,
        default="responses",
        help="the API to call (default responses: POST {URL}/responses)",
    )
    stream.add_argument(
        "--tools",
        metavar="FILE",
        help="a JSON list of tool definitions, sent as the request's tools",
    )
    stream.add_argument(
        "--retries",
        type=_non_negative(int),
        default=0,
        metavar="N",
        help="retry a request that fails before any content up to N times (default 0)",
    )
    stream.add_argument("--log", metavar="PATH", help="also write the items to a JSON Lines file")
    stream.add_argument(
        "--allow-insecure-key",
        action="store_true",
        help=(
            "send the API key even over plain http:// to a host that is not this machine "
            "(refused by default: the key would travel in clear text)"
        ),
    )
    stream.set_defaults(run=_stream)

    serve = commands.add_parser(
        "serve",
        help="serve recorded streams at POST /v1/responses, with optional faults",
        description=(
            "Replay recorded event streams over HTTP (round-robin over the files) for "
            "other clients, paced, with optional faults. Runs until Ctrl-C."
        ),
    )
    serve.add_argument(
        "files", metavar="FILE", nargs="+", help="recorded streams (SSE or JSON Lines)"
    )
    serve.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="auto (default): JSON Lines if a file starts with '{', else SSE; "
        "a JSON Lines recording is served as SSE",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_non_negative(int), default=8080, help="0 picks a free port (default 8080)"
    )
    serve.add_argument(
        "--rate",
        type=_non_negative(float),
        default=DEFAULT_RATE,
        metavar="EPS",
        help=f"events per second, 0 for unpaced (default {DEFAULT_RATE:g})",
    )
    serve.add_argument(
        "--close-after",
        type=_non_negative(int),
        metavar="N",
        help="drop the connection after N events",
    )
    serve.add_argument(
        "--stall-after", type=_non_negative(int), metavar="N", help="go silent after N events"
    )
    serve.add_argument(
        "--stall-seconds",
        type=_non_negative(float),
        default=30.0,
        metavar="T",
        help="how long to stay silent (default 30)",
    )
    serve.add_argument("--status", type=_status, help="answer every request with this HTTP status")
    serve.add_argument("--retry-after", metavar="V", help="Retry-After header value")
    serve.add_argument(
        "--first-byte-delay",
        type=_non_negative(float),
        default=0.0,
        metavar="T",
        help="wait T seconds before the response headers",
    )
    serve.add_argument(
        "--keep-open",
        action="store_true",
        help="hold the connection open after the last event until the client leaves",
    )
    serve.set_defaults(run=_serve)


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RATE",
    "Cancel",
    "add_commands",
    "default_demo_log",
    "demo_recording_path",
    "fan_out",
    "jsonl_as_sse",
    "run_cancellable",
]
