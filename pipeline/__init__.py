"""rxresponses: a streamed OpenAI Responses API answer as a ReactiveX stream of items.

``responses(source)`` composes the chain (frame → decode → dispatch →
collect_tools → finalize) over a byte source; every subscription starts with
``start`` and ends with exactly one ``done``, with failures as ``error`` items.
The HTTP source lives in ``rxresponses.http`` (it imports aiohttp).
"""

from ._compose import REDACTED, redact, responses
from ._raise import raise_errors
from .aio import iterate
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
from .retry import retry_responses
from .sinks import JsonLinesSink, MetricsSink, TerminalView, encode_line
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
    "Metadata",
    "MetricsSink",
    "PartKind",
    "PartStart",
    "PipelineError",
    "RateLimited",
    "Reasoning",
    "Refusal",
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
    "ToolRequestArg",
    "ToolRequestComplete",
    "ToolRequestStart",
    "ToolResult",
    "Usage",
    "UsageError",
    "encode_line",
    "from_async_iterable",
    "from_bytes",
    "from_chunks",
    "from_file",
    "iterate",
    "raise_errors",
    "redact",
    "responses",
    "retry_responses",
]
