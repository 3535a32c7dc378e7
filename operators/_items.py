"""The items a stream produces: small, frozen, provider-neutral.

Every item is a ``msgspec.Struct`` tagged by ``type``; ``msgspec.json.encode(item)``
is its wire form (one JSON object, optional values as ``null``).
"""

from typing import Literal, TypeAlias

import msgspec

StopReason: TypeAlias = Literal["end_turn", "length", "content_filter"]
ToolKind: TypeAlias = Literal["function", "custom"]
ErrorKind: TypeAlias = Literal[
    "server_error",
    "rate_limited",
    "http_error",
    "connect_error",
    "stream_interrupted",
    "timeout",
    "decode_error",
]


class Start(msgspec.Struct, frozen=True, tag="start", tag_field="type"):
    """First item of every stream; ``message_id`` is fresh per subscription."""

    message_id: str


class Metadata(msgspec.Struct, frozen=True, tag="metadata", tag_field="type"):
    """The response's id and model, once, from the first lifecycle event that has them."""

    response_id: str
    model: str | None


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


class ToolRequestStart(msgspec.Struct, frozen=True, tag="tool_request_start", tag_field="type"):
    """A tool call began."""

    id: str
    name: str


class ToolRequestArg(msgspec.Struct, frozen=True, tag="tool_request_arg", tag_field="type"):
    """A piece of a tool call's input; the pieces of one call add up to its arguments."""

    id: str
    chunk: str


class ToolCall(msgspec.Struct, frozen=True):
    """A whole tool call.

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


class ToolRequestComplete(
    msgspec.Struct, frozen=True, tag="tool_request_complete", tag_field="type"
):
    """A tool call is complete."""

    tool_call: ToolCall


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
    """Last item of every stream."""

    stop_reason: StopReason | None


Item: TypeAlias = (
    Start
    | Metadata
    | Text
    | Refusal
    | Reasoning
    | EncryptedReasoning
    | ToolRequestStart
    | ToolRequestArg
    | ToolRequestComplete
    | Usage
    | Error
    | Done
)

__all__ = [
    "Done",
    "EncryptedReasoning",
    "Error",
    "ErrorKind",
    "Item",
    "Metadata",
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
    "Usage",
]
