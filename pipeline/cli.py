"""The ``rxresponses`` command line: replay, demo, stream, serve.

Exit codes (``replay``, ``demo``, ``stream``): 0 when the stream reached
``done`` with no ``error`` item, 1 when it reached ``done`` after one, 2 for a
bad argument (one line on standard error), 130 on Ctrl-C (the outputs end
with a ``cancelled`` error and ``done``). Replaying imports no HTTP code;
``demo``, ``stream`` and ``serve`` import aiohttp when they run.
"""

import argparse
import os
import signal
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import IO, Any, Literal, NoReturn

from reactivex import Observable, abc

from ._compose import responses
from .operators import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_TOOL_INPUT_BYTES,
    Done,
    Error,
    FrameFormat,
    Item,
    PipelineError,
    Start,
)
from .operators._sse import sniff
from .sinks import JsonLinesSink, TerminalView
from .sources import DEFAULT_CHUNK_SIZE, from_chunks

PROG = "rxresponses"
DISTRIBUTION = "rxresponses"
EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: The message of the ``cancelled`` error item, and the line on standard error.
INTERRUPTED = "interrupted"
#: The wires ``--wire`` names; ``auto`` tells them apart by the first event (SPEC §3.4).
WIRES = ("responses", "chat", "anthropic")
FORMATS = ("auto", "sse", "jsonl")


class Cancelled(PipelineError):
    """Ctrl-C stopped the reading: the ``cancelled`` error item (SPEC §4) stands for it."""

    kind = "cancelled"
    default_retryable = False


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on standard error and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """``--version``: read from the installed distribution only when asked (it costs an import)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from importlib.metadata import version

        print(f"{PROG} {version(DISTRIBUTION)}", flush=True)
        parser.exit(EXIT_OK)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def usage_error(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    """One line on standard error, nothing on standard output, exit 2."""
    parser.error(" ".join(message.split()))


def interrupted() -> int:
    """The one line Ctrl-C leaves on standard error; the exit code that goes with it."""
    print(f"{PROG}: {INTERRUPTED}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


class Tally(abc.ObserverBase[Item]):
    """Watches a stream for what decides the exit code: ``done``, and any ``error`` before it."""

    def __init__(self) -> None:
        self.items = 0
        self.errors = 0
        self.cancelled = False
        self.done = False

    def on_next(self, value: Item) -> None:
        self.items += 1
        if type(value) is Error:
            self.errors += 1
            self.cancelled = self.cancelled or value.kind == "cancelled"
        elif type(value) is Done:
            self.done = True

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.done and not self.errors else EXIT_ERRORS


#: The items a replay's ``Tally`` needs to see (the others only pass through).
_TALLIED = frozenset({Start, Error, Done})


def cancelled_tail(started: bool) -> list[Item]:
    """How Ctrl-C ends the outputs: ``start`` (if none went out yet), ``error``, ``done``."""
    head: list[Item] = [] if started else [Start(message_id=str(uuid.uuid4()))]
    return [*head, Cancelled(INTERRUPTED).to_item(), Done(stop_reason=None)]


def sniff_format(head: bytes) -> Literal["sse", "jsonl"] | None:
    """``jsonl`` or ``sse`` for input that begins with ``head``; ``None`` if it cannot tell yet."""
    return sniff(head)[0]


def detect_format(chunks: Iterator[bytes]) -> tuple[FrameFormat, Iterator[bytes]]:
    """The framing of a chunk stream, and the same chunks, none lost.

    Reads only until the framing is known (a chunk of one byte at a time does);
    input that ends first is SSE. A failure while reading comes after the
    chunks read before it, as it would have without the look-ahead.
    """
    held: list[bytes] = []
    rest = b""
    found: Literal["sse", "jsonl"] | None = None
    failure: Exception | None = None
    try:
        for chunk in chunks:
            held.append(chunk)
            found, rest = sniff(rest + chunk)
            if found is not None:
                break
    except Exception as exc:
        failure = exc

    def replayed() -> Iterator[bytes]:
        yield from held
        held.clear()
        if failure is not None:
            raise failure
        yield from chunks

    return found or "sse", replayed()


class _Interrupt:
    """Ctrl-C taken where it is safe: between two chunks, or at once while waiting for input.

    A ``KeyboardInterrupt`` raised in the middle of the chain could leave an
    item half written; a flag alone would leave a read of standard input
    blocked. So the handler raises only while a read is waiting.
    """

    def __init__(self) -> None:
        self.requested = False
        self.waiting = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.waiting:
            raise KeyboardInterrupt

    def read_chunks(self, file: IO[bytes], chunk_size: int) -> Iterator[bytes]:
        """Chunks of ``file`` as they come; ``Cancelled`` once Ctrl-C was pressed."""
        read = getattr(file, "read1", file.read)
        while True:
            if self.requested:
                raise Cancelled(INTERRUPTED)
            self.waiting = True
            try:
                chunk = read(chunk_size)
            except KeyboardInterrupt:
                raise Cancelled(INTERRUPTED) from None
            finally:
                self.waiting = False
            if not chunk:
                return
            yield chunk


def _after_each(source: Observable[bytes], action: Callable[[], None]) -> Observable[bytes]:
    """Call ``action`` after the chain has handled each chunk (to flush the output)."""

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        def on_next(chunk: bytes) -> None:
            observer.on_next(chunk)
            action()

        return source.subscribe(
            on_next, observer.on_error, observer.on_completed, scheduler=scheduler
        )

    return Observable(subscribe)


def open_file(parser: argparse.ArgumentParser, path: str, mode: str) -> IO[bytes]:
    """``path`` opened in binary ``mode``; a directory or an OS error exits 2 with one line."""
    if os.path.isdir(path):
        usage_error(parser, f"{path}: is a directory")
    try:
        return open(path, mode + "b")
    except OSError as exc:
        usage_error(parser, f"{path}: {exc.strerror or exc}")


def _open_input(parser: argparse.ArgumentParser, path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == "-" else open_file(parser, path, "r")


def quiet_broken_pipe() -> NoReturn:
    """The reader went away (``| head``): stop without a traceback, exit 0."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_OK)


def _on_sigint(handler: Callable[[int, FrameType | None], Any]) -> Callable[[], None]:
    """Install ``handler`` for SIGINT; returns what puts the previous one back."""
    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C is not ours to take
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore


def _replay(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    file = _open_input(parser, args.file)
    out = sys.stdout
    interrupt = _Interrupt()
    restore = _on_sigint(interrupt)

    def chunks() -> Iterator[bytes]:
        try:
            yield from rest
        finally:
            if file is not sys.stdin.buffer:
                file.close()

    sink: abc.ObserverBase[Item]
    flush: Callable[[], None]
    if args.jsonl:
        sink = JsonLinesSink(out.buffer, flush_each=False)
        flush = sink.flush  # one write per chunk of input
    else:
        sink = TerminalView(out, flush_each=False, stats=False)
        flush = out.flush
    tally = Tally()
    write = sink.on_next

    def on_next(item: Item) -> None:
        write(item)
        if type(item) in _TALLIED:  # what decides the exit code, and whether a start went out
            tally.on_next(item)

    try:
        rest = interrupt.read_chunks(file, args.chunk_size)
        fmt: FrameFormat
        if args.format == "auto":
            fmt, rest = detect_format(rest)
        else:
            fmt = args.format
        items = responses(
            _after_each(from_chunks(chunks), flush),
            format=fmt,
            max_event_bytes=args.max_event_bytes,
            max_tool_input_bytes=args.max_tool_input_bytes,
            wire=args.wire,
        )
        # a synchronous source: runs to its end here
        items.subscribe(on_next, sink.on_error, sink.on_completed)
        flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except KeyboardInterrupt:  # only where no read was waiting: end the outputs here
        try:
            if not tally.done:
                for item in cancelled_tail(started=tally.items > 0):
                    sink.on_next(item)
            flush()
        except BrokenPipeError:
            quiet_broken_pipe()
        return interrupted()
    finally:
        restore()
    if tally.cancelled:
        return interrupted()
    return tally.exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Turn a streamed model answer (OpenAI Responses) into a short stream of items. "
            "Exit codes: 0 done without errors, 1 done after an error item, "
            "2 bad argument, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    replay = commands.add_parser("replay", help="run a recorded stream through the pipeline")
    replay.add_argument("file", metavar="FILE", help="the recording, or - for standard input")
    replay.add_argument(
        "--chunk-size",
        type=_positive,
        default=DEFAULT_CHUNK_SIZE,
        metavar="N",
        help=f"read N bytes at a time (default {DEFAULT_CHUNK_SIZE})",
    )
    replay.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help=(
            "auto (default): JSON Lines if the input starts with '{', else SSE; "
            "sse: server-sent events; jsonl: one JSON event per line"
        ),
    )
    replay.add_argument(
        "--wire",
        choices=("auto", *WIRES),
        default="auto",
        help="the provider's event shapes (default auto: told by the first event)",
    )
    replay.add_argument(
        "--jsonl", action="store_true", help="print one JSON object per item, one per line"
    )
    replay.add_argument(
        "--max-event-bytes",
        type=_positive,
        default=DEFAULT_MAX_EVENT_BYTES,
        metavar="N",
        help="cap on one event's size (default 128 MiB)",
    )
    replay.add_argument(
        "--max-tool-input-bytes",
        type=_positive,
        default=DEFAULT_MAX_TOOL_INPUT_BYTES,
        metavar="N",
        help="cap on one tool call's input (default 16 MiB)",
    )
    replay.set_defaults(run=_replay)

    from . import _http_cli  # the HTTP commands' arguments; their code loads when they run

    _http_cli.add_commands(commands)
    from . import _bench_cli  # likewise: the load test's code loads when it runs

    _bench_cli.add_command(commands)
    from . import _web_cli

    _web_cli.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; no command prints the usage and exits 2, as argparse does."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    run: Callable[[argparse.ArgumentParser, argparse.Namespace], int] = args.run
    return run(parser, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
