"""The test run's Redis cache: the project's backend, cleared one test process at a time.

Django's `RedisCache.clear()` flushes its whole Redis database, which other test processes
(pytest-xdist workers, other checkouts' runs, `make run`) may be using at the same moment. Each
test process gets its own KEY_PREFIX (tests/conftest.py, pytest_configure), and `clear()` here
deletes the keys under that prefix only.
"""

from __future__ import annotations

import re

from inbound.lib.cache import ReusedClientRedisCache

DELETE_BATCH = 500


def _glob_escaped(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


class ProcessRedisCache(ReusedClientRedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        # make_key() writes "<prefix>:<version>:<key>"; the colon keeps "test-12" from matching
        # "test-123".
        pattern = f"{_glob_escaped(self.key_prefix)}:*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= DELETE_BATCH:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
        return True
