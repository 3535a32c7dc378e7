"""``responses(source)``: the whole chain, from bytes to items."""

from collections.abc import Callable, Iterable

import msgspec
from reactivex import Observable, abc

from .operators import (
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_TOOL_INPUT_BYTES,
    Error,
    FrameFormat,
    Item,
    WireChoice,
    collect_tools,
    decode,
    dispatch,
    finalize,
    frame,
)

REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``[redacted]``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_errors(secrets: tuple[str, ...]) -> Callable[[Observable[Item]], Observable[Item]]:
    def _operator(source: Observable[Item]) -> Observable[Item]:
        def subscribe(
            observer: abc.ObserverBase[Item], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            def on_next(item: Item) -> None:
                if type(item) is Error:
                    message = redact(item.message, secrets)
                    code = None if item.code is None else redact(item.code, secrets)
                    if message != item.message or code != item.code:
                        item = msgspec.structs.replace(item, message=message, code=code)
                observer.on_next(item)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return _operator


def responses(
    source: Observable[bytes],
    *,
    format: FrameFormat = "sse",
    wire: WireChoice = "responses",
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    max_tool_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
    secrets: Iterable[str] = (),
) -> Observable[Item]:
    """The items of a streamed response, from the bytes of its body.

    Each subscription subscribes to ``source`` and runs its own chain (frame →
    decode → dispatch → collect_tools → finalize): it begins with one ``start``
    (sent with the stream's first output, so every subscriber of a shared
    asynchronous stream sees it), ends with exactly one ``done``, and never
    calls ``on_error`` for a stream fault. ``secrets`` (an API key) are replaced by
    ``[redacted]`` in error messages forwarded from the server.

    ``wire`` is the API the bytes come from: ``"responses"`` (OpenAI Responses),
    ``"chat"`` (Chat Completions), ``"anthropic"`` (Anthropic Messages) or
    ``"auto"`` (told by the first event, SPEC §3.4); ``format`` is ``"sse"``,
    ``"jsonl"`` or ``"auto"``. Both are chosen once per subscription.
    """
    chain = source.pipe(
        frame(format, max_event_bytes, done=wire != "responses"),
        decode(wire),
        dispatch(wire),
        collect_tools(max_tool_input_bytes),
        finalize(start=True, framing=format, wire=wire),
    )
    hidden = tuple(s for s in secrets if s)
    return chain.pipe(_redact_errors(hidden)) if hidden else chain


__all__ = ["REDACTED", "redact", "responses"]
