"""Arguments of the commands that need a network stack; their code loads only when they run."""

import argparse
import os
import sys
import tempfile
from importlib import resources
from typing import Any

DEMO_RECORDING = "demo.sse"


def demo_recording_path() -> str:
    """The bundled recording the demo streams."""
    return str(resources.files("pipeline") / "data" / DEMO_RECORDING)


def _demo(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from reactivex import operators as ops

    from ._compose import responses
    from .sinks import JsonLinesSink, TerminalView
    from .sources import from_file

    log_path = args.log or os.path.join(tempfile.gettempdir(), "rxresponses-demo.jsonl")
    items = responses(from_file(demo_recording_path())).pipe(ops.publish())
    log = JsonLinesSink.open(log_path)
    items.subscribe(TerminalView(sys.stdout))
    items.subscribe(log)
    items.connect()
    print(f"JSON Lines log: {log_path}")
    return 0


def add_commands(commands: Any) -> None:
    demo = commands.add_parser("demo", help="stream a bundled recording to the terminal and a log")
    demo.add_argument("--log", metavar="PATH", help="where to write the JSON Lines log")
    demo.set_defaults(run=_demo)
