"""Django's Redis cache, keeping one client per connection pool and failing open.

- Django 5.2's `RedisCacheClient.get_client()` builds a new `redis.Redis` around the pool on
  every cache call; with redis-py 8 that construction is about a fifth of a cached page's CPU
  time. The client is a thin, thread-safe wrapper around its pool, so one per pool is enough.
- The cache is an accelerator, never a dependency: when Redis cannot be reached, reads miss,
  writes are dropped and counters start again (`incr` raises ValueError, as for a missing key),
  so public pages are rendered, rate limits let citizens through and form submissions are stored
  instead of answering 500. Each failure is logged (at most once per minute per process).
- `incr_window` counts in a fixed window in one round trip (a Lua INCR that sets the expiry on
  the first hit); Django's `add` + `incr` take three (`incr` checks the key exists first), and
  every public POST is rate-limited.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_ERRORS = (RedisError, OSError)
LOG_EVERY_SECONDS = 60.0


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


_last_logged = 0.0


def _unavailable(operation: str, error: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY_SECONDS:
        _last_logged = now
        logger.warning("cache unavailable (%s): %s; failing open", operation, type(error).__name__)


def _fail_open(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except CACHE_ERRORS as error:
            _unavailable(name, error)
            return fallback(*args, **kwargs)

    method.__name__ = name
    return method


def _missing_counter(*args: Any, **kwargs: Any) -> Any:
    raise ValueError("the cache is unavailable")


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _fail_open("get", _default)
    get_many = _fail_open("get_many", lambda *args, **kwargs: {})
    set = _fail_open("set", lambda *args, **kwargs: None)
    set_many = _fail_open("set_many", lambda data, *args, **kwargs: list(data))
    add = _fail_open("add", lambda *args, **kwargs: False)
    touch = _fail_open("touch", lambda *args, **kwargs: False)
    delete = _fail_open("delete", lambda *args, **kwargs: False)
    delete_many = _fail_open("delete_many", lambda *args, **kwargs: None)
    has_key = _fail_open("has_key", lambda *args, **kwargs: False)
    incr = _fail_open("incr", _missing_counter)
    decr = _fail_open("decr", _missing_counter)

    def incr_window(self, key: str, timeout: int) -> int:
        """Add one to a counter that expires `timeout` seconds after its first hit; its value.

        Fails open: 1 when Redis cannot be reached, so a limit never locks citizens out.
        """
        try:
            client = self._cache.get_client(key, write=True)
            script = self._window_script
            if script is None:
                script = self._window_script = client.register_script(_WINDOW_SCRIPT)
            return int(script(keys=[self.make_and_validate_key(key)], args=[timeout]))
        except CACHE_ERRORS as error:
            _unavailable("incr_window", error)
            return 1

    _window_script: Any = None

    def reserve_tokens(self, key: str, *, rate: float, burst: int, count: int) -> float:
        """Take `count` tokens from a bucket refilled at `rate` per second up to `burst`,
        shared by every process; the seconds to wait before using them (0 when they were
        there). Taking is a reservation: the bucket may go negative, and the next taker waits
        longer, so concurrent workers never exceed the rate together.

        Fails open (0) when Redis cannot be reached.
        """
        try:
            client = self._cache.get_client(key, write=True)
            script = self._bucket_script
            if script is None:
                script = self._bucket_script = client.register_script(_BUCKET_SCRIPT)
            wait = script(keys=[self.make_and_validate_key(key)], args=[rate, burst, count])
            return max(0.0, float(wait))
        except CACHE_ERRORS as error:
            _unavailable("reserve_tokens", error)
            return 0.0

    _bucket_script: Any = None


_WINDOW_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""

# Redis's own clock (TIME), so workers on machines whose clocks differ share one bucket.
_BUCKET_SCRIPT = """
local rate, burst, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - count
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""
