"""`Memo`: a dict that works out each missing value once, for values that repeat across a site."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(dict[K, V], Generic[K, V]):
    """`memo[key]` is `make(key)`, made once per distinct key.

    A lookup is cheaper than a call, and a million claims repeat few dates, verdicts,
    probabilities and articles. With `limit`, keys past that many are made every time
    rather than kept, so a long-lived process's memo cannot grow without bound.
    """

    def __init__(self, make: Callable[[K], V], limit: int | None = None) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: K) -> V:
        value = self.make(key)
        if self.limit is None or len(self) < self.limit:
            self[key] = value
        return value
