"""Whole processes: ``rxresponses replay --jsonl`` against the hand-written floor, same bytes.

    python -m benchmarks.process [--wire responses|chat|anthropic] [--events 200000]
                                 [--runs 7] [--chunk-size 65536]

The floor reads the stream in chunks, splits events, decodes each with a
msgspec decoder made once, builds the items and writes them as JSON Lines:
the whole job, happy path only. For Responses it is
``yardsticks/floor_replay.py`` on the stream of ``yardsticks/gen_stream.py``;
for Chat Completions and Anthropic Messages, ``benchmarks.floor_wires_replay``
on the streams of ``yardsticks/gen_chat.py`` and ``gen_anthropic.py``. Both
commands take turns in one sitting; each is also timed on an empty file, and
that start-up is subtracted. Printed: the medians and their ratio, and
whether both wrote the same items (``message_id`` aside).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._util import header, machine, median, verdict
from .memory import replay_command

YARDSTICKS = Path(__file__).resolve().parent / "yardsticks"
#: Where ``python -m benchmarks…`` finds the package.
ROOT = YARDSTICKS.parent.parent


def generate(events: int, folder: Path) -> Path:
    """The Responses stream of ``events`` events from the yardstick generator."""
    out = folder / f"responses-{events}.sse"
    subprocess.run(
        [
            sys.executable,
            str(YARDSTICKS / "gen_stream.py"),
            "--events",
            str(events),
            "--out",
            str(out),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=YARDSTICKS,
    )
    return out


def _time(command: list[str]) -> float:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, env=env, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: an empty file ends early, as it should
        raise RuntimeError(f"{command} exited with {done.returncode}")
    return elapsed


def same_items(library: list[str], floor: list[str]) -> bool:
    """Whether the two commands wrote the same items, ``message_id`` aside."""
    outputs = [
        subprocess.run(c, check=False, capture_output=True, cwd=ROOT).stdout
        for c in (library, floor)
    ]
    ours, theirs = (out.splitlines()[1:] for out in outputs)  # the start item's id differs
    return ours == theirs


def run(events: int, runs: int, chunk_size: int, wire: str = "responses") -> float:
    """Print the figures; return library / floor with start-up subtracted."""
    with tempfile.TemporaryDirectory() as folder:
        if wire == "responses":
            stream = generate(events, Path(folder))
        else:
            from .wires import generate as generate_wire

            stream = Path(folder) / f"{wire}.sse"
            stream.write_bytes(generate_wire(wire, events, Path(folder)))
        empty = Path(folder) / "empty.sse"
        empty.write_bytes(b"")
        chunk = ["--chunk-size", str(chunk_size)]

        def library(path: Path) -> list[str]:
            return [*replay_command(), "replay", str(path), "--jsonl", "--wire", wire, *chunk]

        def floor(path: Path) -> list[str]:
            if wire == "responses":
                return [sys.executable, str(YARDSTICKS / "floor_replay.py"), str(path), *chunk]
            module = "benchmarks.floor_wires_replay"
            return [sys.executable, "-m", module, str(path), "--wire", wire, *chunk]

        times: dict[str, list[float]] = {k: [] for k in ("lib", "floor", "lib0", "floor0")}
        for command in (library(stream), floor(stream)):
            _time(command)  # warm the file cache and the bytecode
        for _ in range(runs):
            times["lib"].append(_time(library(stream)))
            times["floor"].append(_time(floor(stream)))
            times["lib0"].append(_time(library(empty)))
            times["floor0"].append(_time(floor(empty)))
        equal = same_items(library(stream), floor(stream))
    m = {k: median(v) for k, v in times.items()}
    ours, theirs = m["lib"] - m["lib0"], m["floor"] - m["floor0"]
    ratio = ours / theirs
    print(f"  stream: {wire}, {events} events, {chunk_size}-byte chunks")
    print(f"  rxresponses replay --jsonl   {m['lib']:7.3f} s  (start-up {m['lib0']:.3f} s)")
    print(f"  the floor                    {m['floor']:7.3f} s  (start-up {m['floor0']:.3f} s)")
    print(f"  per event: {ours / events * 1e6:.2f} µs against {theirs / events * 1e6:.2f} µs")
    print(f"  same items (message_id aside): {equal}")
    print(
        f"  whole process, start-up subtracted: rxresponses / floor = {ratio:.2f}  "
        + f"[target <= 1.3: {verdict(ratio <= 1.3)}]"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=65536)
    parser.add_argument("--wire", choices=["responses", "chat", "anthropic"], default="responses")
    args = parser.parse_args()
    print(f"benchmarks.process: {machine()}")
    header("whole process: rxresponses replay --jsonl against the floor")
    run(args.events, args.runs, args.chunk_size, args.wire)
    return 0


if __name__ == "__main__":
    sys.exit(main())
