"""The terminal operator: turns the end of the stream, however it comes, into ``done``.

- After the first terminal event: completes pending calls (``partial``),
  emits ``done`` with its stop reason, and disposes its source (an HTTP
  connection closes; nothing after it is read).
- ``done`` carries the largest ``sequence_number`` read, and ``tool_use``
  instead of ``end_turn`` when the caller owes an action: a call it must run
  completed whole, or the server asked for an approval.
- When the source completes first: one ``stream_interrupted`` error (saying
  which framing and wire were tried when not one event of the wire was
  read), pending calls completed (``partial``), ``done``.
- When the source fails (``on_error``): the one error item the failure maps
  to, pending calls completed (``partial``), ``done``.
- One failure, one error: when the last item the stream gave is an error the
  server sent, neither the end of input nor a source failure adds another. Stream faults never
  reach the subscriber's ``on_error``; an exception raised by the subscriber's
  own ``on_next`` is the subscriber's, and is passed back to it.
"""

import uuid
from collections.abc import Callable

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SingleAssignmentDisposable

from ._errors import StreamInterrupted, item_from_exception
from ._items import ApprovalRequest, Done, Error, Item, Start, StopReason, ToolRequestComplete
from ._signals import EventsRead, OpenCall, SequenceNumber, Terminal
from ._tool_collect import Collected

_SIGNALS = frozenset({OpenCall, Terminal, EventsRead, SequenceNumber})
#: Items after which the caller may owe an action (``tool_use``).
_OWING = frozenset({ToolRequestComplete, ApprovalRequest})
#: What ``finalize`` looks at: signals, and the items above; the rest is passed on.
_SPECIAL = _SIGNALS | _OWING
#: Signals that say nothing of the stream's content (an error before them stays last).
_QUIET = frozenset({EventsRead, SequenceNumber})
_ENDED_EARLY = "the stream ended before the response completed"
#: The names the end-of-input message gives a wire and a framing.
WIRE_NAMES = {
    "responses": "OpenAI Responses",
    "chat": "OpenAI Chat Completions",
    "anthropic": "Anthropic Messages",
    "auto": "OpenAI Responses, Chat Completions or Anthropic Messages",
}
FRAMING_NAMES = {"sse": "SSE", "jsonl": "JSON Lines", "auto": "SSE or JSON Lines"}


def ended_early(events_read: bool, framing: str, wire: str) -> str:
    """The ``stream_interrupted`` message for an end of input before a terminal event."""
    if events_read:
        return _ENDED_EARLY
    return (
        f"{_ENDED_EARLY}: no {WIRE_NAMES.get(wire, wire)} event was read "
        f"(framing: {FRAMING_NAMES.get(framing, framing)})"
    )


def finalize_(
    start: bool = False, *, framing: str = "sse", wire: str = "responses"
) -> Callable[[Observable[list[Collected]]], Observable[Item]]:
    def _finalize(source: Observable[list[Collected]]) -> Observable[Item]:
        def subscribe(
            observer: abc.ObserverBase[Item],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            opened: list[OpenCall] = []
            upstream = SingleAssignmentDisposable()
            finished = False
            disposed = False
            caller_failed = False  # the subscriber's own on_next raised
            events_read = False  # an event of the wire was decoded (``EVENTS_READ`` came)
            # The last item given was an error the stream sent: its end, or the
            # source failing, adds no second error for the same failure.
            server_error_last = False
            # ``start`` goes out with the first thing the stream emits, not at
            # subscribe time, so that every subscriber of a shared asynchronous
            # stream sees it. Its id is made now: not on the way to a first item.
            started = not start
            message_id = str(uuid.uuid4()) if start else ""
            last_sequence_number: int | None = None
            owed = False  # the caller owes an action (a call to run, an approval)

            def emit(item: Item) -> None:
                nonlocal caller_failed, owed
                if type(item) in _OWING and _owed(item):  # type: ignore[arg-type]
                    owed = True
                try:
                    observer.on_next(item)
                except BaseException:
                    caller_failed = True
                    raise

            def begin() -> None:
                nonlocal started
                started = True
                emit(Start(message_id=message_id))

            def finish(error: Error | None, stop_reason: StopReason | None) -> None:
                nonlocal finished
                finished = True
                if not started:
                    begin()
                upstream.dispose()  # stop reading: nothing after the end counts
                tail: list[Item] = [] if error is None else [error]
                for call in opened:  # in the order they started
                    if call.held is not None:
                        tail.append(ToolRequestComplete(tool_call=call.held))
                        tail.extend(call.held_after)  # its result, held with it
                        call.held = None
                    elif not call.done:
                        tail.extend(call.close(partial=True))
                opened.clear()
                for item in tail:
                    if disposed:
                        return
                    emit(item)
                if disposed:
                    return
                if stop_reason == "end_turn" and owed:
                    stop_reason = "tool_use"
                emit(Done(stop_reason, last_sequence_number))
                observer.on_completed()

            def on_next(batch: list[Collected]) -> None:
                nonlocal caller_failed, events_read, server_error_last, last_sequence_number
                if finished:
                    return
                if not started:
                    begin()
                special = _SPECIAL
                deliver = observer.on_next
                for item in batch:
                    if type(item) not in special:
                        try:
                            deliver(item)  # type: ignore[arg-type]
                        except BaseException:
                            caller_failed = True
                            raise
                        if disposed:
                            return
                    elif type(item) in _OWING:
                        emit(item)  # type: ignore[arg-type]
                        if disposed:
                            return
                    elif type(item) is OpenCall:
                        if len(opened) > 32:  # keep only calls still open
                            opened[:] = [c for c in opened if not c.done or c.held is not None]
                        opened.append(item)
                    elif type(item) is SequenceNumber:
                        last_sequence_number = item.number
                    elif type(item) is Terminal:
                        finish(None, item.stop_reason)
                        return
                    else:
                        events_read = True  # EVENTS_READ: first in its batch, once
                last = batch[-1]
                if type(last) is Error:
                    server_error_last = last.kind != "decode_error"
                elif server_error_last and type(last) not in _QUIET:
                    server_error_last = False  # a later event gave an item

            def on_error(exc: Exception) -> None:
                if finished:
                    return  # the source was disposed: a late failure means nothing
                if caller_failed:
                    observer.on_error(exc)
                    return
                finish(None if server_error_last else item_from_exception(exc), None)

            def on_completed() -> None:
                if finished:
                    return
                if server_error_last:
                    finish(None, None)
                else:
                    message = ended_early(events_read, framing, wire)
                    finish(StreamInterrupted(message).to_item(), None)

            def dispose() -> None:
                nonlocal disposed
                disposed = True

            upstream.disposable = source.subscribe(
                on_next, on_error, on_completed, scheduler=scheduler
            )
            return CompositeDisposable(Disposable(dispose), upstream)

        return Observable(subscribe)

    return _finalize


def _owed(item: ToolRequestComplete | ApprovalRequest) -> bool:
    """Whether the caller owes an action: a call it must run completed whole, or an approval."""
    if type(item) is ApprovalRequest:
        return True
    call = item.tool_call  # type: ignore[union-attr]
    return not call.provider_executed and not call.partial


__all__ = ["FRAMING_NAMES", "WIRE_NAMES", "ended_early", "finalize_"]
