"""rxresponses: a streamed OpenAI Responses API answer as a ReactiveX stream of items.

``responses(source)`` composes the chain (frame → decode → dispatch →
collect_tools → finalize) over a byte source; every subscription starts with
``start`` and ends with exactly one ``done``, with failures as ``error`` items.
``final_response(items)`` (or ``to_response()``, ``response_of(items)``)
folds a stream into one ``Response``; ``next_input(response, outputs)``
builds the next turn's input items. The HTTP source lives in
``rxresponses.http`` (it imports aiohttp).
"""

from ._compose import REDACTED, redact, responses
from ._raise import raise_errors
from .aio import iterate
from .conversation import ToolOutput, call_key, next_input
from .flow import FlowControl
from .items import (
    ApprovalRequest,
    Citation,
    Compaction,
    Done,
    EncryptedReasoning,
    Error,
    ErrorKind,
    Item,
    Metadata,
    PartKind,
    PartStart,
    Reasoning,
    Refusal,
    Start,
    StopReason,
    Text,
    TokenUsage,
    ToolCall,
    ToolKind,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
    Usage,
)
from .operators import (
    ConnectError,
    DecodeError,
    HTTPStatusError,
    PipelineError,
    RateLimited,
    ServerError,
    StreamInterrupted,
    StreamTimeout,
    UsageError,
)
from .response import (
    Message,
    OutputEntry,
    ReasoningPart,
    Response,
    ResponseBuilder,
    final_response,
    response_of,
    to_response,
)
from .retry import retry_responses
from .sinks import JsonLinesSink, MetricsSink, TerminalView, describe_result, encode_line
from .sources import from_async_iterable, from_bytes, from_chunks, from_file

__all__ = [
    "REDACTED",
    "ApprovalRequest",
    "Citation",
    "Compaction",
    "ConnectError",
    "DecodeError",
    "Done",
    "EncryptedReasoning",
    "Error",
    "ErrorKind",
    "FlowControl",
    "HTTPStatusError",
    "Item",
    "JsonLinesSink",
    "Message",
    "Metadata",
    "MetricsSink",
    "OutputEntry",
    "PartKind",
    "PartStart",
    "PipelineError",
    "RateLimited",
    "Reasoning",
    "ReasoningPart",
    "Refusal",
    "Response",
    "ResponseBuilder",
    "ServerError",
    "Start",
    "StopReason",
    "StreamInterrupted",
    "StreamTimeout",
    "TerminalView",
    "Text",
    "TokenUsage",
    "ToolCall",
    "ToolKind",
    "ToolOutput",
    "ToolRequestArg",
    "ToolRequestComplete",
    "ToolRequestStart",
    "ToolResult",
    "Usage",
    "UsageError",
    "call_key",
    "describe_result",
    "encode_line",
    "final_response",
    "from_async_iterable",
    "from_bytes",
    "from_chunks",
    "from_file",
    "iterate",
    "next_input",
    "raise_errors",
    "redact",
    "response_of",
    "responses",
    "retry_responses",
    "to_response",
]
