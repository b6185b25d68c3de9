"""What a server process built once from the store and keeps for every session until the store
changes: the key holds the store's change counters (Store.changes), so a change is a new key and
the oldest entries go first."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")


class Kept:
    """At most `size` built things by key, the least recently used dropped first. What is built is
    shared by every caller: they read it, never change it."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()              # outside the lock: two sessions may build the same thing once each
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
