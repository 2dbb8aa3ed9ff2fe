"""A global sending rate per e-mail provider: a token bucket every worker shares.

Mail providers cap how fast an account may send (Amazon SES starts at 14 messages a second;
an institution's own relay may allow a few hundred). `Throttle.wait()` is called before each
message; it reserves tokens from a Redis bucket a block at a time (one round trip per block, not
per message) and sleeps when the bucket is empty. Without Redis (`make run` on SQLite) the bucket
lives in the process, which is exact for the single worker that setup runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.core.cache import cache


class _LocalBucket:
    def __init__(self) -> None:
        self.tokens: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def reserve(self, key: str, *, rate: float, burst: int, count: int) -> float:
        with self.lock:
            now = time.monotonic()
            tokens, at = self.tokens.get(key, (float(burst), now))
            tokens = min(burst, tokens + (now - at) * rate) - count
            self.tokens[key] = (tokens, now)
            return 0.0 if tokens >= 0 else -tokens / rate


_local = _LocalBucket()


class Throttle:
    """At most `rate` messages a second for `provider`, across every worker."""

    def __init__(
        self, provider: str, rate: float, *, sleep: Callable[[float], object] = time.sleep
    ) -> None:
        self.key = f"throttle:{provider}"
        self.rate = rate
        # Blocks of about a tenth of a second's worth: few round trips, smooth pacing.
        self.block = max(1, min(100, int(rate / 10)))
        self.burst = max(self.block, int(rate))
        self.available = 0
        self.sleep = sleep

    def wait(self) -> float:
        """Take one message's token, sleeping first if the rate asks; the seconds slept."""
        if self.available == 0:
            reserve = getattr(cache, "reserve_tokens", _local.reserve)
            waited = reserve(self.key, rate=self.rate, burst=self.burst, count=self.block)
            self.available = self.block
            if waited > 0:
                self.sleep(waited)
        else:
            waited = 0.0
        self.available -= 1
        return waited
