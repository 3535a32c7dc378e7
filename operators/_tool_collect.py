"""Tool-call events → ``tool_request_start`` / ``_arg`` / ``_complete`` items.

A call is keyed by its ``output_index`` from start to completion: some proxies
give every event of one item a new item id, the index never changes. Every
field of the call but its arguments is fixed when the call starts. Built-in
calls (web search, code interpreter, MCP, shell, …) are calls like the others;
a server-run one's result, or an approval request, follows its completion at
its ``output_item.done`` (SPEC §3.1).
"""

from collections.abc import Callable
from typing import TypeAlias

from reactivex import Observable

from ._builtin import escaped, partial_image_output
from ._dispatch import Dispatched
from ._errors import decode_error
from ._events import (
    ApplyPatchDiffDelta,
    CodeInterpreterCodeDelta,
    CustomInputDelta,
    CustomInputDone,
    FunctionArgsDelta,
    FunctionArgsDone,
    McpArgsDelta,
    PartialImage,
    ToolItem,
)
from ._items import (
    ApprovalRequest,
    Item,
    ToolRequestArg,
    ToolRequestComplete,
    ToolRequestStart,
    ToolResult,
)
from ._signals import CloseCall, EventsRead, OpenCall, SequenceNumber, Terminal
from ._stage import GROUP, batch_stage, join_short_tail

#: Default cap on one tool call's input (SPEC §5).
DEFAULT_MAX_TOOL_INPUT_BYTES = 16 * 1024 * 1024

Collected: TypeAlias = Item | OpenCall | Terminal | EventsRead | SequenceNumber
"""What ``collect_tools`` emits: items, ``OpenCall`` when a call opens, and the signals
``Terminal``, ``EventsRead`` and ``SequenceNumber``."""


_TOOL_EVENTS = frozenset(
    {
        FunctionArgsDelta,
        CustomInputDelta,
        FunctionArgsDone,
        CustomInputDone,
        ToolItem,
        CodeInterpreterCodeDelta,
        McpArgsDelta,
        ApplyPatchDiffDelta,
        PartialImage,
        CloseCall,
    }
)
#: The built-in item type whose arguments each delta event streams.
_STREAMS = {
    CodeInterpreterCodeDelta: "code_interpreter_call",
    McpArgsDelta: "mcp_call",
    ApplyPatchDiffDelta: "apply_patch_call",
}
_TRUNCATED = '{"truncated":true}'


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class ToolCollector:
    """Tracks the calls in progress by ``output_index``; one per subscription."""

    __slots__ = ("_by_id", "_cap", "_finished", "_pending")

    def __init__(self, max_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES) -> None:
        if max_input_bytes < 0:
            raise ValueError("max_input_bytes must not be negative")
        self._cap = max_input_bytes
        self._pending: dict[int, OpenCall] = {}
        self._finished: set[int] = set()  # indexes whose call completed: later events add nothing
        self._by_id: dict[str, list[OpenCall]] = {}  # calls not yet told complete, by id

    def collect(self, batch: list[Dispatched]) -> list[Collected]:
        tool_events = _TOOL_EVENTS
        for event in batch:
            if type(event) in tool_events:
                break
        else:  # no tool events: the batch passes as it is
            return batch  # type: ignore[return-value]
        out: list[Collected] = []
        append = out.append
        pending = self._pending
        for event in batch:
            if type(event) not in tool_events:
                append(event)  # type: ignore[arg-type]
            elif type(event) is FunctionArgsDelta or type(event) is CustomInputDelta:
                call = pending.get(event.output_index)
                if call is not None and event.delta and call.kind != "builtin":
                    self._append(call, event.delta, out)
            elif type(event) is FunctionArgsDone:
                self._complete(event.output_index, event.arguments, out)
            elif type(event) is CustomInputDone:
                self._complete(event.output_index, event.input, out)
            elif type(event) is CloseCall:
                self._complete(event.output_index, event.final, out, partial=event.partial)
            elif type(event) is ToolItem:
                self._item(event, out)
            elif type(event) is PartialImage:
                self._preview(event, out)
            else:
                self._builtin_delta(event, out)  # type: ignore[arg-type]
        return out

    def _builtin_delta(
        self,
        event: CodeInterpreterCodeDelta | McpArgsDelta | ApplyPatchDiffDelta,
        out: list[Collected],
    ) -> None:
        """A piece of a built-in call's streamed arguments, after the text that comes before it."""
        call = self._pending.get(event.output_index)
        if call is None or not event.delta or call.item_type != _STREAMS[type(event)]:
            return
        if call.prefix is not None:
            prefix, call.prefix = call.prefix, None
            self._append(call, prefix, out)
        self._append(call, escaped(event.delta) if call.escape else event.delta, out)

    def _preview(self, event: PartialImage, out: list[Collected]) -> None:
        """An image preview of a pending image call: a preliminary result."""
        call = self._pending.get(event.output_index)
        if call is None or call.item_type != "image_generation_call":
            return
        try:
            output = partial_image_output(event)
        except UnicodeDecodeError:
            out.append(decode_error("an image preview holds invalid UTF-8; skipped"))
            return
        out.extend(self._result(call, output, is_error=False, preliminary=True))

    def _result(
        self, call: OpenCall, output: str, *, is_error: bool, preliminary: bool
    ) -> list[Item]:
        """A ``tool_result`` of ``call``; past the cap its output is cut, with an error."""
        if _utf8_len(output) <= self._cap:
            return [ToolResult(call.id, call.name, output, is_error, preliminary)]
        return [
            decode_error(
                f"the result of tool call {call.id!r} ({call.name}) is larger than the "
                f"{self._cap} byte cap; it is cut"
            ),
            ToolResult(call.id, call.name, _TRUNCATED, is_error, preliminary),
        ]

    def _after(self, call: OpenCall, item: ToolItem) -> list[Item]:
        """What a done item gives after its call's completion: a result or an approval request."""
        if item.item_type != call.item_type or not call.provider_executed:
            return []  # a done item of another type completes the call and gives nothing more
        if item.approval:
            return [ApprovalRequest(id=call.id, tool_id=call.id)]
        if item.result is not None:
            return self._result(call, item.result, is_error=item.is_error, preliminary=False)
        return []

    def _item(self, item: ToolItem, out: list[Collected]) -> None:
        index = item.output_index
        if not item.done:
            if index in self._pending:
                return  # a second start for a call in progress
            self._finished.discard(index)
            self._open(item, out)
            return
        call = self._pending.get(index)
        if call is None:
            if index in self._finished:
                return
            # A whole call seen only in output_item.done (servers that send no deltas).
            call = self._open(item, out)
        self._complete(index, item.input, out, lambda: self._after(call, item))

    def _open(self, item: ToolItem, out: list[Collected]) -> OpenCall:
        call = OpenCall(
            item.id,
            item.call_id,
            item.name,
            item.kind,
            item_type=item.item_type,
            provider_executed=item.provider_executed,
            namespace=item.namespace,
            parent_id=item.parent_id,
            prefix=item.prefix,
            escape=item.escape,
            fallback=item.fallback,
        )
        self._pending[item.output_index] = call
        self._by_id.setdefault(call.id, []).append(call)
        out.append(call)
        out.append(
            ToolRequestStart(id=call.id, name=call.name, provider_executed=call.provider_executed)
        )
        return call

    def _append(self, call: OpenCall, piece: str, out: list[Collected]) -> None:
        if call.capped:
            return
        size = call.size + _utf8_len(piece)
        if size > self._cap:
            call.capped = True
            out.append(
                decode_error(
                    f"the input of tool call {call.id!r} ({call.name}) is larger than the "
                    f"{self._cap} byte cap; the rest of it is dropped"
                )
            )
            return
        call.size = size
        call.parts.append(piece)
        call.loose += 1
        if call.loose == GROUP:
            join_short_tail(call.parts, "")
            call.loose = 0
        out.append(ToolRequestArg(id=call.id, chunk=piece))

    def _complete(
        self,
        index: int,
        final: str | None,
        out: list[Collected],
        after: Callable[[], list[Item]] | None = None,
        partial: bool = False,
    ) -> None:
        call = self._pending.pop(index, None)
        if call is None:
            return
        self._finished.add(index)
        astray = False  # the final text does not extend what was streamed
        if final and not call.capped:
            streamed = "".join(call.parts)
            call.parts = [streamed]
            call.loose = 0
            # The final text may hold what was never streamed (local servers
            # send arguments only in .done): the missing rest is one more piece.
            if len(final) > len(streamed) and final.startswith(streamed):
                self._append(call, final[len(streamed) :], out)
            elif final != streamed:
                astray = True
        if call.size == 0 and call.fallback and not call.capped:
            self._append(call, call.fallback, out)  # nothing streamed: the wire's default input
        whole = call.complete(partial=partial or astray)
        following = after() if after is not None else []
        same_id = self._by_id[call.id]
        if same_id[0] is not call:
            # An earlier call with this id is still open: calls sharing an id
            # complete in the order they started, so this one waits its turn,
            # and what follows its completion waits with it.
            call.held = whole
            call.held_after = following
            return
        out.append(ToolRequestComplete(tool_call=whole))
        out.extend(following)
        del same_id[0]
        while same_id and same_id[0].held is not None:
            waiting = same_id.pop(0)
            out.append(ToolRequestComplete(tool_call=waiting.held))  # type: ignore[arg-type]
            out.extend(waiting.held_after)
            waiting.held = None
            waiting.held_after = []
        if not same_id:
            del self._by_id[call.id]


def collect_tools_(
    max_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
) -> Callable[[Observable[list[Dispatched]]], Observable[list[Collected]]]:
    if max_input_bytes < 0:
        raise ValueError("max_input_bytes must not be negative")
    return batch_stage(lambda: ToolCollector(max_input_bytes).collect)


__all__ = ["DEFAULT_MAX_TOOL_INPUT_BYTES", "Collected", "ToolCollector", "collect_tools_"]
