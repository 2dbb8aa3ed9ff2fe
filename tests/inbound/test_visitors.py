"""Visitor keys from a random daily salt (`inbound.visitors`), kept two days, then deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db.models.query import QuerySet
from django.http import HttpRequest
from django.test import RequestFactory

from inbound import tasks, visitors
from inbound.lib.privacy import ip_hash
from inbound.models import VisitorSalt

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Each test starts like a new process: no salt remembered."""
    visitors.salt_memo_forget()
    yield
    visitors.salt_memo_forget()


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, minute, second, tzinfo=MADRID)


def request(ip: str = "203.0.113.7", agent: str = FIREFOX, **headers: str) -> HttpRequest:
    return RequestFactory().get("/es/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent, headers=headers)


def salt_days() -> list[dt.date]:
    return sorted(VisitorSalt.objects.values_list("day", flat=True))


def test_a_visitor_keeps_one_key_through_the_day() -> None:
    with time_machine.travel(at(3, 9), tick=False):
        morning = visitors.visitor_key(request())
    with time_machine.travel(at(3, 23, 59), tick=False):
        night = visitors.visitor_key(request())

    assert len(morning) == 32
    assert morning == night


def test_address_and_browser_each_tell_visitors_apart() -> None:
    with time_machine.travel(at(3), tick=False):
        key = visitors.visitor_key(request())
        assert visitors.visitor_key(request(ip="203.0.113.8")) != key
        assert visitors.visitor_key(request(agent=CHROME)) != key


def test_tomorrows_key_of_the_same_visitor_has_nothing_in_common_with_todays() -> None:
    with time_machine.travel(at(3, 23, 59), tick=False):
        today = visitors.visitor_key(request())
    with time_machine.travel(at(4, 0, 1), tick=False):
        tomorrow = visitors.visitor_key(request())

    assert today != tomorrow
    assert VisitorSalt.objects.get(day=dt.date(2025, 3, 3)).salt != (
        VisitorSalt.objects.get(day=dt.date(2025, 3, 4)).salt
    )


def test_the_key_is_not_a_hash_of_the_address_under_the_secret_key() -> None:
    """Whoever holds SECRET_KEY can hash every IPv4 address; the day's salt is random instead."""
    with time_machine.travel(at(3), tick=False):
        key = visitors.visitor_key(request())

    assert key != ip_hash("203.0.113.7")
    assert "203.0.113.7" not in key


def test_the_salt_is_random_not_derived_from_the_secret_key_or_the_day() -> None:
    with time_machine.travel(at(3), tick=False):
        first = visitors.visitor_key(request())
    VisitorSalt.objects.all().delete()
    cache.clear()
    visitors.salt_memo_forget()
    with time_machine.travel(at(3), tick=False):
        again = visitors.visitor_key(request())

    assert first != again  # same day, same key material: only the random salt changed


@pytest.mark.parametrize("header", [{"Sec-GPC": "1"}, {"DNT": "1"}])
def test_a_browser_asking_not_to_be_tracked_has_no_key(header: dict[str, str]) -> None:
    assert visitors.visitor_key(request(**header)) == ""
    assert not VisitorSalt.objects.exists()  # not even the day's salt was needed


def test_a_request_without_a_known_address_has_no_key() -> None:
    assert visitors.visitor_key(request(ip="not-an-address")) == ""


def test_salts_older_than_two_days_are_deleted_when_a_new_days_salt_is_made() -> None:
    for day in (1, 2, 3):
        with time_machine.travel(at(day), tick=False):
            visitors.visitor_key(request())

    # The 1st's salt went when the 3rd's was made: its keys can no longer be recomputed.
    assert salt_days() == [dt.date(2025, 3, 2), dt.date(2025, 3, 3)]
    assert cache.get(f"{visitors.CACHE_PREFIX}2025-03-01") is None


def test_the_nightly_job_deletes_old_salts_even_on_days_nobody_visits() -> None:
    with time_machine.travel(at(1), tick=False):
        visitors.visitor_key(request())
    with time_machine.travel(at(2), tick=False):
        visitors.visitor_key(request())

    with time_machine.travel(at(9, 0, 1), tick=False):
        tasks.visitor_salts_rotate()

    assert salt_days() == [dt.date(2025, 3, 9)]


@pytest.mark.skipif(
    "LocMem" not in settings.CACHES["default"]["BACKEND"],
    reason="Redis expires keys on its own clock, which the test cannot move",
)
def test_the_cached_salt_expires_when_its_row_is_deleted() -> None:
    key = f"{visitors.CACHE_PREFIX}2025-03-03"
    with time_machine.travel(at(3, 18), tick=False):
        visitors.visitor_key(request())
    with time_machine.travel(at(4, 23, 59), tick=False):
        assert cache.get(key) is not None
    with time_machine.travel(at(5, 0, 0, 1), tick=False):
        assert cache.get(key) is None


def test_another_process_uses_the_same_salt_without_making_one() -> None:
    with time_machine.travel(at(3), tick=False):
        first = visitors.visitor_key(request())
        visitors.salt_memo_forget()  # another web process, same cache
        cache.clear()  # and even with the cache flushed: the database decides
        second = visitors.visitor_key(request())

    assert first == second
    assert VisitorSalt.objects.count() == 1


def test_two_workers_making_the_days_salt_at_once_agree_on_one() -> None:
    """Another worker inserts the day's salt between our look-up and our insert (midnight):
    the unique day refuses our row and we take theirs."""
    theirs = "ab" * 32
    real_get = QuerySet.get
    raced = False

    def get_while_another_worker_inserts(self: QuerySet[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal raced
        if self.model is VisitorSalt and not raced:
            raced = True
            VisitorSalt.objects.bulk_create([VisitorSalt(day=dt.date(2025, 3, 3), salt=theirs)])
            raise VisitorSalt.DoesNotExist
        return real_get(self, *args, **kwargs)

    with (
        time_machine.travel(at(3, 0, 0), tick=False),
        mock.patch.object(QuerySet, "get", get_while_another_worker_inserts),
    ):
        salt = visitors.salt_of_today()

    assert raced
    assert salt == bytes.fromhex(theirs)
    assert list(VisitorSalt.objects.values_list("salt", flat=True)) == [theirs]


def test_once_known_a_key_costs_no_query(django_assert_num_queries: Any) -> None:
    with time_machine.travel(at(3), tick=False):
        visitors.visitor_key(request())  # the first request of the day makes the salt

        with django_assert_num_queries(0):
            visitors.visitor_key(request(ip="198.51.100.1"))
        visitors.salt_memo_forget()  # a process that has not seen it yet: from the cache
        with django_assert_num_queries(0):
            visitors.visitor_key(request(ip="198.51.100.2"))
