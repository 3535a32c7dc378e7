"""The terminal operator: turns the end of the stream, however it comes, into ``done``.

- After the first terminal event: completes pending calls (``partial``),
  emits ``done`` with its stop reason, and disposes its source (an HTTP
  connection closes; nothing after it is read).
- ``done`` carries the largest ``sequence_number`` read, and ``tool_use``
  instead of ``end_turn`` when the caller owes an action: a call it must run
  completed whole, or the server asked for an approval.
- When the source completes first: one ``stream_interrupted`` error, pending
  calls completed (``partial``), ``done``.
- When the source fails (``on_error``): the one error item the failure maps
  to, pending calls completed (``partial``), ``done``. Stream faults never
  reach the subscriber's ``on_error``; an exception raised by the subscriber's
  own ``on_next`` is the subscriber's, and is passed back to it.
"""

import uuid
from collections.abc import Callable

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SingleAssignmentDisposable

from ._errors import StreamInterrupted, item_from_exception
from ._items import ApprovalRequest, Done, Error, Item, Start, StopReason, ToolRequestComplete
from ._signals import OpenCall, SequenceNumber, Terminal
from ._tool_collect import Collected

_SIGNALS = frozenset({OpenCall, Terminal, SequenceNumber})
#: Items after which the caller may owe an action (``tool_use``).
_OWING = frozenset({ToolRequestComplete, ApprovalRequest})
#: What ``finalize`` looks at: signals, and the items above; the rest is passed on.
_SPECIAL = _SIGNALS | _OWING
_ENDED_EARLY = "the stream ended before the response completed"


def finalize_(start: bool = False) -> Callable[[Observable[list[Collected]]], Observable[Item]]:
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
                        call.held = None
                    elif not call.done:
                        tail.append(ToolRequestComplete(tool_call=call.complete(partial=True)))
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
                nonlocal caller_failed, last_sequence_number
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
                    else:
                        assert type(item) is Terminal
                        finish(None, item.stop_reason)
                        return

            def on_error(exc: Exception) -> None:
                if finished:
                    return  # the source was disposed: a late failure means nothing
                if caller_failed:
                    observer.on_error(exc)
                    return
                finish(item_from_exception(exc), None)

            def on_completed() -> None:
                if not finished:
                    finish(StreamInterrupted(_ENDED_EARLY).to_item(), None)

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


__all__ = ["finalize_"]
