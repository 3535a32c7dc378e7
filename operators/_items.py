"""The items a stream produces: small, frozen, provider-neutral.

Every item is a ``msgspec.Struct`` tagged by ``type``; ``msgspec.json.encode(item)``
is its wire form (one JSON object, optional values as ``null``).
"""

from typing import Literal, TypeAlias

import msgspec

StopReason: TypeAlias = Literal["end_turn", "tool_use", "length", "content_filter", "pause"]
ToolKind: TypeAlias = Literal["function", "custom", "builtin"]
PartKind: TypeAlias = Literal["text", "refusal", "reasoning", "reasoning_summary"]
ErrorKind: TypeAlias = Literal[
    "server_error",
    "rate_limited",
    "http_error",
    "connect_error",
    "stream_interrupted",
    "timeout",
    "decode_error",
    "usage_error",
    "cancelled",
]


class Start(msgspec.Struct, frozen=True, tag="start", tag_field="type"):
    """First item of every stream; ``message_id`` is fresh per subscription."""

    message_id: str


class Metadata(msgspec.Struct, frozen=True, tag="metadata", tag_field="type"):
    """The response's id and model, once, from the first lifecycle event that has them."""

    response_id: str
    model: str | None


class PartStart(msgspec.Struct, frozen=True, tag="part_start", tag_field="type"):
    """A new part of the answer begins; the chunks after it belong to it.

    ``index`` is the output (or block, or choice) index; ``id`` the output
    item's id where the wire names one; ``phase`` the message's phase
    (``"commentary"``, ``"final_answer"``) where the wire gives one.
    """

    kind: PartKind
    index: int | None = None
    id: str | None = None
    phase: str | None = None


class Text(msgspec.Struct, frozen=True, tag="text", tag_field="type"):
    """A piece of the assistant's answer."""

    chunk: str


class Refusal(msgspec.Struct, frozen=True, tag="refusal", tag_field="type"):
    """A piece of the model's refusal."""

    chunk: str


class Reasoning(msgspec.Struct, frozen=True, tag="reasoning", tag_field="type"):
    """A piece of reasoning text (a summary or the raw chain of thought)."""

    chunk: str


class EncryptedReasoning(msgspec.Struct, frozen=True, tag="encrypted_reasoning", tag_field="type"):
    """An opaque reasoning blob to send back on the next turn."""

    id: str
    content: str


class Citation(msgspec.Struct, frozen=True, tag="citation", tag_field="type"):
    """A source the text before it cites (``url``, ``file_id`` or ``quote`` is set).

    ``start``/``end`` are the server's character offsets into the current text part.
    """

    url: str | None = None
    title: str | None = None
    file_id: str | None = None
    filename: str | None = None
    container_id: str | None = None
    quote: str | None = None
    start: int | None = None
    end: int | None = None


class Compaction(msgspec.Struct, frozen=True, tag="compaction", tag_field="type"):
    """Opaque compacted context to send back on the next turn."""

    id: str
    content: str


class ToolRequestStart(msgspec.Struct, frozen=True, tag="tool_request_start", tag_field="type"):
    """A tool call began; ``provider_executed`` when the server runs it itself."""

    id: str
    name: str
    provider_executed: bool = False


class ToolRequestArg(msgspec.Struct, frozen=True, tag="tool_request_arg", tag_field="type"):
    """A piece of a tool call's input; the pieces of one call add up to its arguments."""

    id: str
    chunk: str


class ToolCall(msgspec.Struct, frozen=True):
    """A whole tool call.

    ``call_id`` is what a caller sends its result back with. ``kind`` is
    ``"builtin"`` for a tool the provider defines (web search, code
    interpreter, shell, …); ``provider_executed`` is true when the server runs
    the call itself (a ``tool_result`` may follow) and false when the caller
    must run it. ``namespace`` is the function's namespace or the MCP server's
    label; ``parent_id`` the program that issued the call.

    ``partial`` is true when the call was completed without its own completion
    event (the stream ended or failed first) or its input hit the size cap: its
    arguments may be cut short, so do not run it blindly.
    """

    id: str
    call_id: str | None
    name: str
    arguments: str
    kind: ToolKind
    partial: bool
    provider_executed: bool = False
    namespace: str | None = None
    parent_id: str | None = None


class ToolRequestComplete(
    msgspec.Struct, frozen=True, tag="tool_request_complete", tag_field="type"
):
    """A tool call is complete."""

    tool_call: ToolCall


class ToolResult(msgspec.Struct, frozen=True, tag="tool_result", tag_field="type"):
    """The result of a call the server ran; ``output`` is JSON text.

    ``preliminary`` results (image previews) may come before the call completes.
    """

    id: str
    name: str
    output: str
    is_error: bool = False
    preliminary: bool = False


class ApprovalRequest(msgspec.Struct, frozen=True, tag="approval_request", tag_field="type"):
    """The server waits for the caller to approve or deny the call ``tool_id``."""

    id: str
    tool_id: str


class TokenUsage(msgspec.Struct, frozen=True):
    """Token counts; the optional ones are ``None`` when absent or zero."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None


class Usage(msgspec.Struct, frozen=True, tag="usage", tag_field="type"):
    """Token usage of the response."""

    tokens: TokenUsage


class Error(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    """A failure, delivered as data; the stream goes on or ends with ``done``."""

    kind: ErrorKind
    code: str | None
    message: str
    status: int | None
    retryable: bool
    retry_after: float | None


class Done(msgspec.Struct, frozen=True, tag="done", tag_field="type"):
    """Last item of every stream.

    ``last_sequence_number`` is the largest Responses ``sequence_number`` read:
    with ``metadata.response_id`` it lets a caller resume a background response.
    """

    stop_reason: StopReason | None
    last_sequence_number: int | None = None


Item: TypeAlias = (
    Start
    | Metadata
    | PartStart
    | Text
    | Refusal
    | Reasoning
    | Citation
    | EncryptedReasoning
    | Compaction
    | ToolRequestStart
    | ToolRequestArg
    | ToolRequestComplete
    | ToolResult
    | ApprovalRequest
    | Usage
    | Error
    | Done
)

__all__ = [
    "ApprovalRequest",
    "Citation",
    "Compaction",
    "Done",
    "EncryptedReasoning",
    "Error",
    "ErrorKind",
    "Item",
    "Metadata",
    "PartKind",
    "PartStart",
    "Reasoning",
    "Refusal",
    "Start",
    "StopReason",
    "Text",
    "TokenUsage",
    "ToolCall",
    "ToolKind",
    "ToolRequestArg",
    "ToolRequestComplete",
    "ToolRequestStart",
    "ToolResult",
    "Usage",
]
