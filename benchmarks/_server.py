"""The replay server in its own process, for ``benchmarks.http`` and load-test accuracy.

    python -m benchmarks._server FILE [SCHEDULE.json]

Serves FILE on 127.0.0.1 unpaced (large writes), or each event at its time
in SCHEDULE (a JSON list of seconds after the request arrives), prints its
base URL on one line, and stops when its standard input closes. A server in
the client's own event loop would bill its delays to the client.
"""

import asyncio
import json
import sys


async def _serve(path: str, schedule: str | None) -> None:
    from rxresponses.server import ReplayServer

    times = None
    if schedule is not None:
        with open(schedule) as file:
            times = json.load(file)
    async with ReplayServer([path], events_per_second=None, schedule=times) as server:
        print(server.base_url, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
