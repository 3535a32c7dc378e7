"""``rxresponses bench``: load-test a streaming model endpoint with ``rxresponses.loadtest``.

Without ``--base-url`` it needs no key and no network: it starts the replay
server on 127.0.0.1 with the bundled recording, paced like a fast model.
Writes ``requests.jsonl``, ``summary.json`` and ``report.html`` to
``--output DIR`` when given; prints the summary either way.
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from .cli import _positive
from .loadtest import GOODPUT_METRICS, RequestResult, Summary, parse_goodput

DEFAULT_REQUESTS = 100
DEFAULT_CONCURRENCY = 8
#: Events per second of the embedded server: about what a fast model streams.
EMBEDDED_RATE = 60.0
_METRICS = ("ttft_ms", "ttfa_ms", "itl_ms", "icl_ms", "e2e_ms")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _goodput(text: str) -> dict[str, float]:
    try:
        return parse_goodput(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_command(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="load-test a streaming model endpoint (TTFT, ITL, e2e, tokens/s, goodput)",
        description=(
            "Send requests at a chosen load and time every item of every answer. Without "
            "--base-url, an embedded replay server on 127.0.0.1 answers (no key, no network)."
        ),
    )
    bench.add_argument("--base-url", help="the API's base URL, e.g. http://127.0.0.1:8000/v1")
    bench.add_argument("--model", help="the model to ask (needed with --base-url)")
    bench.add_argument(
        "--wire",
        choices=("responses", "chat", "anthropic"),
        default="responses",
        help="the API: responses (POST /responses, default), chat (/chat/completions), "
        "anthropic (/messages)",
    )
    bench.add_argument("--requests", type=_positive, default=DEFAULT_REQUESTS, metavar="N")
    load = bench.add_mutually_exclusive_group()
    load.add_argument(
        "--concurrency",
        type=_positive,
        metavar="C",
        help=f"closed loop: C requests in flight at all times (default {DEFAULT_CONCURRENCY})",
    )
    load.add_argument(
        "--rate", type=_positive_float, metavar="R", help="open loop: R requests per second"
    )
    bench.add_argument("--arrival", choices=("poisson", "constant"), default="poisson")
    prompts = bench.add_mutually_exclusive_group()
    prompts.add_argument("--prompt", default="Write a short story about a lighthouse keeper.")
    prompts.add_argument(
        "--prompts",
        metavar="FILE.jsonl",
        help='one prompt per line: a JSON string, or an object with "prompt"',
    )
    bench.add_argument("--max-output-tokens", type=_positive, metavar="K")
    bench.add_argument(
        "--goodput",
        type=_goodput,
        metavar="ttft:MS,itl:MS,e2e:MS",
        help=f"bounds a good request meets (metrics: {', '.join(GOODPUT_METRICS)})",
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the Poisson arrivals")
    bench.add_argument("--idle-timeout", type=_positive_float, default=60.0, metavar="S")
    bench.add_argument(
        "--output", metavar="DIR", help="write requests.jsonl, summary.json, report.html here"
    )
    bench.set_defaults(run=run_bench)


def _read_prompts(parser: argparse.ArgumentParser, path: str) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"{path}: {exc.strerror if isinstance(exc, OSError) else exc}")
    prompts: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = msgspec.json.decode(line)
        except msgspec.DecodeError:
            parser.error(f"{path}:{number}: not JSON")
        if isinstance(value, dict):
            value = value.get("prompt")
        if not isinstance(value, str) or not value:
            parser.error(f'{path}:{number}: expected a string or an object with "prompt"')
        prompts.append(value)
    if not prompts:
        parser.error(f"{path}: no prompts")
    return prompts


def _progress_line(summary: Summary, total: int) -> str:
    ttft = summary.ttft_ms.p50
    shown = "-" if ttft is None else f"{ttft:.0f} ms"
    return (
        f"\r{summary.requests}/{total} done · {summary.failed} failed · "
        f"p50 TTFT {shown} · {summary.output_tokens_per_s:.0f} tok/s   "
    )


def format_summary(summary: Summary) -> str:
    """The summary as a small table for a terminal."""
    lines = [
        f"requests {summary.requests}, completed {summary.completed}, failed {summary.failed}"
        + (f" ({summary.errors})" if summary.errors else ""),
        f"duration {summary.duration_s:.2f} s · {summary.requests_per_s:.2f} req/s · "
        f"{summary.output_tokens_per_s:.1f} output tokens/s"
        + ("" if summary.goodput_per_s is None else f" · goodput {summary.goodput_per_s:.2f}/s"),
        f"{'ms':<6}{'mean':>10}{'p50':>10}{'p90':>10}{'p95':>10}{'p99':>10}{'max':>10}",
    ]
    for name in _METRICS:
        stats = getattr(summary, name)
        cells = (stats.mean, stats.p50, stats.p90, stats.p95, stats.p99, stats.max)
        lines.append(
            f"{name[:-3]:<6}" + "".join(f"{'-':>10}" if v is None else f"{v:>10.1f}" for v in cells)
        )
    if summary.tokens_estimated:
        lines.append(
            f"{summary.tokens_estimated} request(s) had no usage: their tokens are counted items"
        )
    return "\n".join(lines)


def write_outputs(directory: Path, results: Sequence[RequestResult], summary: Summary) -> None:
    """``requests.jsonl``, ``summary.json`` (with the definitions) and ``report.html``."""
    from .bench_report import DEFINITIONS, render_report

    directory.mkdir(parents=True, exist_ok=True)
    encoder = msgspec.json.Encoder()
    with open(directory / "requests.jsonl", "wb") as out:
        for result in sorted(results, key=lambda r: r.index):
            out.write(encoder.encode(result) + b"\n")
    document = {**msgspec.to_builtins(summary), "definitions": DEFINITIONS}
    (directory / "summary.json").write_bytes(msgspec.json.format(encoder.encode(document)) + b"\n")
    (directory / "report.html").write_text(render_report(results, summary), encoding="utf-8")


def run_bench(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.base_url is not None and not args.base_url.startswith(("http://", "https://")):
        parser.error(f"--base-url must start with http:// or https://, not {args.base_url!r}")
    if args.base_url is not None and not args.model:
        parser.error("--model is needed with --base-url")
    prompts = [args.prompt] if args.prompts is None else _read_prompts(parser, args.prompts)
    if args.output is not None and Path(args.output).exists() and not Path(args.output).is_dir():
        parser.error(f"--output {args.output}: not a directory")
    concurrency = args.concurrency or (None if args.rate else DEFAULT_CONCURRENCY)
    if args.base_url is not None:
        from ._http_cli import warn_without_key

        warn_without_key(args, "bench")
    try:
        summary, results = asyncio.run(_bench(args, prompts, concurrency))
    except KeyboardInterrupt:
        sys.stderr.write("rxresponses bench: interrupted\n")
        return 130
    print(format_summary(summary))
    if args.output is not None:
        write_outputs(Path(args.output), results, summary)
        print(f"written to {args.output}: requests.jsonl, summary.json, report.html")
    return 1 if summary.failed else 0


async def _bench(
    args: argparse.Namespace, prompts: list[str], concurrency: int | None
) -> tuple[Summary, list[RequestResult]]:
    import aiohttp

    from .http import build_wire_request, stream_responses
    from .loadtest import load_test

    server = None
    base_url, model = args.base_url, args.model or "gpt-5"
    if base_url is None:
        from ._http_cli import demo_recording_path
        from .server import ReplayServer

        server = ReplayServer([demo_recording_path()], events_per_second=EMBEDDED_RATE)
        await server.start()
        base_url = server.base_url
    bodies = [
        build_wire_request(args.wire, model, p, max_tokens=args.max_output_tokens) for p in prompts
    ]

    def make_items(index: int) -> Any:
        return stream_responses(
            bodies[index % len(bodies)],
            base_url=base_url,
            wire=args.wire,
            idle_timeout=args.idle_timeout,
            session=session,
        )

    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()
    results: list[RequestResult] = []
    last: list[Summary] = []
    live = sys.stderr.isatty()
    show: Callable[[str], object] = sys.stderr.write

    def on_next(event: RequestResult | Summary) -> None:
        if isinstance(event, RequestResult):
            results.append(event)
        else:
            last.append(event)
            if live:
                show(_progress_line(event, args.requests))

    def on_error(exc: Exception) -> None:
        if not finished.done():
            finished.set_exception(exc)

    def on_completed() -> None:
        if not finished.done():
            finished.set_result(None)

    run = load_test(
        make_items,
        requests=args.requests,
        concurrency=concurrency,
        rate=args.rate,
        arrival=args.arrival,
        seed=args.seed,
        goodput=args.goodput,
    )
    # One client for the run, with no cap on its connections: --concurrency sets the load.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    subscription = run.subscribe(on_next, on_error, on_completed)
    try:
        await finished
    finally:
        subscription.dispose()
        await session.close()
        if live:
            show("\n")
        if server is not None:
            await server.close()
    return last[-1], results
