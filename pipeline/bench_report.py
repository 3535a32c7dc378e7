"""The load test's report: the metric definitions, and a self-contained HTML page of charts.

The page is one file with inline SVG (no script, no network): latency
distributions of TTFT, ITL and e2e, and output tokens per second over the run.
"""

import html
from collections.abc import Sequence

from .loadtest import RequestResult, Summary

#: What each figure means; written into ``summary.json`` beside the figures.
DEFINITIONS = {
    "ttft_ms": "request sent → first content item (text, refusal, reasoning, tool call start "
    "or argument piece); reasoning counts. vLLM: TTFT; AIPerf: Time to First Token; "
    "guidellm: time_to_first_token_ms",
    "ttfa_ms": "request sent → first answer item (text, refusal or tool call start); "
    "reasoning does not count. No peer has it (AIPerf's 'Time to First Output Token' is closest)",
    "e2e_ms": "request sent → done. vLLM: E2EL; AIPerf: Request Latency; guidellm: request_latency",
    "itl_ms": "per request, (e2e - ttft) / (output_tokens - 1). vLLM: TPOT; AIPerf: Inter "
    "Token Latency; guidellm: inter_token_latency_ms (time_per_output_token_ms includes the "
    "first token)",
    "icl_ms": "every gap between consecutive content items, pooled. vLLM: ITL; AIPerf: Inter "
    "Chunk Latency; guidellm: none",
    "output_tokens_per_s": "output tokens of completed requests / run duration (usage; counted "
    "items when a stream has none)",
    "requests_per_s": "completed requests / run duration",
    "goodput_per_s": "completed requests that met every --goodput bound / run duration",
}

_WIDTH, _HEIGHT, _PAD = 520, 200, 36


def _histogram(title: str, values_ms: Sequence[float], bins: int = 30) -> str:
    if not values_ms:
        return f"<section><h2>{html.escape(title)}</h2><p>no values</p></section>"
    low, high = min(values_ms), max(values_ms)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in values_ms:
        counts[min(int((value - low) / span * bins), bins - 1)] += 1
    top = max(counts)
    bar = (_WIDTH - 2 * _PAD) / bins
    bars = "".join(
        f'<rect x="{_PAD + i * bar:.1f}" y="{_HEIGHT - _PAD - c / top * (_HEIGHT - 2 * _PAD):.1f}"'
        f' width="{bar * 0.9:.1f}" height="{c / top * (_HEIGHT - 2 * _PAD):.1f}">'
        f"<title>{c} between {low + i * span / bins:.1f} and "
        f"{low + (i + 1) * span / bins:.1f} ms</title></rect>"
        for i, c in enumerate(counts)
    )
    axis = (
        f'<text x="{_PAD}" y="{_HEIGHT - 8}">{low:.1f} ms</text>'
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 8}" text-anchor="end">{high:.1f} ms</text>'
        f'<text x="{_PAD - 4}" y="{_PAD}" text-anchor="end">{top}</text>'
    )
    return (
        f"<section><h2>{html.escape(title)}</h2>"
        f'<svg width="{_WIDTH}" height="{_HEIGHT}" role="img">{bars}{axis}</svg></section>'
    )


def _tokens_over_time(results: Sequence[RequestResult], buckets: int = 40) -> str:
    points: list[tuple[float, float]] = []  # (seconds into the run, tokens)
    for result in results:
        if result.failed:
            continue
        times = [
            result.sent + at
            for kind, at in zip(result.item_types, result.item_times, strict=True)
            if kind in {"text", "refusal", "reasoning", "tool_request_start", "tool_request_arg"}
        ]
        if times:
            share = result.output_tokens / len(times)
            points.extend((t, share) for t in times)
    title = "output tokens per second over the run"
    if not points:
        return f"<section><h2>{title}</h2><p>no values</p></section>"
    end = max(t for t, _ in points) or 1.0
    width = end / buckets
    sums = [0.0] * buckets
    for t, tokens in points:
        sums[min(int(t / width), buckets - 1)] += tokens
    rates = [s / width for s in sums]
    top = max(rates) or 1.0
    step = (_WIDTH - 2 * _PAD) / (buckets - 1)
    line = " ".join(
        f"{_PAD + i * step:.1f},{_HEIGHT - _PAD - r / top * (_HEIGHT - 2 * _PAD):.1f}"
        for i, r in enumerate(rates)
    )
    axis = (
        f'<text x="{_PAD}" y="{_HEIGHT - 8}">0 s</text>'
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 8}" text-anchor="end">{end:.1f} s</text>'
        f'<text x="{_PAD - 4}" y="{_PAD}" text-anchor="end">{top:.0f}</text>'
    )
    return (
        f"<section><h2>{title}</h2>"
        f'<svg width="{_WIDTH}" height="{_HEIGHT}" role="img">'
        f'<polyline fill="none" stroke="currentColor" points="{line}"/>{axis}</svg></section>'
    )


def render_report(results: Sequence[RequestResult], summary: Summary) -> str:
    """One self-contained HTML page: the summary table, three distributions, tokens/s."""
    ok = [r for r in results if not r.failed]
    rows = "".join(
        f"<tr><th>{name[:-3]}</th>"
        + "".join(
            "<td>-</td>" if v is None else f"<td>{v:.1f}</td>"
            for v in (s.mean, s.p50, s.p90, s.p95, s.p99, s.max)
        )
        + "</tr>"
        for name in ("ttft_ms", "ttfa_ms", "itl_ms", "icl_ms", "e2e_ms")
        for s in [getattr(summary, name)]
    )
    facts = (
        f"{summary.requests} requests, {summary.completed} completed, {summary.failed} failed"
        f" · {summary.duration_s:.2f} s · {summary.requests_per_s:.2f} req/s · "
        f"{summary.output_tokens_per_s:.1f} output tokens/s"
    )
    charts = (
        _histogram("TTFT (ms)", [r.ttft * 1000 for r in ok if r.ttft is not None])
        + _histogram("ITL (ms)", [r.itl * 1000 for r in ok if r.itl is not None])
        + _histogram("e2e (ms)", [r.e2e * 1000 for r in ok if r.e2e is not None])
        + _tokens_over_time(results)
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>rxresponses bench</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
        "svg{background:#f7f7f7}rect{fill:#4a7bd0}text{font-size:11px}"
        "td,th{padding:2px 10px;text-align:right}</style>"
        f"<h1>rxresponses bench</h1><p>{html.escape(facts)}</p>"
        "<table><tr><th>ms</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th>"
        f"<th>p99</th><th>max</th></tr>{rows}</table>{charts}</html>\n"
    )


__all__ = ["DEFINITIONS", "render_report"]
