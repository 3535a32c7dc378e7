"""Signals the operators pass to each other between items (never seen by subscribers)."""

from typing import NamedTuple

from ._items import Error, Item, StopReason, ToolCall, ToolKind, ToolRequestArg, ToolRequestComplete


class Terminal(NamedTuple):
    """The response ended (``completed``, ``incomplete`` or ``failed``) with this stop reason."""

    stop_reason: StopReason | None


class EventsRead:
    """Sent once, before the first event ``decode`` read of its wire: ``finalize``
    then knows the end of input came after a real stream, not after bytes of
    another framing or wire (it says so in its ``stream_interrupted``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "EVENTS_READ"


#: The one ``EventsRead``.
EVENTS_READ = EventsRead()


class OpenCall:
    """A tool call in progress, shared by ``collect_tools`` (which grows and completes it)
    and ``finalize`` (which completes it as partial if the stream ends first)."""

    __slots__ = (
        "call_id",
        "capped",
        "done",
        "escape",
        "fallback",
        "held",
        "held_after",
        "id",
        "item_type",
        "kind",
        "loose",
        "name",
        "namespace",
        "parent_id",
        "parts",
        "prefix",
        "provider_executed",
        "size",
        "unnamed",
    )

    def __init__(
        self,
        id: str,
        call_id: str | None,
        name: str,
        kind: ToolKind,
        *,
        item_type: str = "",
        provider_executed: bool = False,
        namespace: str | None = None,
        parent_id: str | None = None,
        prefix: str | None = None,
        escape: bool = False,
        fallback: str | None = None,
    ) -> None:
        self.id = id
        self.call_id = call_id
        self.name = name
        self.kind: ToolKind = kind
        self.item_type = item_type  # the wire item's type, to match deltas and done items
        self.provider_executed = provider_executed
        self.namespace = namespace
        self.parent_id = parent_id
        # Built-in calls whose arguments are streamed: the text before the first
        # delta (sent with it, then ``None``), and whether deltas are escaped.
        self.prefix = prefix
        self.escape = escape
        # The input a call gets when none streamed (Chat Completions: "{}").
        self.fallback = fallback
        # A call that never got a name: completing it gives this error, nothing else.
        self.unnamed: Error | None = None
        self.parts: list[str] = []
        self.loose = 0  # pieces at the end of ``parts`` not yet joined into a group
        self.size = 0  # UTF-8 bytes kept so far
        self.capped = False  # input went over the cap; later pieces were dropped
        self.done = False
        # Complete, but not yet told: an earlier call with the same id is open.
        self.held: ToolCall | None = None
        # What follows the completion, held with it (a server-run call's result).
        self.held_after: list[Item] = []

    def complete(self, partial: bool = False) -> ToolCall:
        """Mark the call done and return it whole (its pieces are let go)."""
        self.done = True
        arguments = "".join(self.parts)
        self.parts = []  # the call is done: ``finalize`` may still hold it, not its pieces
        return ToolCall(
            id=self.id,
            call_id=self.call_id,
            name=self.name,
            arguments=arguments,
            kind=self.kind,
            partial=partial or self.capped,
            provider_executed=self.provider_executed,
            namespace=self.namespace,
            parent_id=self.parent_id,
        )

    def close(self, partial: bool = True) -> list[Item]:
        """The items that complete the call (``finalize``: the stream ended first).

        Its fallback input comes first when none streamed; a call that never
        got a name gives only its error.
        """
        if self.unnamed is not None:
            self.done = True
            return [self.unnamed]
        items: list[Item] = []
        if self.fallback and self.size == 0 and not self.capped:
            self.parts.append(self.fallback)
            items.append(ToolRequestArg(id=self.id, chunk=self.fallback))
        items.append(ToolRequestComplete(tool_call=self.complete(partial)))
        return items


class CloseCall(NamedTuple):
    """Complete the call at ``output_index`` (a wire's own completion rule), with
    ``final`` as its whole input when one is known; ``partial`` when its end never came."""

    output_index: int
    final: str | None = None
    partial: bool = False


class SequenceNumber(NamedTuple):
    """The largest Responses ``sequence_number`` read so far grew to ``number``."""

    number: int


__all__ = ["EVENTS_READ", "CloseCall", "EventsRead", "OpenCall", "SequenceNumber", "Terminal"]
