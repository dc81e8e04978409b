"""model.prefetch.ahead: the same items and results in the same order, the next one made meanwhile."""

from __future__ import annotations

import threading

import pytest

from model.prefetch import ahead


@pytest.mark.parametrize("in_thread", [True, False])
def test_every_item_once_in_order(in_thread: bool) -> None:
    made: list[int] = []

    def square(item: int) -> int:
        made.append(item)
        return item * item

    assert list(ahead(square, [3, 1, 2], in_thread)) == [(3, 9), (1, 1), (2, 4)]
    assert made == [3, 1, 2]
    assert list(ahead(square, [], in_thread)) == []


def test_the_next_item_is_made_while_the_caller_works_on_this_one() -> None:
    second_made = threading.Event()

    def make(item: int) -> int:
        if item == 2:
            second_made.set()
        return item

    for item, _ in ahead(make, [1, 2], in_thread=True):
        if item == 1:  # the helper makes item 2 now, without the caller asking for it
            assert second_made.wait(timeout=30)


def test_an_error_in_the_helper_reaches_the_caller() -> None:
    def make(item: int) -> int:
        if item == 2:
            raise ValueError("bad item")
        return item

    results = ahead(make, [1, 2, 3], in_thread=True)
    assert next(results) == (1, 1)
    with pytest.raises(ValueError, match="bad item"):
        next(results)
