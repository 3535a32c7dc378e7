"""Benchmarks: standalone scripts, run with ``python -m benchmarks.<name>`` (not part of the tests).

- ``benchmarks.throughput``: the chain against openai-python and a hand-written
  msgspec loop on the same bytes, memory of ``rxresponses replay``, cold start.
- ``benchmarks.http``: the aiohttp source against openai-python's client over
  loopback HTTP, 1 to 100 concurrent streams.
- ``benchmarks.streamgen``: the deterministic, realistic stream they all read.
"""
