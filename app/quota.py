"""How often one user may have a conversation graded by the model outside a session: each
grade is a paid call, and a chat file can be long. Counted in this process (a replica
counts its own), over the last hour."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class HourlyQuota:
    """At most `limit` uses per key in any hour."""

    WINDOW = 3600.0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._uses: defaultdict[int, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def take(self, key: int) -> int | None:
        """Count a use, or refuse it: None, or how many uses the last hour already holds."""
        now = time.monotonic()
        with self._lock:
            uses = self._uses[key]
            while uses and uses[0] <= now - self.WINDOW:
                uses.popleft()
            if len(uses) >= self.limit:
                return len(uses)
            uses.append(now)
            return None
