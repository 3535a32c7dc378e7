"""Signals the operators pass to each other between items (never seen by subscribers)."""

from typing import NamedTuple

from ._items import StopReason, ToolCall, ToolKind


class Terminal(NamedTuple):
    """The response ended (``completed``, ``incomplete`` or ``failed``) with this stop reason."""

    stop_reason: StopReason | None


class OpenCall:
    """A tool call in progress, shared by ``collect_tools`` (which grows and completes it)
    and ``finalize`` (which completes it as partial if the stream ends first)."""

    __slots__ = (
        "call_id",
        "capped",
        "done",
        "held",
        "id",
        "kind",
        "loose",
        "name",
        "parts",
        "size",
    )

    def __init__(self, id: str, call_id: str | None, name: str, kind: ToolKind) -> None:
        self.id = id
        self.call_id = call_id
        self.name = name
        self.kind: ToolKind = kind
        self.parts: list[str] = []
        self.loose = 0  # pieces at the end of ``parts`` not yet joined into a group
        self.size = 0  # UTF-8 bytes kept so far
        self.capped = False  # input went over the cap; later pieces were dropped
        self.done = False
        # Complete, but not yet told: an earlier call with the same id is open.
        self.held: ToolCall | None = None

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
        )


class SequenceNumber(NamedTuple):
    """The largest Responses ``sequence_number`` read so far grew to ``number``."""

    number: int


__all__ = ["OpenCall", "SequenceNumber", "Terminal"]
