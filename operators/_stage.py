"""What the inner stages share: one object per subscription, one list in, one list out.

And the way two of them keep many short pieces (data lines, tool input) in groups.
"""

from collections.abc import Callable
from typing import AnyStr, TypeVar

from reactivex import Observable, abc

_In = TypeVar("_In")
_Out = TypeVar("_Out")


#: Pieces of a tool call's input (and an event's data lines) are kept joined in
#: groups of this many when they are short: an object each costs more than a
#: short piece holds (a 2-byte piece, about 20 times its size).
GROUP = 256
#: Short: under this many characters (bytes) a piece, on average.
_SHORT = 2048


def join_short_tail(parts: list[AnyStr], separator: AnyStr) -> None:
    """Join the last ``GROUP`` of ``parts`` into one (with ``separator``) if they are short."""
    tail = parts[-GROUP:]
    if sum(map(len, tail)) < GROUP * _SHORT:
        parts[-GROUP:] = [separator.join(tail)]


def batch_step(
    step: Callable[[list[_In]], list[_Out]], observer: abc.ObserverBase[list[_Out]]
) -> Callable[[list[_In]], None]:
    """An ``on_next`` that passes each list through ``step``; empty results are not passed on.

    ``step`` raising is a bug, not a stream fault: it goes to ``on_error``
    (``finalize`` turns it into an item).
    """

    def on_next(batch: list[_In]) -> None:
        try:
            out = step(batch)
        except Exception as exc:
            observer.on_error(exc)
            return
        if out:
            observer.on_next(out)

    return on_next


def batch_stage(
    make: Callable[[], Callable[[list[_In]], list[_Out]]],
) -> Callable[[Observable[list[_In]]], Observable[list[_Out]]]:
    """An operator that passes each list through ``make()``'s function, made per subscription.

    Empty results are not passed on. The function raising is a bug, not a
    stream fault: it goes to ``on_error`` (``finalize`` turns it into an item).
    """

    def _stage(source: Observable[list[_In]]) -> Observable[list[_Out]]:
        def subscribe(
            observer: abc.ObserverBase[list[_Out]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            on_next = batch_step(make(), observer)  # the state lives here: one per subscription
            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return _stage


__all__ = ["GROUP", "batch_stage", "batch_step", "join_short_tail"]
