"""A/B tests of landing pages: who sees which arm, the figures per arm, starting a test and
declaring its winner.

A test compares the page as it stands (the control) with one or more `LandingVariant`s. Each
visitor is kept on one arm by their visitor key (the keyed hash of their address): the same key
always lands on the same arm, so no cookie is needed and the POST of the form is attributed to
the arm its GET showed. Weights and arms are fixed once a test starts, since changing them
would move visitors between arms halfway through.

The figures count people, not page loads: the distinct visitor keys that saw each arm, and of
those, the distinct keys that sent the page's form during the test. Each variant is compared
with the control by a pooled two-proportion z-test.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from contacts.models import Touchpoint
from content.models import LANGUAGES, Status
from content.services import can_publish, content_save
from conversion.models import ABTest, LandingPage, LandingVariant, landing_pages
from inbound.audit import audit_record
from inbound.lib.errors import DomainError
from inbound.lib.stats import ZTest, two_proportion_z_test

# What a variant may change of its page; an empty value leaves the page's own text.
OVERRIDE_FIELDS = ("title", "summary", "body", "submit_label")
# The normal approximation behind the z-test holds only with at least this many conversions and
# this many non-conversions in each arm; below it no verdict is given.
MIN_OUTCOMES = 5
# Confidence for the whole test. With several variants each comparison is made at
# (1 - CONFIDENCE) / number of variants (Bonferroni), so the chance of crowning a variant that
# is no better stays at 5% however many variants are tried.
CONFIDENCE = 0.95
# The arm id a page view of the control carries in its properties (`variant`).
CONTROL_ID = 0


# --- Selectors ----------------------------------------------------------------------------------


def _variants_ordered() -> Prefetch[Any]:
    return Prefetch("variants", queryset=LandingVariant.objects.order_by("id"))


def running_test(landing_page: LandingPage) -> ABTest | None:
    """The page's running A/B test with its variants (in a fixed order), or None."""
    return (
        ABTest.objects.filter(landing_page=landing_page, ended_at__isnull=True)
        .prefetch_related(_variants_ordered())
        .first()
    )


def abtests_with_variants() -> QuerySet[ABTest]:
    return ABTest.objects.select_related("landing_page", "winner", "declared_by").prefetch_related(
        _variants_ordered()
    )


def _arms(test: ABTest) -> list[tuple[LandingVariant | None, int]]:
    """(variant or None for the control, weight), the control first, variants by id."""
    variants = sorted(test.variants.all(), key=lambda v: v.pk)
    return [(None, test.control_weight), *((v, v.weight) for v in variants)]


# --- Who sees what ------------------------------------------------------------------------------


def variant_for(*, test: ABTest, visitor_key: str) -> LandingVariant | None:
    """The variant this visitor sees (None: the control), the same on every visit.

    `visitor_key` here is a stable keyed hash of the address (`request_ip_hash`, computed per
    request and never stored), not the day's visitor key, so the version does not change at
    midnight. A visitor without a key (the browser sent Global Privacy Control or Do Not
    Track) sees the control and is left out of the test: their views carry no test and they
    record no conversion, so the figures only hold people whose arm we know for certain.
    """
    if not visitor_key:
        return None
    arms = _arms(test)
    total = sum(weight for _variant, weight in arms)
    if total <= 0:
        return None
    digest = hashlib.sha256(f"{test.pk}:{visitor_key}".encode()).digest()
    # 64 bits reduced modulo a total of at most a few hundred: the bias is below 1e-16.
    point = int.from_bytes(digest[:8], "big") % total
    for variant, weight in arms:
        if point < weight:
            return variant
        point -= weight
    return None  # unreachable: the weights add up to `total`


def view_properties(
    *, test: ABTest | None, variant: LandingVariant | None, visitor_key: str
) -> dict[str, int]:
    """What a page view records of the test, so the figures can tell the arms apart."""
    if test is None or not visitor_key:
        return {}
    return {"ab_test": test.pk, "variant": variant.pk if variant is not None else CONTROL_ID}


def landing_shown(page: LandingPage, variant: LandingVariant | None) -> LandingPage:
    """The page as this visitor sees it: a copy with the variant's texts in the active language.

    The copy is only rendered, never saved. Its form is a copy too when the submit button
    changes (the variant's label, else the page's own), so the form itself is left untouched.
    """
    language = get_language()
    shown = copy.copy(page)
    if variant is not None:
        for name in ("title", "summary", "body"):
            value = getattr(variant, f"{name}_{language}", "")
            if value:
                setattr(shown, f"{name}_{language}", value)
    # Read per language: modeltranslation's fallback would put a Spanish label on an English page.
    label = getattr(variant, f"submit_label_{language}", "") if variant is not None else ""
    label = label or getattr(page, f"submit_label_{language}", "") or ""
    if label and page.form is not None:
        form = copy.copy(page.form)
        setattr(form, f"submit_label_{language}", label)
        shown.form = form
    return shown


# --- Statistics ---------------------------------------------------------------------------------


def enough_data(conversions: int, visitors: int) -> bool:
    return conversions >= MIN_OUTCOMES and visitors - conversions >= MIN_OUTCOMES


class Verdict(StrEnum):
    BASELINE = "baseline"
    NOT_ENOUGH_DATA = "not_enough_data"
    NO_DIFFERENCE = "no_difference"
    BETTER = "better"
    WORSE = "worse"


VERDICT_LABELS = {
    Verdict.BASELINE: _("Baseline"),
    Verdict.NOT_ENOUGH_DATA: _("Not enough data yet"),
    Verdict.NO_DIFFERENCE: _("No significant difference yet"),
    Verdict.BETTER: _("Better than the current page (significant at 95%)"),
    Verdict.WORSE: _("Worse than the current page (significant at 95%)"),
}


@dataclass(frozen=True)
class ArmResult:
    variant: LandingVariant | None  # None: the control, the page as it stands
    weight: int
    visitors: int
    conversions: int
    rate: float | None  # conversions / visitors
    lift: float | None  # (rate - control rate) / control rate
    z: float | None
    p_value: float | None
    verdict: Verdict

    @property
    def is_control(self) -> bool:
        return self.variant is None

    @property
    def key(self) -> str:
        """How forms name the arm: "control" or the variant's id."""
        return "control" if self.variant is None else str(self.variant.pk)

    @property
    def rate_percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100

    @property
    def lift_percent(self) -> float | None:
        return None if self.lift is None else self.lift * 100

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.verdict])


@dataclass(frozen=True)
class TestResults:
    test: ABTest
    arms: list[ArmResult]
    alpha: float  # the significance level each variant is compared at

    @property
    def control(self) -> ArmResult:
        return self.arms[0]

    @property
    def total_weight(self) -> int:
        return sum(arm.weight for arm in self.arms)


def _tracked(test: ABTest, kind: str) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(
        kind=kind,
        subject_type=ContentType.objects.get_for_model(LandingPage),
        subject_id=str(test.landing_page_id),
        properties__ab_test=test.pk,
    ).exclude(visitor_key="")


def _arm_counts(test: ABTest, arm_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """(visitors, conversions) per arm id, in two aggregate queries."""
    views = _tracked(test, "page_view")
    seen = views.aggregate(
        **{
            f"arm{arm}": Count("visitor_key", distinct=True, filter=Q(properties__variant=arm))
            for arm in arm_ids
        }
    )
    # Conversions are the anonymous `ab_conversion` rows a submission under the test records
    # (conversion.views_landing), by the same day's visitor key as the views. One counts only
    # for someone counted as a visitor of that arm: this leaves out anyone whose view was not
    # recorded (or who crossed midnight between view and submission), so no arm can show more
    # conversions than visitors.
    sent = _tracked(test, "ab_conversion").aggregate(
        **{
            f"arm{arm}": Count(
                "visitor_key",
                distinct=True,
                filter=Q(properties__variant=arm)
                & Q(visitor_key__in=views.filter(properties__variant=arm).values("visitor_key")),
            )
            for arm in arm_ids
        }
    )
    return (
        {arm: seen[f"arm{arm}"] or 0 for arm in arm_ids},
        {arm: sent[f"arm{arm}"] or 0 for arm in arm_ids},
    )


def _verdict(
    control: tuple[int, int], arm: tuple[int, int], result: ZTest | None, alpha: float
) -> Verdict:
    if not (enough_data(*control) and enough_data(*arm)) or result is None:
        return Verdict.NOT_ENOUGH_DATA
    if result.p_value >= alpha:
        return Verdict.NO_DIFFERENCE
    return Verdict.BETTER if result.z > 0 else Verdict.WORSE


def abtest_results(*, test: ABTest) -> TestResults:
    """Visitors, conversions, rate, lift, z-test and verdict for each arm, the control first."""
    arms = _arms(test)
    arm_ids = [variant.pk if variant is not None else CONTROL_ID for variant, _weight in arms]
    visitors, conversions = _arm_counts(test, arm_ids)
    alpha = (1 - CONFIDENCE) / max(1, len(arms) - 1)
    control_n, control_x = visitors[CONTROL_ID], conversions[CONTROL_ID]
    control_rate = control_x / control_n if control_n else None
    results = []
    for (variant, weight), arm in zip(arms, arm_ids, strict=True):
        n, x = visitors[arm], conversions[arm]
        rate = x / n if n else None
        if variant is None:
            results.append(ArmResult(None, weight, n, x, rate, None, None, None, Verdict.BASELINE))
            continue
        test_result = two_proportion_z_test(
            conversions_a=control_x, visitors_a=control_n, conversions_b=x, visitors_b=n
        )
        lift = (rate - control_rate) / control_rate if rate is not None and control_rate else None
        results.append(
            ArmResult(
                variant=variant,
                weight=weight,
                visitors=n,
                conversions=x,
                rate=rate,
                lift=lift,
                z=test_result.z if test_result else None,
                p_value=test_result.p_value if test_result else None,
                verdict=_verdict((control_x, control_n), (x, n), test_result, alpha),
            )
        )
    return TestResults(test=test, arms=results, alpha=alpha)


# --- Services -----------------------------------------------------------------------------------


@transaction.atomic
def abtest_start(
    *,
    test: ABTest,
    variants: Sequence[LandingVariant],
    actor: Any,
    request: HttpRequest | None = None,
) -> ABTest:
    """Start `test` (unsaved) with its `variants` (unsaved) on its landing page, now.

    Refused when the page already runs a test, has no form to convert with, or no variant is
    given. Audited.
    """
    if not variants:
        raise DomainError(_("Add at least one variant to compare with the current page."))
    # Locking the page serialises two staff starting a test on it at once.
    page = landing_pages().select_for_update().get(pk=test.landing_page_id)
    if ABTest.objects.filter(landing_page=page, ended_at__isnull=True).exists():
        raise DomainError(
            _("This landing page already has a running A/B test: declare its winner first."),
            code="test_running",
        )
    if page.form_id is None:
        raise DomainError(
            _("This landing page has no form: there would be nothing to measure."),
            code="no_form",
        )
    test.landing_page = page
    test.started_at = timezone.now()
    test.ended_at = None
    test.winner = None
    test.declared_by = None
    test.save()
    for variant in variants:
        variant.test = test
        variant.save()
    audit_record(
        action="conversion.abtest_started",
        actor=actor,
        obj=test,
        request=request,
        detail={
            "landing_page": page.pk,
            "control_weight": test.control_weight,
            "variants": [{"id": v.pk, "name": v.name, "weight": v.weight} for v in variants],
        },
    )
    return test


@dataclass(frozen=True)
class PageChange:
    field: str  # e.g. "title"
    label: str  # the field's name for staff
    language: str
    before: str
    after: str


def winner_changes(*, page: LandingPage, winner: LandingVariant | None) -> list[PageChange]:
    """What declaring `winner` would write into the page: each non-empty override that differs."""
    if winner is None:
        return []
    changes = []
    for name in OVERRIDE_FIELDS:
        label = str(getattr(LandingPage._meta.get_field(name), "verbose_name", name))
        for language in LANGUAGES:
            after = getattr(winner, f"{name}_{language}", "") or ""
            before = getattr(page, f"{name}_{language}", "") or ""
            if after and after != before:
                changes.append(PageChange(name, label, language, before, after))
    return changes


@transaction.atomic
def abtest_declare_winner(
    *,
    test: ABTest,
    winner: LandingVariant | None,
    user: Any,
    request: HttpRequest | None = None,
) -> ABTest:
    """End the test with `winner` (None: the control, the page stays as it is).

    A winning variant's non-empty texts, in every language, are written into the landing page
    through the content workflow (a new revision, so it can be undone from the page's history;
    on a published page it takes the publish permission, as any edit of live text does).
    The figures at that moment are kept in the audit entry.
    """
    locked = ABTest.objects.select_for_update().filter(pk=test.pk).first()
    if locked is None:
        raise DomainError(_("This A/B test no longer exists."), code="not_found", status=404)
    if locked.ended_at is not None:
        raise DomainError(
            _("This A/B test has already ended: its winner was declared before."),
            code="already_ended",
            status=409,
        )
    if winner is not None and winner.test_id != locked.pk:
        raise DomainError(_("That variant belongs to another A/B test."), code="invalid")
    page = landing_pages().select_for_update().get(pk=locked.landing_page_id)
    changes = winner_changes(page=page, winner=winner)
    if changes and page.status == Status.PUBLISHED and not can_publish(user, page):
        raise DomainError(
            _("The page is published: only someone who may publish it can put the winner live."),
            code="forbidden",
            status=403,
        )
    figures = abtest_results(test=locked)
    if changes:
        for change in changes:
            setattr(page, f"{change.field}_{change.language}", change.after)
        # Records a revision, audits the edit and drops the page cache after commit.
        content_save(obj=page, actor=user, request=request)
    locked.ended_at = timezone.now()
    locked.winner = winner
    locked.declared_by = user if getattr(user, "is_authenticated", False) else None
    locked.save(update_fields=["ended_at", "winner", "declared_by"])
    audit_record(
        action="conversion.abtest_winner_declared",
        actor=user,
        obj=locked,
        request=request,
        detail={
            "winner": winner.pk if winner is not None else None,
            "winner_name": winner.name if winner is not None else "control",
            "changed": [f"{c.field}_{c.language}" for c in changes],
            "arms": [
                {
                    "variant": arm.variant.pk if arm.variant is not None else None,
                    "visitors": arm.visitors,
                    "conversions": arm.conversions,
                    "p_value": arm.p_value,
                }
                for arm in figures.arms
            ],
        },
    )
    test.refresh_from_db()
    return locked
