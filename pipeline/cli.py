"""The ``rxresponses`` command line: replay, demo, stream, serve.

Replaying imports no HTTP code; ``demo``, ``stream`` and ``serve`` import
aiohttp when they run.
"""

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, NoReturn

from reactivex import Observable, abc

from ._compose import responses
from .operators import DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_TOOL_INPUT_BYTES, Item
from .sinks import JsonLinesSink, TerminalView
from .sources import DEFAULT_CHUNK_SIZE, from_chunks, read_chunks


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on standard error and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


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
        parser.error(f"{path}: is a directory")
    try:
        return open(path, mode + "b")
    except OSError as exc:
        parser.error(f"{path}: {exc.strerror or exc}")


def _open_input(parser: argparse.ArgumentParser, path: str) -> IO[bytes]:
    return sys.stdin.buffer if path == "-" else open_file(parser, path, "r")


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (``| head``): stop without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


def _replay(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    file = _open_input(parser, args.file)
    out = sys.stdout

    def chunks() -> Iterator[bytes]:
        try:
            yield from read_chunks(file, args.chunk_size)
        finally:
            if file is not sys.stdin.buffer:
                file.close()

    sink: abc.ObserverBase[Item]
    if args.jsonl:
        sink = JsonLinesSink(out.buffer, flush_each=False)
        flush = out.buffer.flush
    else:
        sink = TerminalView(out, flush_each=False, stats=False)
        flush = out.flush
    source = _after_each(from_chunks(chunks), flush)
    items = responses(
        source,
        format=args.format,
        max_event_bytes=args.max_event_bytes,
        max_tool_input_bytes=args.max_tool_input_bytes,
    )
    try:
        items.subscribe(sink)  # a synchronous source: runs to its end here
        flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rxresponses",
        description="Turn a streamed OpenAI Responses API answer into a short stream of items.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
        choices=("sse", "jsonl"),
        default="sse",
        help="sse: server-sent events (default); jsonl: one JSON event per line",
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
    from . import _web_cli

    _web_cli.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.ArgumentParser, argparse.Namespace], int] = args.run
    return run(parser, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
