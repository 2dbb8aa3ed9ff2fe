"""The Redis cache backend keeps one client per pool (inbound.lib.cache)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import RequestFactory

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


REFUSED_REDIS = {
    "default": {
        "BACKEND": "inbound.lib.cache.ReusedClientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_an_unreachable_cache_fails_open() -> None:
    from django.test import override_settings

    with override_settings(CACHES=REFUSED_REDIS):
        cache = caches["default"]
        cache.set("inbound:test:down", 1)
        assert cache.get("inbound:test:down", "missing") == "missing"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("inbound:test:down", 1) is False
        with pytest.raises(ValueError):
            cache.incr("inbound:test:down")


@pytest.mark.django_db
def test_public_pages_and_rate_limits_work_while_the_cache_is_down(client: Any) -> None:
    from django.test import override_settings

    from inbound.lib.ratelimit import rate_limit_hit

    with override_settings(CACHES=REFUSED_REDIS, PUBLIC_PAGE_CACHE_SECONDS=300):
        assert client.get("/es/accesibilidad/").status_code == 200
        assert client.get("/es/accesibilidad/").status_code == 200
        request = RequestFactory().get("/es/buscar/")
        assert not any(
            rate_limit_hit(request=request, scope="test", limit=1, period=60) for _ in range(5)
        )
        # /readyz still tells operators the cache is down.
        from inbound.views import _probe_cache

        with pytest.raises(RuntimeError):
            _probe_cache()


@pytest.mark.django_db
def test_pages_rendered_while_the_cache_is_down_are_not_kept(client: Any) -> None:
    """With no generation to check them against, such copies could never be invalidated."""
    from django.test import override_settings

    from inbound.lib import pagecache

    pagecache._local_pages.clear()
    with override_settings(CACHES=REFUSED_REDIS, PUBLIC_PAGE_CACHE_SECONDS=300):
        assert client.get("/es/accesibilidad/").status_code == 200
    assert pagecache._local_pages == {}
    assert client.get("/es/accesibilidad/").status_code == 200
    assert len(pagecache._local_pages) == 1


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
def test_a_window_counter_counts_in_one_window_and_expires_with_it() -> None:
    cache = caches["default"]
    assert isinstance(cache, ReusedClientRedisCache)
    cache.delete("inbound:test:window")

    assert [cache.incr_window("inbound:test:window", 60) for _ in range(3)] == [1, 2, 3]

    ttl = cache._cache.get_client().ttl(cache.make_key("inbound:test:window"))
    assert 0 < ttl <= 60  # set by the first hit, not pushed back by the later ones
    cache.delete("inbound:test:window")
    assert cache.incr_window("inbound:test:window", 60) == 1


def test_a_window_counter_fails_open_when_redis_is_down() -> None:
    from django.test import override_settings

    with override_settings(CACHES=REFUSED_REDIS):
        cache = caches["default"]
        assert isinstance(cache, ReusedClientRedisCache)
        assert cache.incr_window("inbound:test:down", 60) == 1
