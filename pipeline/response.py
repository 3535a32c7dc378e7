"""The finished answer: the items of one stream folded into one immutable ``Response``.

Streaming is for showing an answer as it comes; most code then wants the
whole of it: the final text, the calls to run, the usage, the errors. The
fold works from items alone, so it serves every wire::

    response = await final_response(stream_responses(body))   # asyncio code
    items.pipe(to_response()).subscribe(on_next=...)          # a ReactiveX chain
    response = response_of(list_of_items)                     # items already at hand

``Response.output`` keeps everything in the order it came (messages at their
first part), which is the order the next request's input needs.
"""

from collections.abc import Callable, Iterable
from contextlib import aclosing
from typing import Literal, TypeAlias

import msgspec
from reactivex import Observable, abc

from .aio import iterate
from .items import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
    Item,
    Metadata,
    PartStart,
    Reasoning,
    Refusal,
    StopReason,
    Text,
    TokenUsage,
    ToolCall,
    ToolRequestComplete,
    ToolResult,
    Usage,
)

ReasoningKind: TypeAlias = Literal["reasoning", "reasoning_summary"]


class Message(msgspec.Struct, frozen=True, tag="message", tag_field="type"):
    """One assistant message: its text and refusal parts joined, and what they cite.

    ``id``/``index`` are those its ``part_start`` items named (``None`` on
    wires without them, and for chunks that came without a ``part_start``);
    ``phase`` is ``"commentary"`` for a progress note, ``"final_answer"`` or
    ``None`` for the answer.
    """

    id: str | None
    index: int | None
    phase: str | None
    text: str
    refusal: str
    citations: tuple[Citation, ...] = ()


class ReasoningPart(msgspec.Struct, frozen=True, tag="reasoning_part", tag_field="type"):
    """One part of the model's reasoning: a summary or the raw text.

    ``kind`` is ``None`` when the chunks came without a ``part_start``.
    """

    id: str | None
    index: int | None
    kind: ReasoningKind | None
    text: str


#: What ``Response.output`` holds, each tagged by ``type`` as in the item stream.
OutputEntry: TypeAlias = (
    Message
    | ReasoningPart
    | EncryptedReasoning
    | Compaction
    | ToolRequestComplete
    | ToolResult
    | ApprovalRequest
)


class Response(msgspec.Struct, frozen=True):
    """The whole answer of one stream, once ``done`` came.

    ``output`` is every message, reasoning part, encrypted reasoning,
    compaction, completed tool call, final tool result and approval request,
    in arrival order; the properties are views of it by kind. Preliminary tool
    results (image previews) are left out. ``stop_reason`` and
    ``last_sequence_number`` are the ``done`` item's (``None`` if the items
    ended without one).
    """

    response_id: str | None = None
    model: str | None = None
    output: tuple[OutputEntry, ...] = ()
    usage: TokenUsage | None = None
    stop_reason: StopReason | None = None
    errors: tuple[Error, ...] = ()
    last_sequence_number: int | None = None

    @property
    def messages(self) -> tuple[Message, ...]:
        return tuple(entry for entry in self.output if type(entry) is Message)

    @property
    def reasoning(self) -> tuple[ReasoningPart, ...]:
        return tuple(entry for entry in self.output if type(entry) is ReasoningPart)

    @property
    def encrypted_reasoning(self) -> tuple[EncryptedReasoning, ...]:
        return tuple(entry for entry in self.output if type(entry) is EncryptedReasoning)

    @property
    def compactions(self) -> tuple[Compaction, ...]:
        return tuple(entry for entry in self.output if type(entry) is Compaction)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """Every completed call, server-run ones included."""
        return tuple(entry.tool_call for entry in self.output if type(entry) is ToolRequestComplete)

    @property
    def tool_results(self) -> tuple[ToolResult, ...]:
        return tuple(entry for entry in self.output if type(entry) is ToolResult)

    @property
    def approval_requests(self) -> tuple[ApprovalRequest, ...]:
        return tuple(entry for entry in self.output if type(entry) is ApprovalRequest)

    @property
    def calls_to_run(self) -> tuple[ToolCall, ...]:
        """The calls the caller must run and answer: not server-run, not cut short."""
        return tuple(
            call for call in self.tool_calls if not call.provider_executed and not call.partial
        )

    @property
    def text(self) -> str:
        """The answer's text: every message but ``commentary`` ones, joined."""
        return "".join(message.text for message in self.messages if message.phase != "commentary")

    @property
    def commentary(self) -> str:
        """The text of ``commentary`` messages (progress notes between tool calls), joined."""
        return "".join(message.text for message in self.messages if message.phase == "commentary")

    @property
    def refusal(self) -> str:
        """The refusal text of every message, joined (``""`` when the model did not refuse)."""
        return "".join(message.refusal for message in self.messages)

    @property
    def reasoning_text(self) -> str:
        """The reasoning parts' text, one part a paragraph."""
        return "\n\n".join(part.text for part in self.reasoning if part.text)

    @property
    def ok(self) -> bool:
        """True when the stream finished with a stop reason and without ``error`` items."""
        return not self.errors and self.stop_reason is not None


class _MessageDraft:
    __slots__ = ("citations", "id", "index", "phase", "refusal", "text")

    def __init__(self, id: str | None, index: int | None, phase: str | None) -> None:
        self.id, self.index, self.phase = id, index, phase
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.citations: list[Citation] = []

    def build(self) -> Message:
        return Message(
            self.id,
            self.index,
            self.phase,
            "".join(self.text),
            "".join(self.refusal),
            tuple(self.citations),
        )


class _ReasoningDraft:
    __slots__ = ("id", "index", "kind", "text")

    def __init__(self, id: str | None, index: int | None, kind: ReasoningKind | None) -> None:
        self.id, self.index, self.kind = id, index, kind
        self.text: list[str] = []

    def build(self) -> ReasoningPart:
        return ReasoningPart(self.id, self.index, self.kind, "".join(self.text))


class ResponseBuilder:
    """Folds items into a ``Response``: ``add`` each item, then ``build``.

    Text and refusal parts with the same ``(id, index)`` belong to one
    message (a message resumed after another part's chunk stays one);
    each reasoning ``part_start`` begins a new reasoning part.
    """

    def __init__(self) -> None:
        self._output: list[OutputEntry | _MessageDraft | _ReasoningDraft] = []
        self._messages: dict[tuple[str | None, int | None], _MessageDraft] = {}
        self._message: _MessageDraft | None = None
        self._reasoning: _ReasoningDraft | None = None
        self._response_id: str | None = None
        self._model: str | None = None
        self._usage: TokenUsage | None = None
        self._errors: list[Error] = []

    def _message_for(self, id: str | None, index: int | None) -> _MessageDraft:
        draft = self._messages.get((id, index))
        if draft is None:
            draft = self._messages[(id, index)] = _MessageDraft(id, index, None)
            self._output.append(draft)
        return draft

    def _current_message(self) -> _MessageDraft:
        if self._message is None:
            self._message = self._message_for(None, None)
        return self._message

    def add(self, item: Item) -> None:
        match item:
            case Text(chunk=chunk):
                self._current_message().text.append(chunk)
            case Reasoning(chunk=chunk):
                if self._reasoning is None:
                    self._reasoning = _ReasoningDraft(None, None, None)
                    self._output.append(self._reasoning)
                self._reasoning.text.append(chunk)
            case PartStart():
                self._part_start(item)
            case Refusal(chunk=chunk):
                self._current_message().refusal.append(chunk)
            case Citation():
                self._current_message().citations.append(item)
            case ToolResult(preliminary=False):
                self._output.append(item)
            case ToolRequestComplete() | EncryptedReasoning() | Compaction() | ApprovalRequest():
                self._output.append(item)
            case Usage(tokens=tokens):
                self._usage = tokens
            case Error():
                self._errors.append(item)
            case Metadata(response_id=response_id, model=model) if self._response_id is None:
                self._response_id, self._model = response_id, model
            case _:
                pass

    def _part_start(self, part: PartStart) -> None:
        if part.kind == "text" or part.kind == "refusal":
            draft = self._message_for(part.id, part.index)
            if draft.phase is None:
                draft.phase = part.phase
            self._message = draft
        else:
            self._reasoning = _ReasoningDraft(part.id, part.index, part.kind)
            self._output.append(self._reasoning)

    def build(self, done: Done | None = None) -> Response:
        """The response so far; ``done`` gives its stop reason and last sequence number."""
        output = tuple(
            entry.build() if isinstance(entry, _MessageDraft | _ReasoningDraft) else entry
            for entry in self._output
        )
        return Response(
            response_id=self._response_id,
            model=self._model,
            output=output,
            usage=self._usage,
            stop_reason=done.stop_reason if done is not None else None,
            errors=tuple(self._errors),
            last_sequence_number=done.last_sequence_number if done is not None else None,
        )


def response_of(items: Iterable[Item]) -> Response:
    """The ``Response`` of items already at hand (a list, a log read back); stops at ``done``."""
    builder = ResponseBuilder()
    for item in items:
        if type(item) is Done:
            return builder.build(item)
        builder.add(item)
    return builder.build()


def to_response() -> Callable[[Observable[Item]], Observable[Response]]:
    """Fold a stream's items into one ``Response``, emitted when ``done`` arrives.

    Items after ``done`` are ignored. Items that end without ``done`` (a source
    of one's own) still give their response, with no stop reason. An upstream
    ``on_error`` (a caller's exception) passes through.

    .. code::

        -start-part_start-text-text-tool_request_complete-usage-done-|
        [                       to_response()                        ]
        -------------------------------------------------------Response-|
    """

    def _to_response(source: Observable[Item]) -> Observable[Response]:
        def subscribe(
            observer: abc.ObserverBase[Response], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            builder = ResponseBuilder()
            finished = False

            def on_next(item: Item) -> None:
                nonlocal finished
                if finished:
                    return
                if type(item) is Done:
                    finished = True
                    observer.on_next(builder.build(item))
                else:
                    builder.add(item)

            def on_completed() -> None:
                nonlocal finished
                if not finished:
                    finished = True
                    observer.on_next(builder.build())
                observer.on_completed()

            return source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return _to_response


async def final_response(items: Observable[Item]) -> Response:
    """Subscribe to ``items`` and return their ``Response`` once ``done`` arrives.

    Cancelling the await disposes the subscription (an HTTP request is
    closed). Failures of the stream are in ``Response.errors``, not raised.
    """
    async with aclosing(iterate(items.pipe(to_response()))) as responses:
        async for response in responses:
            return response
    raise AssertionError("to_response completed without a response")  # pragma: no cover


__all__ = [
    "Message",
    "OutputEntry",
    "ReasoningKind",
    "ReasoningPart",
    "Response",
    "ResponseBuilder",
    "final_response",
    "response_of",
    "to_response",
]
