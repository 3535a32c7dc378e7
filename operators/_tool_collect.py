"""Tool-call events → ``tool_request_start`` / ``_arg`` / ``_complete`` items.

A call is keyed by its ``output_index`` from start to completion: some proxies
give every event of one item a new item id, the index never changes. ``id``,
``call_id`` and ``name`` are fixed when the call starts.
"""

from collections.abc import Callable
from typing import TypeAlias

from reactivex import Observable

from ._dispatch import Dispatched
from ._errors import decode_error
from ._events import (
    CustomInputDelta,
    CustomInputDone,
    FunctionArgsDelta,
    FunctionArgsDone,
    ToolItem,
)
from ._items import Item, ToolRequestArg, ToolRequestComplete, ToolRequestStart
from ._signals import OpenCall, SequenceNumber, Terminal
from ._stage import GROUP, batch_stage, join_short_tail

#: Default cap on one tool call's input (SPEC §5).
DEFAULT_MAX_TOOL_INPUT_BYTES = 16 * 1024 * 1024

Collected: TypeAlias = Item | OpenCall | Terminal | SequenceNumber
"""What ``collect_tools`` emits: items, ``OpenCall`` when a call opens, and signals."""


_TOOL_EVENTS = frozenset(
    {FunctionArgsDelta, CustomInputDelta, FunctionArgsDone, CustomInputDone, ToolItem}
)


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
                if call is not None and event.delta:
                    self._append(call, event.delta, out)
            elif type(event) is FunctionArgsDone:
                self._complete(event.output_index, event.arguments, out)
            elif type(event) is CustomInputDone:
                self._complete(event.output_index, event.input, out)
            else:
                assert type(event) is ToolItem
                self._item(event, out)
        return out

    def _item(self, item: ToolItem, out: list[Collected]) -> None:
        index = item.output_index
        if not item.done:
            if index in self._pending:
                return  # a second start for a call in progress
            self._finished.discard(index)
            self._open(item, out)
        elif index in self._pending:
            self._complete(index, item.input, out)
        elif index not in self._finished:
            # A whole call seen only in output_item.done (servers that send no deltas).
            self._open(item, out)
            self._complete(index, item.input, out)

    def _open(self, item: ToolItem, out: list[Collected]) -> None:
        call = OpenCall(item.id, item.call_id, item.name, item.kind)
        self._pending[item.output_index] = call
        self._by_id.setdefault(call.id, []).append(call)
        out.append(call)
        out.append(ToolRequestStart(id=call.id, name=call.name))

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

    def _complete(self, index: int, final: str | None, out: list[Collected]) -> None:
        call = self._pending.pop(index, None)
        if call is None:
            return
        self._finished.add(index)
        if final and not call.capped:
            streamed = "".join(call.parts)
            call.parts = [streamed]
            call.loose = 0
            # The final text may hold what was never streamed (local servers
            # send arguments only in .done): the missing rest is one more piece.
            if len(final) > len(streamed) and final.startswith(streamed):
                self._append(call, final[len(streamed) :], out)
        whole = call.complete()
        same_id = self._by_id[call.id]
        if same_id[0] is not call:
            # An earlier call with this id is still open: calls sharing an id
            # complete in the order they started, so this one waits its turn.
            call.held = whole
            return
        out.append(ToolRequestComplete(tool_call=whole))
        del same_id[0]
        while same_id and same_id[0].held is not None:
            waiting = same_id.pop(0)
            out.append(ToolRequestComplete(tool_call=waiting.held))  # type: ignore[arg-type]
            waiting.held = None
        if not same_id:
            del self._by_id[call.id]


def collect_tools_(
    max_input_bytes: int = DEFAULT_MAX_TOOL_INPUT_BYTES,
) -> Callable[[Observable[list[Dispatched]]], Observable[list[Collected]]]:
    if max_input_bytes < 0:
        raise ValueError("max_input_bytes must not be negative")
    return batch_stage(lambda: ToolCollector(max_input_bytes).collect)


__all__ = ["DEFAULT_MAX_TOOL_INPUT_BYTES", "Collected", "ToolCollector", "collect_tools_"]
