"""Side by side: ``rxresponses bench`` and guidellm on the same paced server.

    python -m benchmarks.peer_run PATH/TO/guidellm [--first 1.0] [--gap 0.05] [--tokens 10]
                                  [--requests 32] [--levels 1,16] [--wires chat,responses]
                                  [--rounds 2] [--tokenizer DIR]

guidellm is a peer, not a dependency: install it in an environment of its
own and give the path of its executable. It is never imported here; it runs
as a command, offline (``HF_HUB_OFFLINE=1``), with a tiny word-level
tokenizer that the Python beside its executable builds (``tokenizers`` comes
with guidellm), or the one in ``--tokenizer DIR``. Its prompts are a JSON
Lines file of ``{"prompt": "hi"}``, the prompt ``rxresponses bench`` sends.

For each wire, one replay server in its own process (``benchmarks._server``)
serves a stream whose first token comes ``--first`` seconds after the request
arrives and one more every ``--gap``, ``--tokens`` in all. At each
concurrency level both tools send ``--requests`` requests to it, in turns
(the order swapped every round); the figures pool the rounds. All
percentiles are recomputed from each tool's per-request records by one rule
(linear interpolation, ``rxresponses.loadtest.percentile``): guidellm's own
tables take the nearest rank, so its p99 of 32 requests is their maximum.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from rxresponses.loadtest import percentile

from ._util import machine
from .paced import STREAMS, paced, paced_server

WAIT = 600.0
PROMPT = "hi"
#: guidellm's request format for each wire it shares with ``rxresponses bench``.
PEER_FORMATS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}

#: Run by the Python beside the peer's executable: a word-level tokenizer in the folder argv[1].
TOKENIZER_SCRIPT = """
import json, sys
from tokenizers import Tokenizer, models, pre_tokenizers
words = ["[UNK]", "[PAD]", "hi"] + [f"t{i}" for i in range(1024)] + [f"w{i}" for i in range(1024)]
tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
tokenizer.save(sys.argv[1] + "/tokenizer.json")
config = {"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]",
          "pad_token": "[PAD]", "model_max_length": 1000000}
with open(sys.argv[1] + "/tokenizer_config.json", "w") as out:
    json.dump(config, out)
"""


@dataclass
class Figures:
    """Per-request values of one tool at one wire and level, in milliseconds, pooled over rounds."""

    first: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    itl: list[float] = field(default_factory=list)
    tpot: list[float] = field(default_factory=list)
    failed: int = 0


async def _run(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``command``; its standard output, or ``SystemExit`` with its last lines on failure."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), WAIT)
    text = output.decode(errors="replace")
    if process.returncode != 0:
        tail = "\n".join(text.splitlines()[-20:])
        raise SystemExit(f"{command[0]} exited with {process.returncode}:\n{tail}")
    return text


def _peer_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def peer_command(
    peer: str, base_url: str, wire: str, concurrency: int, requests: int, folder: Path
) -> list[str]:
    """guidellm's command line for one run (its JSON report goes to ``folder/peer.json``)."""
    backend = (
        f"kind=openai_http,target={base_url},model=m,validate_backend=false,"
        f"request_format={PEER_FORMATS[wire]}"
    )
    return [
        peer,
        "run",
        "--backend",
        backend,
        "--profile",
        f"kind=concurrent,streams={concurrency}",
        "--constraint",
        f"kind=max_requests,count={requests}",
        "--tokenizer",
        f"kind=huggingface_auto,model={folder / 'tokenizer'}",
        "--data",
        f"kind=json_file,path={folder / 'prompts.jsonl'}",
        "--output",
        f"kind=json,path={folder / 'peer.json'}",
        "--disable-console",
    ]


def ours_command(base_url: str, wire: str, concurrency: int, requests: int, out: Path) -> list[str]:
    """``rxresponses bench``'s command line for one run (its files go to ``out``)."""
    return [
        sys.executable,
        "-m",
        "rxresponses",
        "bench",
        "--base-url",
        base_url,
        "--model",
        "m",
        "--wire",
        wire,
        "--requests",
        str(requests),
        "--concurrency",
        str(concurrency),
        "--prompt",
        PROMPT,
        "--output",
        str(out),
    ]


def read_ours(out: Path, figures: Figures) -> None:
    """Add the requests of ``rxresponses bench``'s ``requests.jsonl`` to ``figures``."""
    for line in (out / "requests.jsonl").read_text().splitlines():
        result = json.loads(line)
        if result["failed"]:
            figures.failed += 1
            continue
        figures.first.append(result["item_times"][0] * 1000)  # ``start``: the first event
        figures.ttft.append(result["ttft"] * 1000)
        figures.e2e.append(result["e2e"] * 1000)
        if result["itl"] is not None:
            figures.itl.append(result["itl"] * 1000)


def read_peer(report: Path, figures: Figures, from_resolve: Figures) -> None:
    """Add guidellm's requests to ``figures``, and to ``from_resolve`` timed from its own start.

    guidellm starts a request's clock when httpx begins writing its headers
    (``request_start``); ``resolve_start`` is taken before the request is
    built and its connection made, where ``rxresponses bench`` starts its own.
    """
    requests = json.loads(report.read_text())["benchmarks"][0]["requests"]
    figures.failed += len(requests["errored"] or []) + len(requests["incomplete"] or [])
    from_resolve.failed = figures.failed
    for result in requests["successful"]:
        timings = result["info"]["timings"]
        figures.first.append((timings["first_request_iteration"] - timings["request_start"]) * 1000)
        figures.ttft.append(result["time_to_first_token_ms"])
        figures.e2e.append(result["request_latency"] * 1000)
        if result["inter_token_latency_ms"] is not None:
            figures.itl.append(result["inter_token_latency_ms"])
            from_resolve.itl.append(result["inter_token_latency_ms"])
        if result["time_per_output_token_ms"] is not None:
            figures.tpot.append(result["time_per_output_token_ms"])
        start = timings["resolve_start"]
        from_resolve.first.append((timings["first_request_iteration"] - start) * 1000)
        from_resolve.ttft.append((timings["first_token_iteration"] - start) * 1000)
        from_resolve.e2e.append((timings["request_end"] - start) * 1000)


async def run_shared_session(
    base_url: str, wire: str, concurrency: int, requests: int, figures: Figures
) -> None:
    """``rxresponses.loadtest`` in this process, every request on one ``aiohttp`` session.

    ``rxresponses bench`` opens a session for each request; this row shows
    what that costs.
    """
    import aiohttp
    from rxresponses.http import Wire, build_wire_request, stream_responses
    from rxresponses.loadtest import Event, RequestResult, load_test

    named = cast(Wire, wire)
    body = build_wire_request(named, "m", PROMPT)
    results: list[RequestResult] = []

    def keep(event: Event) -> None:
        if isinstance(event, RequestResult):
            results.append(event)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        run = load_test(
            lambda _: stream_responses(body, base_url=base_url, session=session, wire=named),
            requests=requests,
            concurrency=concurrency,
        )
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        run.subscribe(keep, done.set_exception, lambda: done.set_result(None))
        await asyncio.wait_for(done, WAIT)
    for result in results:
        if result.failed or result.ttft is None or result.e2e is None:
            figures.failed += 1
            continue
        figures.first.append(result.item_times[0] * 1000)
        figures.ttft.append(result.ttft * 1000)
        figures.e2e.append(result.e2e * 1000)
        if result.itl is not None:
            figures.itl.append(result.itl * 1000)


def _cells(values: list[float], *quantiles: float) -> str:
    if not values:
        return "".join(f"{'-':>9}" for _ in (*quantiles, 0))
    cells = [percentile(sorted(values), q) for q in quantiles]
    return "".join(f"{v:>9.1f}" for v in (*cells, sum(values) / len(values)))


def table(rows: dict[str, Figures]) -> str:
    """One row a tool: the first event (p50, mean), TTFT and e2e (p50, p99, mean), ITL and
    guidellm's TPOT (p50, mean), in milliseconds."""
    heads = "1st p50,mean,ttft p50,p99,mean,e2e p50,p99,mean,itl p50,mean,tpot p50,mean"
    lines = [f"{'':<34}" + "".join(f"{h:>9}" for h in heads.split(",")) + f"{'n':>5}{'failed':>7}"]
    for name, f in rows.items():
        cells = _cells(f.first, 50) + _cells(f.ttft, 50, 99) + _cells(f.e2e, 50, 99)
        cells += _cells(f.itl, 50) + _cells(f.tpot, 50)
        lines.append(f"{name:<34}{cells}{len(f.ttft):>5}{f.failed:>7}")
    return "\n".join(lines)


async def side_by_side(args: argparse.Namespace, folder: Path) -> None:
    peer = str(Path(args.peer).resolve())
    levels = [int(level) for level in args.levels.split(",")]
    injected_e2e = args.first + args.gap * (args.tokens - 1)
    for wire in args.wires.split(","):
        if wire not in PEER_FORMATS:
            raise SystemExit(f"--wires: one of {sorted(PEER_FORMATS)}, not {wire!r}")
        recording, schedule = paced(STREAMS[wire](args.tokens), args.first, args.gap)
        names = (
            "rxresponses bench",
            "guidellm",
            "guidellm, from its resolve_start",
            "rxresponses, one shared session",
        )
        pooled = {level: {name: Figures() for name in names} for level in levels}
        async with paced_server(recording, schedule) as base_url:
            for round_ in range(args.rounds):
                for level in levels:
                    rows = pooled[level]
                    tools = ("ours", "peer", "shared")
                    for tool in tools if round_ % 2 == 0 else tools[::-1]:
                        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
                        began = time.monotonic()
                        if tool == "ours":
                            out = folder / f"ours-{wire}-{level}-{round_}"
                            await _run(
                                ours_command(base_url, wire, level, args.requests, out), folder
                            )
                            read_ours(out, rows[names[0]])
                        elif tool == "shared":
                            await run_shared_session(
                                base_url, wire, level, args.requests, rows[names[3]]
                            )
                        else:
                            command = peer_command(
                                peer, base_url, wire, level, args.requests, folder
                            )
                            await _run(command, folder, _peer_env())
                            read_peer(folder / "peer.json", rows[names[1]], rows[names[2]])
                        print(
                            f"  {wire} round {round_ + 1} concurrency {level}: "
                            f"{ {'ours': names[0], 'peer': 'guidellm', 'shared': names[3]}[tool] } "
                            f"{time.monotonic() - began:.0f} s (load average before: {load})",
                            flush=True,
                        )
        for level in levels:
            print(
                f"\n{wire} wire, concurrency {level}, {args.requests} requests x {args.rounds} "
                f"rounds; injected: ttft {args.first * 1000:.0f}, itl {args.gap * 1000:.0f}, "
                f"e2e {injected_e2e * 1000:.0f} ms"
            )
            print(table(pooled[level]))


def _versions(peer: str, peer_python: str) -> str:
    from importlib.metadata import version

    peer_version = subprocess.run(
        [peer, "--version"], capture_output=True, text=True, env=_peer_env(), check=True
    ).stdout.strip()
    theirs = subprocess.run(
        [
            peer_python,
            "-c",
            "import importlib.metadata as m, sys; "
            "print(sys.version.split()[0], *(f'{p} {m.version(p)}' for p in "
            "('httpx', 'h2', 'uvloop')), sep=', ')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = f"rxresponses {version('rxresponses')}, aiohttp {version('aiohttp')}"
    return f"{ours}; {peer_version} (Python {theirs})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", help="the path of the guidellm executable")
    parser.add_argument("--first", type=float, default=1.0, help="seconds to the first token")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between tokens")
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--requests", type=int, default=32, help="per tool, level and round")
    parser.add_argument("--levels", default="1,16", help="concurrency levels")
    parser.add_argument("--wires", default="chat,responses")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tokenizer", help="a folder AutoTokenizer loads (default: built)")
    args = parser.parse_args()
    peer_python = str(Path(args.peer).parent / "python")
    print(f"peer_run: {machine()}")
    print(_versions(args.peer, peer_python))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        tokenizer = folder / "tokenizer"
        if args.tokenizer is None:
            tokenizer.mkdir()
            asyncio.run(_run([peer_python, "-c", TOKENIZER_SCRIPT, str(tokenizer)], folder))
        else:
            tokenizer.symlink_to(Path(args.tokenizer).resolve())
        line = json.dumps({"prompt": PROMPT}) + "\n"
        (folder / "prompts.jsonl").write_text(line * args.requests)
        asyncio.run(side_by_side(args, folder))
    print(f"\ndone: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
