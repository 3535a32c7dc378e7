"""OpenAI Chat Completions: ``chat.completion.chunk`` events → items (SPEC §3.2).

Only choice 0 is read. Its text, refusal and reasoning come as parts of index
0 (a new part whenever the kind of chunk changes); its tool calls are keyed by
their ``index`` and go on as tool events for ``collect_tools``, with the
wire's own breakage mended here: an id sent only on the first piece, pieces of
arguments before the name (held until the call can start), parallel calls all
sent at index 0 each with its own id, a call that never gets a name. The data
``[DONE]`` is the terminal event; a stream that ends after a ``finish_reason``
without it is complete too.
"""

from collections.abc import Callable
from typing import Any, TypeAlias

import msgspec
from reactivex import Observable

from ._errors import decode_error
from ._events import FunctionArgsDelta, ToolItem
from ._items import (
    Error,
    Metadata,
    PartKind,
    PartStart,
    Reasoning,
    Refusal,
    StopReason,
    Text,
    TokenUsage,
    Usage,
)
from ._signals import CloseCall, OpenCall, Terminal
from ._sse import Frame
from ._stage import batch_stage
from ._tool_collect import DEFAULT_MAX_TOOL_INPUT_BYTES
from ._wirebase import (
    DECODE_FAILURES,
    OVERSIZED,
    PassesMarker,
    ending_stage,
    event_error,
    is_done,
    marking,
    plain,
    stream_error,
)


class ChatFunction(msgspec.Struct, gc=False):
    name: str | None = None
    arguments: str | None = None


class ChatToolCall(msgspec.Struct, gc=False):
    index: int | None = None
    id: str | None = None
    function: ChatFunction | None = None


class ChatDelta(msgspec.Struct, gc=False):
    content: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: tuple[ChatToolCall, ...] | None = None


class ChatChoice(msgspec.Struct, gc=False):
    index: int | None = None
    delta: ChatDelta | None = None
    finish_reason: str | None = None


class PromptDetails(msgspec.Struct, gc=False):
    cached_tokens: int | None = None


class CompletionDetails(msgspec.Struct, gc=False):
    reasoning_tokens: int | None = None


class ChatUsage(msgspec.Struct, gc=False):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: PromptDetails | None = None
    completion_tokens_details: CompletionDetails | None = None


class ChatError(msgspec.Struct, gc=False):
    message: str | None = None
    type: str | None = None
    code: Any = None  # a string or an integer; any other type counts as absent


class ChatChunk(msgspec.Struct, gc=False):
    """One ``chat.completion.chunk`` (or an error chunk).

    Its arrays are read as tuples: the cyclic GC stops tracking a tuple of
    untracked structs at its first collection, and never a list. Lists of
    the chunks of a batch alive at a collection would be promoted, and bring
    on full collections in a long stream.
    """

    id: str | None = None
    model: str | None = None
    choices: tuple[ChatChoice, ...] | None = None
    usage: ChatUsage | None = None
    error: ChatError | None = None


class ChatDone:
    """The data ``[DONE]``: the end of the response."""

    __slots__ = ()


CHAT_DONE = ChatDone()
ChatEvent: TypeAlias = ChatChunk | ChatDone
_CHUNK = msgspec.json.Decoder(ChatChunk)


class ChatDecoder:
    """Frames → chunks, with no I/O; nothing after ``[DONE]`` is read."""

    __slots__ = ("ended",)

    def __init__(self) -> None:
        self.ended = False

    def decode(self, frames: list[Frame]) -> list[ChatEvent | Error]:
        out: list[ChatEvent | Error] = []
        if self.ended:
            return out
        decode = _CHUNK.decode
        append = out.append
        for name, data, oversized in frames:
            if oversized:
                append(event_error(name, data, OVERSIZED))
                continue
            try:
                append(decode(data))
            except DECODE_FAILURES as exc:
                if is_done(data):
                    out.append(CHAT_DONE)
                    self.ended = True
                    break
                if isinstance(exc, msgspec.ValidationError):
                    why = str(exc)
                else:
                    why = f"{type(exc).__name__}: {exc}"
                out.append(event_error(name, data, why))
        return out


def chat_decode_() -> Callable[[Observable[list[Frame]]], Observable[list[ChatEvent | Error]]]:
    return batch_stage(lambda: marking(ChatDecoder().decode))


_STOP: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}


def chat_usage(usage: ChatUsage) -> Usage | None:
    """The ``usage`` item of a chunk's usage; ``None`` when it holds nothing."""
    prompt, completion = usage.prompt_tokens_details, usage.completion_tokens_details
    if (
        usage.prompt_tokens is None
        and usage.completion_tokens is None
        and prompt is None
        and completion is None
    ):
        return None
    return Usage(
        tokens=TokenUsage(
            input_tokens=usage.prompt_tokens or 0,
            output_tokens=usage.completion_tokens or 0,
            cache_read_tokens=(prompt.cached_tokens or None) if prompt else None,
            cache_creation_tokens=None,
            reasoning_tokens=(completion.reasoning_tokens or None) if completion else None,
        )
    )


class _Call:
    """A call at one index of choice 0, from its first entry to its completion."""

    __slots__ = ("held", "held_size", "id", "index", "made_up", "placeholder", "started")

    def __init__(self, index: int, id: str | None) -> None:
        self.index = index
        self.id = id  # the id the server sent, if any yet
        self.made_up = False  # started without one: it keeps "call_<index>"
        self.started = False
        self.held: list[str] = []  # pieces of arguments before the name
        self.held_size = 0
        # Stands for the call in ``finalize`` until it gets a name: if the
        # stream ends first, it gives the call's one ``decode_error``.
        self.placeholder = OpenCall(id or "", id, "", "function")
        self.placeholder.unnamed = decode_error(
            f"tool call at index {index}" + (f" ({id!r})" if id else "") + " never got a name"
        )


class ChatDispatcher:
    """Chunks → items and tool events, with no I/O; one per subscription."""

    __slots__ = ("_calls", "_finish", "_kind", "_metadata_sent", "_stop", "_usage", "ended")

    def __init__(self) -> None:
        self.ended = False
        self._metadata_sent = False
        self._kind: PartKind | None = None  # the kind of the current part
        self._finish = False  # a finish_reason came
        self._stop: StopReason | None = None
        self._usage: ChatUsage | None = None
        self._calls: dict[int, _Call] = {}  # pending, in the order they began

    def step(self, events: list[ChatEvent | Error]) -> list[Any]:
        out: list[Any] = []
        if self.ended:
            return out
        append = out.append
        for event in events:
            if type(event) is ChatChunk:
                # One chunk, inline: most carry one piece of text or reasoning.
                if not self._metadata_sent and event.id:
                    self._metadata_sent = True
                    append(Metadata(response_id=event.id, model=event.model or None))
                if event.usage is not None:
                    self._usage = event.usage
                if event.error is not None:
                    error = event.error
                    append(stream_error(error.code, error.message, error.type))
                choices = event.choices
                if not choices:
                    continue
                choice = choices[0]
                if choice.index:  # not choice 0: look for it further on
                    for choice in choices:
                        if not choice.index:
                            break
                    else:
                        continue
                delta = choice.delta
                if delta is not None:
                    reasoning = delta.reasoning_content or delta.reasoning
                    if reasoning:
                        if self._kind != "reasoning":
                            self._kind = "reasoning"
                            append(PartStart("reasoning", 0))
                        append(Reasoning(reasoning))
                    if delta.content:
                        if self._kind != "text":
                            self._kind = "text"
                            append(PartStart("text", 0))
                        append(Text(delta.content))
                    if delta.refusal:
                        if self._kind != "refusal":
                            self._kind = "refusal"
                            append(PartStart("refusal", 0))
                        append(Refusal(delta.refusal))
                    if delta.tool_calls:
                        for position, entry in enumerate(delta.tool_calls):
                            index = position if entry.index is None else entry.index
                            call = self._calls.get(index)
                            function = entry.function
                            if call is None or not call.started or entry.id:
                                self._entry(index, entry, out)
                            elif function is not None and (piece := function.arguments):
                                # A further piece of a named call's arguments.
                                append(FunctionArgsDelta(output_index=index, delta=piece))
                if choice.finish_reason:
                    self._finish = True
                    self._stop = _STOP.get(choice.finish_reason)
                    self._complete_all(out)
            elif type(event) is ChatDone:
                if not self._finish:
                    self._stop = "end_turn"
                    self._complete_all(out)
                self._terminal(out)
                break
            else:
                append(event)
        return out

    def end(self, failed: bool) -> list[Any]:
        """At the end of input: complete if a ``finish_reason`` came (no ``[DONE]`` needed).

        A source failure is not the end of input: ``finalize`` reports it.
        """
        out: list[Any] = []
        if not failed and not self.ended and self._finish:
            self._terminal(out)
        return out

    def _terminal(self, out: list[Any]) -> None:
        self.ended = True
        if self._usage is not None and (usage := chat_usage(self._usage)) is not None:
            out.append(usage)
        out.append(Terminal(self._stop))

    def _entry(self, index: int, entry: ChatToolCall, out: list[Any]) -> None:
        function = entry.function
        name = plain(function.name) if function is not None else None
        piece = function.arguments if function is not None else None
        new_id = plain(entry.id)
        call = self._calls.get(index)
        if call is not None and new_id is not None and not call.made_up:
            if call.id is None and not call.started:
                call.id = new_id
            elif call.id != new_id:
                # Another call at the same index (parallel calls all sent at index 0).
                self._complete(call, out)
                call = None
        if call is None:
            call = self._calls[index] = _Call(index, new_id)
            out.append(call.placeholder)
        if not call.started:
            if name is None:
                if piece and call.held_size <= DEFAULT_MAX_TOOL_INPUT_BYTES:
                    call.held.append(piece)
                    call.held_size += len(piece)
                return
            self._start(call, name, out)
        if piece:
            out.append(FunctionArgsDelta(output_index=index, delta=piece))

    def _start(self, call: _Call, name: str, out: list[Any]) -> None:
        call.started = True
        call.placeholder.done = True  # the call is named: the real one stands for it now
        if call.id is None:
            call.made_up = True
        id = call.id if call.id is not None else f"call_{call.index}"
        out.append(
            ToolItem(
                done=False,
                output_index=call.index,
                id=id,
                call_id=id,
                name=name,
                kind="function",
                input=None,
                fallback="{}",
            )
        )
        for piece in call.held:
            out.append(FunctionArgsDelta(output_index=call.index, delta=piece))
        call.held = []

    def _complete(self, call: _Call, out: list[Any]) -> None:
        del self._calls[call.index]
        if call.started:
            out.append(CloseCall(call.index))
        else:
            call.placeholder.done = True
            out.append(call.placeholder.unnamed)

    def _complete_all(self, out: list[Any]) -> None:
        for call in list(self._calls.values()):
            self._complete(call, out)


def chat_dispatch_() -> Callable[[Observable[list[ChatEvent | Error]]], Observable[list[Any]]]:
    return ending_stage(lambda: PassesMarker(ChatDispatcher()))


__all__ = [
    "CHAT_DONE",
    "ChatChunk",
    "ChatDecoder",
    "ChatDispatcher",
    "ChatDone",
    "ChatEvent",
    "chat_decode_",
    "chat_dispatch_",
    "chat_usage",
]
