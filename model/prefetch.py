"""Work one item ahead in a helper thread: the trainer augments the next batch while the network learns."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

I = TypeVar("I")
T = TypeVar("T")


def ahead(make: Callable[[I], T], items: list[I], in_thread: bool = True) -> Iterator[tuple[I, T]]:
    """(item, make(item)) for each item, in order. ``in_thread``: make(next item) runs in a helper
    thread while the caller works with this one's result.

    NumPy releases the GIL inside its array loops and OpenBLAS inside its products, so the two
    threads keep two cores busy for most of a training step. ``make`` runs in the items' order
    either way, one call at a time, so only the time changes, never the results.
    """
    if not in_thread:
        for item in items:
            yield item, make(item)
        return
    if not items:
        return
    with ThreadPoolExecutor(1) as helper:
        pending = helper.submit(make, items[0])
        for i, item in enumerate(items):
            result = pending.result()
            if i + 1 < len(items):
                pending = helper.submit(make, items[i + 1])
            yield item, result
