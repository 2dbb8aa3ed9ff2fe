"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright starts the system /usr/bin/chromium; nothing is downloaded and `playwright install`
is never needed. Every test gets a fresh browser context (no shared cookies or storage) on
one browser started for the whole package.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.utils.translation.reloader import translation_file_changed
from playwright.sync_api import Browser, Page, sync_playwright

from inbound.demo import demo_seed
from inbound.lib.translations import catalogues_compile
from tests import flush
from tests.conftest import CHROMIUM  # checked before any test runs

# Headless in a container that may have no internet: without these Chromium keeps trying to reach
# Google for updates, sync and QUIC probes, and the refused connections slow every test down.
CHROMIUM_ARGS = [
    "--no-sandbox",  # containers run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "mobile": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture(scope="package")
def chromium_browser(pytestconfig: pytest.Config) -> Iterator[Browser]:
    """One headless Chromium for all the browser tests, stopped as soon as they are done.

    Playwright's sync API keeps an asyncio loop running in the test thread from start to stop,
    so meanwhile Django takes every ORM call a test makes (seeding, personas) for one made from
    async code and refuses it; the calls are plain synchronous ones, so DJANGO_ALLOW_ASYNC_UNSAFE
    is set, but only for this package's lifetime: it must not leak into the other tests or the
    processes they start (`check --deploy` warns about it). That is also why this fixture is not
    pytest-playwright's session-wide `browser`.
    """
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # pytest-playwright's --headed, to watch a test run on a machine with a display.
            headless=not pytestconfig.getoption("--headed", default=False),
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def compiled_translations() -> None:
    """The .mo files are build output, not in git: compile them so pages are in Spanish.

    Django caches catalogues per process, so it is told the files changed, as its autoreloader
    does, in case an earlier test already loaded them.
    """
    for mo in catalogues_compile(settings.BASE_DIR):
        translation_file_changed(sender=None, file_path=mo)


@pytest.fixture
def site(live_server: Any, transactional_db: None, compiled_translations: None) -> str:
    """The live site, with the demo institution's legal texts; returns its base URL.

    The live server answers from another thread, so data must be committed to be seen there:
    hence `transactional_db`, and seeding here, once the database is ready. The seeded rows are
    kept between the tests that use the site (tests/flush.py): a test empties only what it
    added, and the next one finds the site seeded, unless a test changed the seeded rows or a
    test of another kind ran in between.
    """
    if not flush.layer_kept():
        demo_seed(with_passwords=False)
        flush.layer_keep()
    return str(live_server.url)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """Every test that takes `page` runs at each viewport, unless it parametrizes this itself."""
    return str(request.param)


def _page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    context = browser.new_context(**context_options)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(chromium_browser: Browser, site: str, viewport: str) -> Iterator[Page]:
    """Overrides pytest-playwright's: a fresh page at `viewport` with URLs relative to the site."""
    yield from _page(chromium_browser, base_url=site, **VIEWPORTS[viewport])


@pytest.fixture
def page_without_js(chromium_browser: Browser, site: str) -> Iterator[Page]:
    """A page in a context with JavaScript off: the public site must work without it."""
    yield from _page(
        chromium_browser, base_url=site, java_script_enabled=False, **VIEWPORTS["desktop"]
    )
