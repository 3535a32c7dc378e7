"""Peak memory of ``rxresponses replay --jsonl``: the real CLI in a subprocess, output to /dev/null.

    python -m benchmarks.memory            # 20 MB and 200 MB streams, single big events
    python -m benchmarks.memory --quick    # 2 MB and 20 MB

1. Long streams of small events (the final ``response.completed`` without the
   output list): peak RSS must not grow with the stream's length.
2. One event of S bytes (a text delta of S bytes): what it costs above an
   empty replay, as a multiple of S.
3. One event over the cap (``--max-event-bytes``), far over it and just over it: it
   must cost no more than the cap.
4. One event of 4 MiB read 64 KiB, 16 bytes and 1 byte at a time
   (``--chunk-size``): the held bytes of a line must cost what they cost in
   large reads, not an object per read.

Peak RSS is the replay's own ``ru_maxrss``, read by a tiny intermediate
process that forks and execs it: Linux carries the high-water mark of the
memory a process had when it called ``exec`` into its ``ru_maxrss``, so a
child forked straight from this (large) process would report our size, not
its own. Generated files go to a temporary directory, deleted afterwards.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import msgspec

from ._util import header, machine, verdict
from .streamgen import write_sized

MB = 1_000_000
MIB = 1024 * 1024


def replay_command() -> list[str]:
    """The console script next to this interpreter, else ``python -m rxresponses``."""
    script = os.path.join(os.path.dirname(sys.executable), "rxresponses")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "rxresponses"]


#: Runs argv[1:] with stdout on /dev/null; prints its ru_maxrss (KiB) and exit code.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss(path: str, *extra: str) -> tuple[int, float]:
    """``(peak RSS in bytes, wall seconds)`` of one ``replay --jsonl`` of ``path``.

    As installed: bytecode is written and read (``PYTHONDONTWRITEBYTECODE``
    dropped), since compiling the modules on every start costs about 1 MiB of peak.
    """
    command = [*replay_command(), "replay", path, "--jsonl", *extra]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-S", "-c", _MEASURE, *command], capture_output=True, check=True, env=env
    )
    wall = time.perf_counter() - start
    kib, code = (int(field) for field in out.stdout.split())
    if code not in (0, 1):  # 1: done came after an error item (a cut or capped stream)
        raise RuntimeError(f"replay of {path} exited with {code}: {out.stderr[-500:]!r}")
    return kib * 1024, wall  # Linux reports KiB


def empty_replay_rss(tmp: str) -> int:
    """Peak RSS of the replay of an empty file in ``tmp``, after a first run writes the bytecode."""
    empty = os.path.join(tmp, "empty.sse")
    open(empty, "wb").close()
    peak_rss(empty)
    return peak_rss(empty)[0]


def _one_big_event(path: str, size: int) -> None:
    """created, one text delta of ``size`` bytes of text, completed."""
    with open(path, "wb") as file:
        created = {"type": "response.created", "response": {"id": "resp_1", "model": "m"}}
        file.write(b"event: response.created\ndata: " + msgspec.json.encode(created) + b"\n\n")
        file.write(b"event: response.output_text.delta\n")
        file.write(b'data: {"type":"response.output_text.delta","output_index":0,"delta":"')
        block = b"0123456789abcdef" * 4096
        left = size
        while left > 0:
            left -= file.write(block[: min(left, len(block))])
        file.write(b'"}\n\n')
        done = {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}}
        file.write(b"event: response.completed\ndata: " + msgspec.json.encode(done) + b"\n\n")


#: Read sizes of the small-reads figure (``--chunk-size``), the first the reference.
CHUNK_SIZES = (64 * 1024, 16, 1)


def _mb(n: float) -> str:
    return f"{n / MIB:7.1f} MiB"


def run(quick: bool = False) -> bool:
    """Print the memory figures; ``True`` if the targets hold."""
    sizes = (2 * MB, 20 * MB) if quick else (20 * MB, 200 * MB)
    big = (4 * MIB, 16 * MIB) if quick else (8 * MIB, 32 * MIB)
    cap, over = (4 * MIB, 16 * MIB) if quick else (8 * MIB, 64 * MIB)
    ok = True
    with tempfile.TemporaryDirectory(prefix="rxresponses-bench-") as tmp:
        base = empty_replay_rss(tmp)
        header("memory: peak RSS of `rxresponses replay --jsonl` > /dev/null")
        print(f"  empty file: {_mb(base)}")
        peaks = []
        for target in sizes:
            path = os.path.join(tmp, f"small-{target}.sse")
            events, nbytes = write_sized(path, target)
            rss, wall = peak_rss(path)
            os.unlink(path)
            peaks.append(rss)
            print(
                f"  {nbytes / MB:6.0f} MB, {events:9,} small events: {_mb(rss)} "
                f"({wall:.1f} s, {nbytes / wall / MB:.0f} MB/s)"
            )
        growth = peaks[1] - peaks[0]
        ok &= growth <= 10 * MIB
        print(
            f"  growth from {sizes[0] // MB} MB to {sizes[1] // MB} MB: {growth / MIB:+.1f} MiB"
            f"   [target <= 10 MiB: {verdict(growth <= 10 * MIB)}]"
        )
        for size in big:
            path = os.path.join(tmp, f"big-{size}.sse")
            _one_big_event(path, size)
            rss, _ = peak_rss(path)
            os.unlink(path)
            print(
                f"  one event of {size / MIB:4.0f} MiB: {_mb(rss)}, "
                f"{(rss - base) / size:.1f}x its size above the empty replay"
            )
        # Far over the cap, and just over it (its end in the read that passes the cap).
        for size, what in ((over, f"{over / MIB:.0f} MiB"), (cap + 100, "the cap + 100 bytes")):
            path = os.path.join(tmp, "over-cap.sse")
            _one_big_event(path, size)
            rss, _ = peak_rss(path, "--max-event-bytes", str(cap))
            os.unlink(path)
            extra = rss - base
            ok &= extra <= cap
            print(
                f"  one event of {what} over a {cap / MIB:.0f} MiB cap: {_mb(rss)}, "
                f"{extra / MIB:+.1f} MiB above the empty replay   "
                f"[target <= the cap: {verdict(extra <= cap)}]"
            )
        ok &= _small_reads(tmp, base, MIB if quick else 4 * MIB)
    return ok


def _small_reads(tmp: str, base: int, size: int) -> bool:
    """One event of ``size`` bytes, read ``CHUNK_SIZES`` bytes at a time.

    True if the small reads cost at most twice what 64 KiB reads do above the
    empty replay.
    """
    path = os.path.join(tmp, "small-reads.sse")
    _one_big_event(path, size)
    ok = True
    reference = 0
    for chunk in CHUNK_SIZES:
        rss, wall = peak_rss(path, "--chunk-size", str(chunk))
        extra = rss - base
        reference = reference or extra
        line = (
            f"  one event of {size / MIB:.0f} MiB read {chunk:>5} bytes at a time: {_mb(rss)}, "
            f"{extra / MIB:+.1f} MiB above the empty replay ({wall:.1f} s)"
        )
        if chunk != CHUNK_SIZES[0]:
            good = extra <= 2 * reference
            ok &= good
            line += f"   [target <= 2x the 64 KiB figure: {verdict(good)}]"
        print(line)
    os.unlink(path)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 MB and 20 MB streams")
    args = parser.parse_args(argv)
    print(f"benchmarks.memory: {machine()}")
    run(quick=args.quick)  # missed targets are reported, not an error
    return 0


if __name__ == "__main__":
    sys.exit(main())
