"""Built-in call items → their canonical name, arguments JSON and result JSON (SPEC §3.1).

The provider's own tools (web search, code interpreter, MCP, shell, …) come
as items of their own types. Their arguments and results are built as JSON
text around the item's own field texts, byte for byte, so nothing is decoded
or re-encoded but the few strings the model writes into them (code, a diff),
which are escaped as ``msgspec.json.encode`` writes a string.
"""

from collections.abc import Callable
from typing import TypeAlias

import msgspec

from ._events import (
    NO_TEXT,
    ApplyPatchCallItem,
    BuiltinItem,
    CodeInterpreterCallItem,
    ComputerCallItem,
    FileSearchCallItem,
    ImageGenerationCallItem,
    LocalShellCallItem,
    McpApprovalRequestItem,
    McpCallItem,
    McpListToolsItem,
    PartialImage,
    PatchOperation,
    ShellCallItem,
    WebSearchCallItem,
)

_NULL = b"null"
_OPTIONAL_TEXT = msgspec.json.Decoder(str | None)


class _Action(msgspec.Struct, gc=False):
    sources: msgspec.Raw = NO_TEXT


_ACTION = msgspec.json.Decoder(_Action | None)


def escaped(text: str) -> str:
    """``text`` as it is written inside a JSON string (without the quotes)."""
    return msgspec.json.encode(text)[1:-1].decode()


def _escaped(text: str | None) -> bytes:
    return msgspec.json.encode(text or "")[1:-1]


def _text(*pieces: bytes) -> str:
    """The built JSON text; invalid UTF-8 in a field's own text fails the event."""
    return b"".join(pieces).decode()


def _label(raw: msgspec.Raw) -> str | None:
    """The MCP server's label as text (a mistyped one fails the event)."""
    return _OPTIONAL_TEXT.decode(raw)


def _mcp_head(item: McpCallItem | McpApprovalRequestItem) -> bytes:
    return b'{"server":' + item.server_label + b',"tool":' + item.name + b',"arguments":'


def _mcp_arguments(item: McpCallItem | McpApprovalRequestItem) -> str:
    return _text(_mcp_head(item), (item.arguments or "{}").encode(), b"}")


def _code_head(item: CodeInterpreterCallItem) -> bytes:
    return b'{"container_id":' + item.container_id + b',"code":"'


def _patch_head(operation: PatchOperation) -> bytes:
    return b'{"operation":{"type":' + operation.type + b',"path":' + operation.path + b',"diff":"'


_NO_OPERATION = PatchOperation()


class Built(msgspec.Struct, gc=False):
    """What a built-in item gives: fixed at the call's start, and what only ``done`` gives."""

    name: str
    provider_executed: bool
    namespace: str | None = None
    #: Streamed rows: the arguments' text before the deltas; ``escape``: the
    #: deltas go inside a JSON string.
    prefix: str | None = None
    escape: bool = False
    #: At ``done`` only: the whole arguments, the result (server-run rows), an approval.
    arguments: str | None = None
    result: str | None = None
    is_error: bool = False
    approval: bool = False


_Build: TypeAlias = Callable[[BuiltinItem, bool], Built]


def _web_search(item: WebSearchCallItem, done: bool) -> Built:
    built = Built("web_search", True)
    if done:
        action = _ACTION.decode(item.action)
        sources = action.sources if action is not None else NO_TEXT
        built.arguments = _text(b'{"action":', item.action, b"}")
        built.result = _text(b'{"status":', item.status, b',"sources":', sources, b"}")
        built.is_error = _OPTIONAL_TEXT.decode(item.status) == "failed"
    return built


def _file_search(item: FileSearchCallItem, done: bool) -> Built:
    built = Built("file_search", True)
    if done:
        built.arguments = _text(b'{"queries":', item.queries, b"}")
        built.result = _text(b'{"status":', item.status, b',"results":', item.results, b"}")
    return built


def _code_interpreter(item: CodeInterpreterCallItem, done: bool) -> Built:
    built = Built("code_interpreter", True, prefix=_text(_code_head(item)), escape=True)
    if done:
        built.arguments = _text(_code_head(item), _escaped(item.code), b'"}')
        built.result = _text(b'{"status":', item.status, b',"outputs":', item.outputs, b"}")
    return built


def _image_generation(item: ImageGenerationCallItem, done: bool) -> Built:
    built = Built("image_generation", True)
    if done:
        built.arguments = "{}"
        built.result = _text(b'{"status":', item.status, b',"result":', item.result, b"}")
    return built


def _mcp_call(item: McpCallItem, done: bool) -> Built:
    built = Built("mcp", True, _label(item.server_label), prefix=_text(_mcp_head(item)))
    if done:
        built.arguments = _mcp_arguments(item)
        built.result = _text(b'{"output":', item.output, b',"error":', item.error, b"}")
        built.is_error = bytes(item.error) != _NULL
    return built


def _mcp_list_tools(item: McpListToolsItem, done: bool) -> Built:
    built = Built("mcp_list_tools", True, _label(item.server_label))
    if done:
        built.arguments = _text(b'{"server":', item.server_label, b"}")
        built.result = _text(b'{"tools":', item.tools, b',"error":', item.error, b"}")
        built.is_error = bytes(item.error) != _NULL
    return built


def _mcp_approval_request(item: McpApprovalRequestItem, done: bool) -> Built:
    built = Built("mcp", True, _label(item.server_label))
    if done:
        built.arguments = _mcp_arguments(item)
        built.approval = True
    return built


def _local_shell(item: LocalShellCallItem, done: bool) -> Built:
    built = Built("local_shell", False)
    if done:
        built.arguments = _text(b'{"action":', item.action, b"}")
    return built


def _shell(item: ShellCallItem, done: bool) -> Built:
    environment = item.environment
    hosted = environment is not None and environment.type == "container_reference"
    built = Built("shell", hosted)
    if done:
        built.arguments = _text(b'{"action":', item.action, b"}")
    return built


def _apply_patch(item: ApplyPatchCallItem, done: bool) -> Built:
    operation = item.operation or _NO_OPERATION
    built = Built("apply_patch", False, prefix=_text(_patch_head(operation)), escape=True)
    if done:
        built.arguments = _text(_patch_head(operation), _escaped(operation.diff), b'"}}')
    return built


def _computer(item: ComputerCallItem, done: bool) -> Built:
    built = Built("computer", False)
    if done:
        built.arguments = _text(
            b'{"action":',
            item.action,
            b',"actions":',
            item.actions,
            b',"pending_safety_checks":',
            item.pending_safety_checks,
            b"}",
        )
    return built


_BUILD: dict[type[BuiltinItem], _Build] = {
    WebSearchCallItem: _web_search,  # type: ignore[dict-item]
    FileSearchCallItem: _file_search,  # type: ignore[dict-item]
    CodeInterpreterCallItem: _code_interpreter,  # type: ignore[dict-item]
    ImageGenerationCallItem: _image_generation,  # type: ignore[dict-item]
    McpCallItem: _mcp_call,  # type: ignore[dict-item]
    McpListToolsItem: _mcp_list_tools,  # type: ignore[dict-item]
    McpApprovalRequestItem: _mcp_approval_request,  # type: ignore[dict-item]
    LocalShellCallItem: _local_shell,  # type: ignore[dict-item]
    ShellCallItem: _shell,  # type: ignore[dict-item]
    ApplyPatchCallItem: _apply_patch,  # type: ignore[dict-item]
    ComputerCallItem: _computer,  # type: ignore[dict-item]
}


def build(item: BuiltinItem, done: bool) -> Built:
    """What a built-in item gives at its start (``done=False``) or at its ``output_item.done``.

    Raises ``msgspec.ValidationError`` or ``UnicodeDecodeError`` for a field
    the row reads that is mistyped or not valid UTF-8.
    """
    return _BUILD[type(item)](item, done)


def partial_image_output(event: PartialImage) -> str:
    """A preview's preliminary result: its two fields' own JSON texts."""
    return _text(
        b'{"partial_image_b64":',
        event.partial_image_b64,
        b',"partial_image_index":',
        event.partial_image_index,
        b"}",
    )


__all__ = ["Built", "build", "escaped", "partial_image_output"]
