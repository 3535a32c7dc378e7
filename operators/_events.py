"""The wire events we read, as msgspec Structs: only the fields the mapping uses.

Each event is tagged by its JSON ``type``; one ``Decoder`` per union is built
at import and shared (decoders are immutable). ``item`` of the output-item
events stays raw until ``decode`` knows its type, so unknown item types cost
nothing and a bad field in them is nobody's business; ``KnownItemAdded`` and
``KnownItemDone`` read an item of a type we read in the same pass, and
``decode`` tries them first on the usual, named events.

After ``decode``, output-item events are replaced by the normalized
``ToolItem``, ``MessageDone`` and ``ReasoningDone`` below.
"""

from typing import Any, Literal, TypeAlias

import msgspec

from ._items import Citation, PartKind

# ---- nested objects -------------------------------------------------------


class InputTokensDetails(msgspec.Struct, gc=False):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputTokensDetails(msgspec.Struct, gc=False):
    reasoning_tokens: int | None = None


class WireUsage(msgspec.Struct, gc=False):
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens_details: OutputTokensDetails | None = None


class IncompleteDetails(msgspec.Struct, gc=False):
    reason: str | None = None


class ErrorBody(msgspec.Struct, gc=False):
    message: str | None = None
    #: A string, or an integer some servers send (``400``); any other type counts
    #: as absent (``code_text``) and never fails the event.
    code: Any = None
    type: str | None = None


class LifecycleResponse(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None


class FinalResponse(LifecycleResponse, gc=False):
    status: str | None = None
    usage: WireUsage | None = None
    incomplete_details: IncompleteDetails | None = None


class FailedResponse(LifecycleResponse, gc=False):
    error: ErrorBody | None = None


# ---- events ---------------------------------------------------------------


class Event(msgspec.Struct, tag_field="type", kw_only=True, gc=False):
    """Base of the wire events.

    ``sequence_number`` is read as any JSON value: only an integer counts for
    ``done.last_sequence_number``, and another type is no error.
    """

    sequence_number: object = None


# A text delta's part is its (output_index, content_index), or
# (output_index, summary_index) for a reasoning summary; ``item_id`` names the
# part when no output_item.added did.


class TextDelta(Event, tag="response.output_text.delta"):
    delta: str
    output_index: int | None = None
    content_index: int | None = None
    item_id: str | None = None


class RefusalDelta(Event, tag="response.refusal.delta"):
    delta: str
    output_index: int | None = None
    content_index: int | None = None
    item_id: str | None = None


class ReasoningSummaryDelta(Event, tag="response.reasoning_summary_text.delta"):
    delta: str
    output_index: int | None = None
    summary_index: int | None = None
    item_id: str | None = None


class ReasoningTextDelta(Event, tag="response.reasoning_text.delta"):
    delta: str
    output_index: int | None = None
    content_index: int | None = None
    item_id: str | None = None


#: A JSON value that is absent or ``null``.
NO_TEXT = msgspec.Raw(b"null")


class AnnotationAdded(Event, tag="response.output_text.annotation.added"):
    #: Still JSON: an annotation of a type we do not read is nobody's business.
    annotation: msgspec.Raw
    output_index: int | None = None


class FunctionArgsDelta(Event, tag="response.function_call_arguments.delta"):
    output_index: int
    delta: str


class CustomInputDelta(Event, tag="response.custom_tool_call_input.delta"):
    output_index: int
    delta: str


class FunctionArgsDone(Event, tag="response.function_call_arguments.done"):
    output_index: int
    arguments: str


class CustomInputDone(Event, tag="response.custom_tool_call_input.done"):
    output_index: int
    input: str


# Built-in tool events (SPEC §3.1, "Built-in calls"): their deltas stream the
# one string or value of the call's arguments that the model writes.


class CodeInterpreterCodeDelta(Event, tag="response.code_interpreter_call_code.delta"):
    output_index: int
    delta: str


class McpArgsDelta(Event, tag="response.mcp_call_arguments.delta"):
    output_index: int
    delta: str


class ApplyPatchDiffDelta(Event, tag="response.apply_patch_call_operation_diff.delta"):
    output_index: int
    delta: str


class PartialImage(Event, tag="response.image_generation_call.partial_image"):
    """An image preview; both fields go into the preliminary result as their JSON text."""

    output_index: int
    partial_image_b64: msgspec.Raw = msgspec.Raw(b"null")
    partial_image_index: msgspec.Raw = msgspec.Raw(b"null")


class OutputItemAdded(Event, tag="response.output_item.added"):
    item: msgspec.Raw
    output_index: int | None = None


class OutputItemDone(Event, tag="response.output_item.done"):
    item: msgspec.Raw
    output_index: int | None = None


class Created(Event, tag="response.created"):
    response: LifecycleResponse


class Queued(Event, tag="response.queued"):
    response: LifecycleResponse


class InProgress(Event, tag="response.in_progress"):
    response: LifecycleResponse


class Completed(Event, tag="response.completed"):
    response: FinalResponse


class Incomplete(Event, tag="response.incomplete"):
    response: FinalResponse


class Failed(Event, tag="response.failed"):
    response: FailedResponse


class ErrorEvent(Event, tag="error"):
    message: str | None = None
    code: Any = None  # as ``ErrorBody.code``
    error: ErrorBody | None = None


WireEvent: TypeAlias = (
    TextDelta
    | RefusalDelta
    | ReasoningSummaryDelta
    | ReasoningTextDelta
    | FunctionArgsDelta
    | CustomInputDelta
    | FunctionArgsDone
    | CustomInputDone
    | OutputItemAdded
    | OutputItemDone
    | Created
    | Queued
    | InProgress
    | Completed
    | Incomplete
    | Failed
    | ErrorEvent
    | CodeInterpreterCodeDelta
    | McpArgsDelta
    | ApplyPatchDiffDelta
    | PartialImage
    | AnnotationAdded
)

_WIRE_TYPES: tuple[type[Event], ...] = WireEvent.__args__

#: The JSON ``type`` of every event we read, as bytes, to its decoder.
DECODER_BY_TYPE: dict[bytes, msgspec.json.Decoder[WireEvent]] = {
    cls.__struct_config__.tag.encode(): msgspec.json.Decoder(cls)  # type: ignore[union-attr]
    for cls in _WIRE_TYPES
}
KNOWN_TYPES = frozenset(t.decode() for t in DECODER_BY_TYPE)
EVENT_DECODER: msgspec.json.Decoder[WireEvent] = msgspec.json.Decoder(WireEvent)


class Typed(msgspec.Struct, gc=False):
    """Just the ``type`` of an object, to tell an unknown type from a broken known one."""

    type: str


TYPED_DECODER = msgspec.json.Decoder(Typed)

# ---- output items ---------------------------------------------------------


class ContentPart(msgspec.Struct, gc=False):
    type: str | None = None
    #: Still JSON: a whole item's text is decoded only if no deltas gave it.
    text: msgspec.Raw = NO_TEXT
    refusal: msgspec.Raw = NO_TEXT
    annotations: msgspec.Raw = NO_TEXT


class SummaryPart(msgspec.Struct, gc=False):
    text: msgspec.Raw = NO_TEXT


class WireAnnotation(msgspec.Struct, gc=False):
    """An annotation of a message's text: the fields of the four citation types."""

    type: str
    url: str | None = None
    title: str | None = None
    file_id: str | None = None
    filename: str | None = None
    container_id: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    index: int | None = None


ANNOTATION_DECODER = msgspec.json.Decoder(WireAnnotation | None)
ANNOTATIONS_DECODER = msgspec.json.Decoder(list[msgspec.Raw] | None)


class ItemHead(msgspec.Struct, gc=False):
    """The ``id`` of an output item of a type we do not read (any JSON value)."""

    type: str
    id: object = None


class WireItem(msgspec.Struct, tag_field="type", gc=False):
    """Base of the output items we read."""


class Caller(msgspec.Struct, gc=False):
    """Who issued a call: a program's id when a program did."""

    caller_id: str | None = None


class CallItem(WireItem):
    """What every tool call item has: its ids and its caller."""

    id: str | None = None
    call_id: str | None = None
    caller: Caller | None = None


class FunctionCallItem(CallItem, tag="function_call"):
    name: str | None = None
    arguments: str | None = None
    namespace: str | None = None


class CustomToolCallItem(CallItem, tag="custom_tool_call"):
    name: str | None = None
    input: str | None = None
    namespace: str | None = None


class MessageItem(WireItem, tag="message"):
    id: str | None = None
    phase: str | None = None
    content: list[ContentPart] | None = None


class ReasoningItem(WireItem, tag="reasoning"):
    id: str | None = None
    summary: list[SummaryPart] | None = None
    content: list[SummaryPart] | None = None
    encrypted_content: str | None = None


# ---- built-in call items (SPEC §3.1, "Built-in calls") ----------------------
# Fields that go into a call's arguments or result byte for byte stay raw JSON;
# only the strings that are escaped into them, and what decides something, are
# decoded.


class WebSearchCallItem(CallItem, tag="web_search_call"):
    status: msgspec.Raw = NO_TEXT
    action: msgspec.Raw = NO_TEXT


class FileSearchCallItem(CallItem, tag="file_search_call"):
    status: msgspec.Raw = NO_TEXT
    queries: msgspec.Raw = NO_TEXT
    results: msgspec.Raw = NO_TEXT


class CodeInterpreterCallItem(CallItem, tag="code_interpreter_call"):
    status: msgspec.Raw = NO_TEXT
    container_id: msgspec.Raw = NO_TEXT
    code: str | None = None
    outputs: msgspec.Raw = NO_TEXT


class ImageGenerationCallItem(CallItem, tag="image_generation_call"):
    status: msgspec.Raw = NO_TEXT
    result: msgspec.Raw = NO_TEXT


class McpCallItem(CallItem, tag="mcp_call"):
    server_label: msgspec.Raw = NO_TEXT
    name: msgspec.Raw = NO_TEXT
    arguments: str | None = None
    output: msgspec.Raw = NO_TEXT
    error: msgspec.Raw = NO_TEXT


class McpListToolsItem(CallItem, tag="mcp_list_tools"):
    server_label: msgspec.Raw = NO_TEXT
    tools: msgspec.Raw = NO_TEXT
    error: msgspec.Raw = NO_TEXT


class McpApprovalRequestItem(CallItem, tag="mcp_approval_request"):
    server_label: msgspec.Raw = NO_TEXT
    name: msgspec.Raw = NO_TEXT
    arguments: str | None = None


class LocalShellCallItem(CallItem, tag="local_shell_call"):
    action: msgspec.Raw = NO_TEXT


class ShellEnvironment(msgspec.Struct, gc=False):
    type: str | None = None


class ShellCallItem(CallItem, tag="shell_call"):
    action: msgspec.Raw = NO_TEXT
    environment: ShellEnvironment | None = None


class PatchOperation(msgspec.Struct, gc=False):
    type: msgspec.Raw = NO_TEXT
    path: msgspec.Raw = NO_TEXT
    diff: str | None = None


class ApplyPatchCallItem(CallItem, tag="apply_patch_call"):
    operation: PatchOperation | None = None


class ComputerCallItem(CallItem, tag="computer_call"):
    action: msgspec.Raw = NO_TEXT
    actions: msgspec.Raw = NO_TEXT
    pending_safety_checks: msgspec.Raw = NO_TEXT


BuiltinItem: TypeAlias = (
    WebSearchCallItem
    | FileSearchCallItem
    | CodeInterpreterCallItem
    | ImageGenerationCallItem
    | McpCallItem
    | McpListToolsItem
    | McpApprovalRequestItem
    | LocalShellCallItem
    | ShellCallItem
    | ApplyPatchCallItem
    | ComputerCallItem
)


class CompactionItem(WireItem, tag="compaction"):
    id: str | None = None
    encrypted_content: str | None = None


AnyItem: TypeAlias = (
    FunctionCallItem
    | CustomToolCallItem
    | MessageItem
    | ReasoningItem
    | BuiltinItem
    | CompactionItem
)


class KnownItemAdded(Event, tag="response.output_item.added"):
    """``output_item.added`` with an item of a type we read, decoded in one pass."""

    item: AnyItem
    output_index: int | None = None


class KnownItemDone(Event, tag="response.output_item.done"):
    """``output_item.done`` with an item of a type we read, decoded in one pass."""

    item: AnyItem
    output_index: int | None = None


ITEM_DECODER: msgspec.json.Decoder[AnyItem] = msgspec.json.Decoder(AnyItem)
KNOWN_ITEM_TYPES = frozenset({"function_call", "custom_tool_call", "message", "reasoning"}) | {
    cls.__struct_config__.tag for cls in (*BuiltinItem.__args__, CompactionItem)
}

# ---- normalized events (what decode emits for output items) ---------------


class ToolItem(msgspec.Struct, gc=False):
    """A tool call item seen in ``output_item.added`` (``done=False``) or ``.done``.

    ``item_type`` is the wire item's type: a delta or a done item of another
    type than the call's gives no built-in arguments, result or approval.
    ``input`` is the whole input text (built-in calls: the arguments JSON,
    built at ``done`` only); ``prefix`` is, for a built-in call whose
    arguments are streamed, the text that comes before the deltas (which are
    escaped into a JSON string when ``escape``). ``result`` and ``is_error``
    are a server-run call's result at ``done``; ``approval`` says the item
    asks for one.
    """

    done: bool
    output_index: int
    id: str
    call_id: str | None
    name: str
    kind: Literal["function", "custom", "builtin"]
    input: str | None
    item_type: str = ""
    provider_executed: bool = False
    namespace: str | None = None
    parent_id: str | None = None
    prefix: str | None = None
    escape: bool = False
    result: str | None = None
    is_error: bool = False
    approval: bool = False
    fallback: str | None = None


class HeldTexts(msgspec.Struct, gc=False):
    """A whole item's texts as JSON strings, decoded only if no deltas gave them.

    Deltas usually did, and then the repeated text (often the longest part of
    the stream) is never decoded. Its JSON has parsed and each text is a
    string; what may still fail is UTF-8 (or, for a message, its
    annotations), reported then as the event's ``decode_error``, hence its
    SSE ``name`` and ``data``. ``kinds`` gives each text's part kind.
    """

    texts: list[msgspec.Raw]
    kinds: list[PartKind]
    name: bytes | None
    data: bytes


class ItemAdded(msgspec.Struct, gc=False):
    """``output_item.added`` of an item that is not a tool call: what names its parts."""

    output_index: int
    id: str | None
    phase: str | None


class MessageDone(msgspec.Struct, gc=False):
    """A message item's ``output_item.done``: its ``output_text`` and ``refusal`` parts.

    ``annotations`` holds each part's annotations, still JSON.
    """

    output_index: int | None
    id: str | None
    phase: str | None
    parts: HeldTexts
    annotations: list[msgspec.Raw]


class ReasoningDone(msgspec.Struct, gc=False):
    """A reasoning item's ``output_item.done``: its summary and raw texts, encrypted content."""

    output_index: int | None
    id: str | None
    parts: HeldTexts
    encrypted_content: str | None


class CitationAdded(msgspec.Struct, gc=False):
    """``output_text.annotation.added``: its citation, ``None`` for an annotation we do not read."""

    output_index: int | None
    citation: Citation | None


__all__ = [
    "ANNOTATIONS_DECODER",
    "ANNOTATION_DECODER",
    "DECODER_BY_TYPE",
    "EVENT_DECODER",
    "ITEM_DECODER",
    "KNOWN_ITEM_TYPES",
    "KNOWN_TYPES",
    "NO_TEXT",
    "TYPED_DECODER",
    "AnnotationAdded",
    "AnyItem",
    "ApplyPatchCallItem",
    "ApplyPatchDiffDelta",
    "BuiltinItem",
    "CallItem",
    "Caller",
    "CitationAdded",
    "CodeInterpreterCallItem",
    "CodeInterpreterCodeDelta",
    "CompactionItem",
    "Completed",
    "ComputerCallItem",
    "Created",
    "CustomInputDelta",
    "CustomInputDone",
    "CustomToolCallItem",
    "ErrorEvent",
    "Event",
    "Failed",
    "FileSearchCallItem",
    "FunctionArgsDelta",
    "FunctionArgsDone",
    "FunctionCallItem",
    "HeldTexts",
    "ImageGenerationCallItem",
    "InProgress",
    "Incomplete",
    "ItemAdded",
    "ItemHead",
    "KnownItemAdded",
    "KnownItemDone",
    "LocalShellCallItem",
    "McpApprovalRequestItem",
    "McpArgsDelta",
    "McpCallItem",
    "McpListToolsItem",
    "MessageDone",
    "MessageItem",
    "OutputItemAdded",
    "OutputItemDone",
    "PartialImage",
    "PatchOperation",
    "Queued",
    "ReasoningDone",
    "ReasoningItem",
    "ReasoningSummaryDelta",
    "ReasoningTextDelta",
    "RefusalDelta",
    "ShellCallItem",
    "ShellEnvironment",
    "TextDelta",
    "ToolItem",
    "WebSearchCallItem",
    "WireAnnotation",
    "WireEvent",
]
