"""Cold start: wall time of fresh interpreters running the CLI or importing the packages.

    python -m benchmarks.coldstart [--runs 9]

Each command runs once untimed (to warm the file cache and write bytecode:
``PYTHONDONTWRITEBYTECODE`` is dropped for the children, as an installed
package has its bytecode), then ``--runs`` times; the median is shown.
``rxresponses replay`` of an empty file must stay under 150 ms and must not
import aiohttp.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

from ._util import header, machine, median, verdict
from .memory import replay_command


def wall(command: list[str], runs: int, allowed: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Median ``(wall, CPU)`` seconds of ``command`` (output discarded) over ``runs`` runs.

    An exit code outside ``allowed`` is a failure (``replay`` of an empty file
    exits 1: its stream reaches ``done`` after a ``stream_interrupted`` error).

    CPU is the child's user + system time: what it costs when the machine is busy.
    """
    walls, cpus = [], []
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: bytecode cached
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in allowed:
            raise RuntimeError(f"{command} exited with {proc.returncode}")
        if i:
            walls.append(elapsed)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return median(walls), median(cpus)


def imports_aiohttp_on_replay(path: str) -> bool:
    code = (
        "import sys; from rxresponses.cli import main; "
        f"main(['replay', {path!r}, '--jsonl']); "
        "sys.stderr.write(str(int('aiohttp' in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return out.stderr.strip().endswith(b"1")


def run(runs: int = 9) -> bool:
    """Print the cold-start figures; ``True`` if the targets hold."""
    cli = replay_command()
    py = sys.executable
    header(f"cold start: median wall time of {runs} fresh processes")
    with tempfile.TemporaryDirectory(prefix="rxresponses-bench-") as tmp:
        empty = os.path.join(tmp, "empty.sse")
        open(empty, "wb").close()
        rows = [
            ("python -c pass", [py, "-c", "pass"]),
            ("python -c 'import rxresponses'", [py, "-c", "import rxresponses"]),
            ("python -c 'import reactivex'", [py, "-c", "import reactivex"]),
            ("python -c 'import openai'", [py, "-c", "import openai"]),
            ("rxresponses --help", [*cli, "--help"]),
            ("rxresponses replay EMPTY --jsonl", [*cli, "replay", empty, "--jsonl"]),
        ]
        figures = {
            label: wall(command, runs, (0, 1) if "replay" in command else (0,))
            for label, command in rows
        }
        aiohttp = imports_aiohttp_on_replay(empty)
    print(f"  {'':<36} {'wall':>9} {'CPU':>9}")
    for label, (seconds, cpu) in figures.items():
        print(f"  {label:<36} {seconds * 1e3:6.1f} ms {cpu * 1e3:6.1f} ms")
    replay = figures["rxresponses replay EMPTY --jsonl"][0]
    ratio = figures["python -c 'import openai'"][0] / figures["python -c 'import rxresponses'"][0]
    print(f"  import openai / import rxresponses (wall) = {ratio:.1f}")
    print(f"  replay imports aiohttp: {aiohttp}   [target no: {verdict(not aiohttp)}]")
    print(f"  replay of an empty file, wall: [target < 150 ms: {verdict(replay < 0.150)}]")
    return replay < 0.150 and not aiohttp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    print(f"benchmarks.coldstart: {machine()}")
    run(runs=args.runs)  # missed targets are reported, not an error
    return 0


if __name__ == "__main__":
    sys.exit(main())
