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

# The session's real Celery worker (`celery_worker_process`), once started, would take every
# relay task a committed submission publishes and sweep the outbox of whichever test is running,
# racing the tests that run the relay in this process. Tests of the wake turn it on; the
# embedded-default test runs the project's own settings, where it is on.
CONVERSION_RELAY_WAKE = False

# Tests change forms and post to them at once, in one process: every request checks the form
# (the query-count tests of a public submission turn the production delay back on).
CONVERSION_FORM_CHECK_SECONDS = 0

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
