"""Staff pages of an A/B test: its results per arm, and declaring the winner.

Seeing the results needs `conversion.view_abtest` (Marketer, Analyst, Administrator); declaring
the winner ends the test and may rewrite the landing page, so it needs `conversion.change_abtest`
(not Analysts) and asks for confirmation on a page of its own that shows what will change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from conversion.abtests import (
    MIN_OUTCOMES,
    abtest_declare_winner,
    abtest_results,
    abtests_with_variants,
    winner_changes,
)
from conversion.models import ABTest, LandingVariant
from inbound.lib.errors import DomainError

VIEW_PERMISSION = "conversion.view_abtest"
DECLARE_PERMISSION = "conversion.change_abtest"
CONTROL = "control"


def _test(request: HttpRequest, pk: int, permission: str) -> ABTest:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    test: ABTest = get_object_or_404(abtests_with_variants(), pk=pk)
    return test


def _results_url(test: ABTest) -> str:
    return reverse("conversion_staff:abtest", kwargs={"pk": test.pk})


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


@never_cache
@login_required
@require_GET
def abtest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    test = _test(request, pk, VIEW_PERMISSION)
    results = abtest_results(test=test)
    context = _context(
        request,
        _("A/B test: %(name)s") % {"name": test.name},
        test=test,
        results=results,
        confidence_per_comparison=round((1 - results.alpha) * 100, 2),
        min_outcomes=MIN_OUTCOMES,
        may_declare=test.is_running and request.user.has_perm(DECLARE_PERMISSION),
        may_edit=request.user.has_perm(DECLARE_PERMISSION),
        winner_key=None if test.is_running else (str(test.winner_id or CONTROL)),
    )
    return render(request, "conversion/staff/abtest.html", context)


def _winner(test: ABTest, key: str) -> LandingVariant | None:
    """The arm named by `key` ("control" or a variant id of this test); Http404 otherwise."""
    if key == CONTROL:
        return None
    for variant in test.variants.all():
        if str(variant.pk) == key:
            return variant
    raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def abtest_declare(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows what declaring this winner changes; only the POST declares it."""
    test = _test(request, pk, DECLARE_PERMISSION)
    key = (request.POST if request.method == "POST" else request.GET).get("winner", "")
    winner = _winner(test, key)
    if request.method == "POST":
        try:
            abtest_declare_winner(test=test, winner=winner, user=request.user, request=request)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            if winner is None:
                messages.success(
                    request,
                    _("The test has ended: the current page won and stays as it is."),
                )
            else:
                messages.success(
                    request,
                    _("The test has ended: “%(name)s” won and the page now shows its texts.")
                    % {"name": winner.name},
                )
        return HttpResponseRedirect(_results_url(test))
    if not test.is_running:
        messages.info(
            request, _("This A/B test has already ended: its winner was declared before.")
        )
        return HttpResponseRedirect(_results_url(test))
    context = _context(
        request,
        _("Declare the winner of “%(name)s”") % {"name": test.name},
        test=test,
        winner=winner,
        winner_key=key,
        changes=winner_changes(page=test.landing_page, winner=winner),
    )
    return render(request, "conversion/staff/abtest_declare.html", context)
