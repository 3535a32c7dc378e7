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

from .cli import open_file
from .operators import Item

DEMO_RECORDING = "demo.sse"
DEMO_LOG = "rxresponses-demo.jsonl.log"
DEMO_MODEL = "gpt-5"
DEMO_PROMPT = "Is it warmer in Lisbon or in Kyoto right now? I'm planning a long weekend."
#: Events per second for ``demo`` and ``serve``: about what a fast model streams.
DEFAULT_RATE = 60.0
_BROKEN_PIPE = -1  # the reader of standard output went away (``| head``)
#: Same as ``rxresponses.http.DEFAULT_BASE_URL`` (not imported: that loads aiohttp).
DEFAULT_BASE_URL = "https://api.openai.com/v1"


def demo_recording_path() -> str:
    """The bundled stream the demo plays (generated, see ``pipeline/data/README.md``)."""
    from importlib import resources  # with tempfile and shutil: kept off the replay path

    return str(resources.files("rxresponses") / "data" / DEMO_RECORDING)


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


def _run(main: Callable[[], Awaitable[int]]) -> int:
    """Run ``main`` on a fresh event loop; Ctrl-C ends it with 130."""

    async def runner() -> int:
        return await main()

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        return 130


def _demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    log_path = os.path.abspath(args.log)
    log_file = open_file(parser, log_path, "w")

    async def main() -> int:
        from .http import FunctionTool, build_request, stream_responses
        from .server import ReplayServer
        from .sinks import JsonLinesSink, TerminalView

        rate = args.rate or None
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
            completed = await fan_out(items, [view, JsonLinesSink(log_file, close=True)])
        if completed:
            print(f"JSON Lines log: {log_path}", flush=True)
        return 0

    try:
        return _run(main)
    finally:
        log_file.close()


def _stream(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    log_file = open_file(parser, os.path.abspath(args.log), "w") if args.log else None

    async def main() -> int:
        from .http import build_request, stream_responses
        from .sinks import JsonLinesSink, TerminalView

        body = build_request(
            args.model,
            args.prompt,
            instructions=args.instructions,
            reasoning_effort=args.reasoning_effort,
            reasoning_summary=args.reasoning_summary,
            include_encrypted_reasoning=args.reasoning_effort is not None,
        )
        out: abc.ObserverBase[Item] = (
            JsonLinesSink(sys.stdout.buffer) if args.jsonl else TerminalView(sys.stdout)
        )
        options: dict[str, Any] = {
            "base_url": args.base_url,
            "idle_timeout": args.idle_timeout,
            "connect_timeout": args.connect_timeout,
            "allow_insecure_key": args.allow_insecure_key,
        }
        if args.background:
            from .resume import stream_background

            def reconnected(after: int) -> None:
                # Beside the items, never among them: the JSON Lines stay clean.
                if isinstance(out, TerminalView):
                    out.note(f"reconnected at event {after + 1}")
                else:
                    sys.stderr.write(f"rxresponses: reconnected at event {after + 1}\n")

            items = stream_background(body, on_resume=reconnected, **options)
        else:
            items = stream_responses(body, **options)
        if isinstance(out, TerminalView):
            out.metrics.mark_start()
        sinks = [out] if log_file is None else [out, JsonLinesSink(log_file, close=True)]
        return 0 if await fan_out(items, sinks) else _BROKEN_PIPE

    try:
        code = _run(main)
    finally:
        if log_file is not None:
            log_file.close()
    if code == _BROKEN_PIPE:
        from .cli import _quiet_broken_pipe

        _quiet_broken_pipe()
    return code


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    for path in args.files:
        if os.path.isdir(path):
            parser.error(f"{path}: is a directory")
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            parser.error(f"{path}: no such readable file")

    async def main() -> int:
        from .server import ReplayServer

        server = ReplayServer(
            args.files,
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
            print(f"rxresponses serve: {exc.strerror or exc}", file=sys.stderr)
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
        return 0

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
        default=DEMO_LOG,
        help=f"where to write the JSON Lines log (default ./{DEMO_LOG})",
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
    stream.add_argument("prompt", metavar="PROMPT", help="what to ask")
    stream.add_argument(
        "--base-url",
        metavar="URL",
        default=DEFAULT_BASE_URL,
        help=f"the API's base URL (default {DEFAULT_BASE_URL})",
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
    serve.add_argument("files", metavar="FILE", nargs="+", help="recorded SSE streams")
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


__all__ = ["DEFAULT_BASE_URL", "DEFAULT_RATE", "add_commands", "demo_recording_path", "fan_out"]
