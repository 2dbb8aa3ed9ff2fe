from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from tests.e2e.conftest import (  # noqa: F401 -- the browser fixtures, shared with tests/e2e
    chromium_browser,
    compiled_translations,
    page,
    site,
    viewport,
)
from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def writer(db: None) -> Any:
    """Staff who may add and change articles but not publish them (no role)."""
    user = StaffFactory(username="pablo")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="content",
            codename__in=["add_article", "change_article", "view_article"],
        )
    )
    return user
