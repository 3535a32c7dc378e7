"""The ``frame`` operator: chunks of bytes in, one list of frames per piece out."""

from collections.abc import Callable, Iterable

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from ._pieces import PIECED, first_lines, first_pieces
from ._sse import (
    DEFAULT_MAX_EVENT_BYTES,
    AutoFramer,
    Frame,
    FrameFormat,
    JSONLinesFramer,
    SSEFramer,
)

_FRAMERS: dict[str, type[SSEFramer | JSONLinesFramer | AutoFramer]] = {
    "sse": SSEFramer,
    "jsonl": JSONLinesFramer,
    "auto": AutoFramer,
}


def frame_(
    format: FrameFormat = "sse",
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    done: bool = False,
    cut: Callable[[bytes], Iterable[bytes]] | None = first_pieces,
) -> Callable[[Observable[bytes]], Observable[list[Frame]]]:
    """``cut``: the latency policy, how a chunk longer than ``PIECED`` is cut (``None``: never)."""
    make = _FRAMERS.get(format)
    if make is None:
        raise ValueError(f"unknown format {format!r} (expected 'sse', 'jsonl' or 'auto')")
    if max_event_bytes < 1:
        raise ValueError("max_event_bytes must be positive")
    if cut is first_pieces and format == "jsonl":
        cut = first_lines

    def _frame(source: Observable[bytes]) -> Observable[list[Frame]]:
        def subscribe(
            observer: abc.ObserverBase[list[Frame]],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            framer = make(max_event_bytes, done)  # one framer per subscription
            stopped = False

            def on_next(chunk: bytes) -> None:
                if len(chunk) > PIECED and cut is not None:
                    in_pieces(chunk)
                    return
                try:  # (written out, not a call: reads of one byte come here per byte)
                    frames = framer.decode(chunk)
                except Exception as exc:  # a bug, not a stream fault: report it
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)

            def in_pieces(chunk: bytes) -> None:
                for piece in cut(chunk):  # type: ignore[misc]
                    if stopped:
                        return
                    try:
                        frames = framer.decode(piece)
                    except Exception as exc:
                        observer.on_error(exc)
                        return
                    if frames:
                        observer.on_next(frames)

            def on_completed() -> None:
                try:
                    frames = framer.flush()
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if frames:
                    observer.on_next(frames)
                observer.on_completed()

            def stop() -> None:
                nonlocal stopped
                stopped = True

            return CompositeDisposable(
                source.subscribe(on_next, observer.on_error, on_completed, scheduler=scheduler),
                Disposable(stop),
            )

        return Observable(subscribe)

    return _frame


__all__ = ["frame_"]
