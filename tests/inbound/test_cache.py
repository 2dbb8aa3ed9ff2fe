"""The Redis cache backend keeps one client per pool (inbound.lib.cache)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches

from inbound.lib.cache import ReusedClientRedisCache


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
def test_redis_cache_reuses_its_client_and_stores_values() -> None:
    cache = caches["default"]
    assert isinstance(cache, ReusedClientRedisCache)
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    cache.set("inbound:test:cache", {"páginas": 3}, 30)
    assert cache.get("inbound:test:cache") == {"páginas": 3}
    cache.delete("inbound:test:counter")
    assert cache.add("inbound:test:counter", 1)
    assert cache.incr("inbound:test:counter") == 2
