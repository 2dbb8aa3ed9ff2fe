"""Conversion figures: how many saw a form or landing page, how many sent it, and the rate.

Page views are `page_view` touchpoints whose subject is the form or landing page; submissions
are `Submission` rows (of the form, or attributed to the landing page). Two aggregate queries
whatever the number of objects: one over touchpoints, one over submissions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from contacts.models import Touchpoint
from conversion.models import CallToAction, Form, LandingPage, Submission


class Rate(NamedTuple):
    views: int
    submissions: int
    rate: float | None  # submissions / views; None without views


class ClickRate(NamedTuple):
    impressions: int
    clicks: int
    rate: float | None  # clicks / impressions; None without impressions


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _touchpoint_counts(
    model: type, ids: list[int], kinds: tuple[str, ...], since: dt.datetime | None
) -> dict[tuple[int, str], int]:
    rows = Touchpoint.objects.filter(
        subject_type=ContentType.objects.get_for_model(model),
        subject_id__in=[str(pk) for pk in ids],
        kind__in=kinds,
    )
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    counts = rows.values_list("subject_id", "kind").annotate(n=Count("id")).order_by()
    return {(int(subject_id), kind): n for subject_id, kind, n in counts}


def conversion_rates(
    objects: Iterable[Form | LandingPage], *, since: dt.datetime | None = None
) -> dict[int, Rate]:
    """Views, submissions and conversion rate per object id, since `since` (or ever).

    All objects must be of one model: forms, or landing pages.
    """
    objects = list(objects)
    if not objects:
        return {}
    model = type(objects[0])
    if any(type(obj) is not model for obj in objects):
        raise TypeError("conversion_rates takes forms or landing pages, not both")
    ids = [obj.pk for obj in objects]
    views = _touchpoint_counts(model, ids, ("page_view",), since)
    column = "landing_page_id" if model is LandingPage else "form_id"
    submissions = Submission.objects.filter(**{f"{column}__in": ids})
    if since is not None:
        submissions = submissions.filter(created_at__gte=since)
    sent = dict(submissions.values_list(column).annotate(n=Count("id")).order_by())
    rates = {}
    for pk in ids:
        seen = views.get((pk, "page_view"), 0)
        count = sent.get(pk, 0)
        rates[pk] = Rate(views=seen, submissions=count, rate=_ratio(count, seen))
    return rates


def click_rates(
    ctas: Iterable[CallToAction], *, since: dt.datetime | None = None
) -> dict[int, ClickRate]:
    """Impressions, clicks and click-through rate per call to action id (one query)."""
    ids = [cta.pk for cta in ctas]
    if not ids:
        return {}
    counts = _touchpoint_counts(CallToAction, ids, ("cta_impression", "cta_click"), since)
    rates = {}
    for pk in ids:
        shown = counts.get((pk, "cta_impression"), 0)
        clicked = counts.get((pk, "cta_click"), 0)
        rates[pk] = ClickRate(impressions=shown, clicks=clicked, rate=_ratio(clicked, shown))
    return rates
