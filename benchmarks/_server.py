"""The replay server in its own process, for ``benchmarks.http``.

    python -m benchmarks._server FILE


Serves FILE unpaced (large writes) on 127.0.0.1, prints its base URL on one
line, and stops when its standard input closes.
"""

import asyncio
import sys


async def _serve(path: str) -> None:
    from rxresponses.server import ReplayServer

    async with ReplayServer([path], events_per_second=None) as server:
        print(server.base_url, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
