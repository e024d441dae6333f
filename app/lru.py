"""A least-recently-used map bounded in entries, bytes and age: the memory of the page
caches (app/pagecache.py, app/accountcache.py), which no visitor may grow without limit."""

from __future__ import annotations

import collections
import time
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class Lru(Generic[V]):
    def __init__(self, *, max_entries: int, max_bytes: int, max_age: float) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.entries: collections.OrderedDict[Hashable, tuple[V, int, float]] = \
            collections.OrderedDict()
        self.bytes = 0

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def get(self, key: Hashable) -> V | None:
        kept = self.entries.get(key)
        if kept is None:
            return None
        value, _size, stored = kept
        if time.monotonic() - stored > self.max_age:
            self.drop(key)
            return None
        self.entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep `value` (counted as `size` bytes), dropping the least recently used until the
        bounds hold; a value larger than the whole cache is not kept."""
        self.drop(key)
        if not self.enabled or size > self.max_bytes:
            return
        self.entries[key] = (value, size, time.monotonic())
        self.bytes += size
        while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
            self.drop(next(iter(self.entries)))

    def drop(self, key: Hashable) -> None:
        kept = self.entries.pop(key, None)
        if kept is not None:
            self.bytes -= kept[1]

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.entries)
