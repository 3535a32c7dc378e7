"""``raise_errors()``: the opt-in operator for callers who want ReactiveX error semantics."""

from collections.abc import Callable, Container

from reactivex import Observable, abc

from .operators import Error, Item, exception_from_item
from .operators._items import ErrorKind


def raise_errors(
    ignore: Container[ErrorKind] = (),
) -> Callable[[Observable[Item]], Observable[Item]]:
    """Turn the first ``error`` item into ``on_error`` with its ``PipelineError``.

    Items before it pass through; the stream ends there (its ``done`` is not
    delivered). Kinds in ``ignore`` (say ``{"decode_error"}``) pass as items.

    .. code::

        -start-text-error(timeout)-done-|
        [         raise_errors()       ]
        -start-text-X(StreamTimeout)
    """

    def _raise_errors(source: Observable[Item]) -> Observable[Item]:
        def subscribe(
            observer: abc.ObserverBase[Item], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            def on_next(item: Item) -> None:
                if type(item) is Error and item.kind not in ignore:
                    observer.on_error(exception_from_item(item))
                else:
                    observer.on_next(item)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return _raise_errors


__all__ = ["raise_errors"]
