"""``rxresponses web``: the web server and its page, on the replay server or a real endpoint.

Only the arguments are defined at import time; aiohttp (and redis, with
``--redis``) are imported when the command runs.
"""

import argparse
import asyncio
import inspect
import signal
import sys
from typing import Any

from ._http_cli import DEFAULT_RATE, _non_negative, demo_recording_path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MODEL = "gpt-5"
WIRES = ("responses", "chat", "anthropic")


def _wire_supported(wire: str) -> bool:
    from .http import stream_responses

    return wire == "responses" or "wire" in inspect.signature(stream_responses).parameters


def _web(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.upstream is not None and not args.upstream.startswith(("http://", "https://")):
        parser.error(f"--upstream must start with http:// or https://, not {args.upstream!r}")
    if args.redis is not None and not args.redis.startswith(("redis://", "rediss://", "unix://")):
        parser.error(f"--redis must be a redis:// URL, not {args.redis!r}")
    if not _wire_supported(args.wire):
        parser.error(f"--wire {args.wire}: this version's HTTP client speaks only 'responses'")

    async def main() -> int:
        from aiohttp import web as aioweb

        from .broker import Broker, MemoryBroker
        from .server import ReplayServer
        from .web import http_upstream, make_app

        replay: ReplayServer | None = None
        options: dict[str, Any] = {} if args.wire == "responses" else {"wire": args.wire}
        if args.upstream is None:
            replay = ReplayServer([demo_recording_path()], events_per_second=args.rate or None)
            await replay.start()
            # api_key="": the embedded server is local; never send a real key to it.
            upstream = http_upstream(replay.base_url, model=args.model, api_key="", **options)
            source = f"embedded replay server {replay.base_url} (bundled recording)"
        else:
            upstream = http_upstream(args.upstream, model=args.model, **options)
            source = args.upstream
        broker: Broker
        if args.redis is None:
            broker = MemoryBroker()
            kept = "in memory"
        else:
            from .redis_stream import RedisBroker

            broker = RedisBroker.from_url(args.redis)
            kept = "in Redis"
        runner = aioweb.AppRunner(make_app(upstream, broker), shutdown_timeout=2.0)
        try:
            await runner.setup()
            site = aioweb.TCPSite(runner, args.host, args.port)
            await site.start()
        except Exception as exc:  # the port is taken, Redis is not there, …
            detail = (exc.strerror if isinstance(exc, OSError) else None) or exc
            print(f"rxresponses web: {detail}", file=sys.stderr)
            await runner.cleanup()
            if replay is not None:
                await replay.close()
            return 1
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"rxresponses web: http://{shown}:{port}/", flush=True)
        print(f"upstream: {source}; items kept {kept}; Ctrl-C stops", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await runner.cleanup()
            if replay is not None:
                await replay.close()
        return 0

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130


def add_command(commands: Any) -> None:
    """Add ``web`` to the ``rxresponses`` subcommands."""
    web = commands.add_parser(
        "web",
        help="serve streams to browsers: a page, server-sent events that resume, Redis fan-out",
        description=(
            "Start streams with POST /streams and watch them at /streams/{id}/events "
            "(server-sent events that resume with Last-Event-ID), or open the page at /. "
            "With no options the upstream is an embedded replay server playing the bundled "
            "recording: no key, no network."
        ),
    )
    web.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    web.add_argument(
        "--port",
        type=_non_negative(int),
        default=DEFAULT_PORT,
        help=f"port, 0 picks a free one (default {DEFAULT_PORT})",
    )
    web.add_argument(
        "--upstream",
        metavar="URL",
        help="the API's base URL (key from OPENAI_API_KEY); default: the embedded replay server",
    )
    web.add_argument("--wire", choices=WIRES, default="responses", help="the upstream's wire")
    web.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model when a request names none ({DEFAULT_MODEL})"
    )
    web.add_argument(
        "--redis",
        metavar="URL",
        help="keep items in Redis Streams (redis://host:port/db): processes share streams",
    )
    web.add_argument(
        "--rate",
        type=_non_negative(float),
        default=DEFAULT_RATE,
        metavar="EPS",
        help=f"the embedded replay server's events per second, 0 unpaced ({DEFAULT_RATE:g})",
    )
    web.set_defaults(run=_web)


__all__ = ["add_command"]
