"""Settings of the test run: the project's settings in development mode.

DEBUG defaults to off, so the test run turns it on, unless the environment already chose, as
`make run` does: SQLite, the filesystem broker and the development keys under var/. It is set in
the environment rather than here so that the processes tests start (a Celery worker, manage.py,
the benches) inherit it. Django still runs each test with settings.DEBUG False, as in production.
"""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "1")

from inbound.settings import *  # noqa: F403

# PBKDF2's cost is the point in production; in tests it adds a third of a second to every
# sign-in and password set.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if REDIS_URL:  # noqa: F405
    # Runs and pytest-xdist workers share the Redis cache database: each test process keeps its
    # keys under its own prefix, and clears only those (tests/cache.py). tests/conftest.py sets
    # the prefix to the process's namespace; processes a test starts (a Celery worker) inherit
    # it through CELERY_NAMESPACE, so they read and write the same keys.
    CACHES["default"]["BACKEND"] = "tests.cache.ProcessRedisCache"  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = CELERY_NAMESPACE or "test"  # noqa: F405
