"""A small store in process memory for parts whose key names everything they show.

Nothing here is ever invalidated: a key that names what it shows (an entry
row's `updated_at`, the ids and times a panel lists) moves through the
database with every change, so a stale value is simply never asked for again.
Only the size is bounded; the oldest additions go first.
"""

import threading
from collections import OrderedDict


class Remembered:
    """Bounded to `size` values; `get` never blocks, `put` takes a lock (several threads share a process)."""

    def __init__(self, size):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        return self.items.get(key)

    def put(self, key, value):
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self):
        with self.lock:
            self.items.clear()
