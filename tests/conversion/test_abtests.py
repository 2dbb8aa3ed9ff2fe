"""A/B tests of landing pages: sticky arms without cookies, the figures and z-test per arm,
declaring a winner, the staff pages and the admin."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Touchpoint
from contacts.services import TouchpointIn, touchpoints_record_bulk
from content.models import Revision
from conversion.abtests import (
    Verdict,
    abtest_declare_winner,
    abtest_results,
    running_test,
    two_proportion_z_test,
    variant_for,
)
from conversion.models import ABTest, LandingPage, LandingVariant, Submission
from inbound.celery import app as celery_app
from inbound.lib.errors import DomainError
from inbound.lib.privacy import ip_hash
from inbound.models import AuditEntry
from inbound.visitors import salt_memo_forget
from tests.conversion.landing_factories import (
    LandingPageFactory,
    answers,
    landing_url,
    live,
    simple_form,
)
from tests.conversion.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any) -> Any:
    """Run the tracking task a request queues on commit, in-process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


def page_with_form(**values: Any) -> LandingPage:
    return LandingPageFactory(
        form=simple_form(),
        title_es="Muévete informado",
        title_en="Get around, well informed",
        **live(**values),
    )


def start_test(
    page: LandingPage, *, control_weight: int = 50, weights: tuple[int, ...] = (50,)
) -> ABTest:
    test = ABTest.objects.create(
        landing_page=page,
        name="Titular corto",
        control_weight=control_weight,
        started_at=timezone.now() - dt.timedelta(days=7),
    )
    for number, weight in enumerate(weights, start=1):
        LandingVariant.objects.create(
            test=test,
            name=f"Variante {number}",
            weight=weight,
            title_es=f"Tu barrio sin sorpresas {number}",
            title_en=f"Your area, no surprises {number}",
            summary_en=f"Short summary {number}",
            submit_label_es="Lo quiero",
            submit_label_en="I want it",
        )
    found = running_test(page)
    assert found is not None
    return found


def keys(count: int, prefix: str = "visitor") -> list[str]:
    return [ip_hash(f"{prefix}-{n}") for n in range(count)]


def address_on(test: ABTest, variant: LandingVariant | None) -> str:
    """An IP address whose visitor key lands on `variant` (None: the control)."""
    for n in range(1, 255):
        address = f"10.0.0.{n}"
        if variant_for(test=test, visitor_key=ip_hash(address)) == variant:
            return address
    raise AssertionError("no address maps to that arm")


def seen(test: ABTest, variant: LandingVariant | None, visitor_keys: list[str]) -> None:
    """Record page views of an arm as the landing page view does."""
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(
                kind="page_view",
                visitor_key=key,
                subject=test.landing_page,
                properties={"ab_test": test.pk, "variant": variant.pk if variant else 0},
            )
            for key in visitor_keys
        ]
    )


def sent(
    test: ABTest, variant: LandingVariant | None, visitor_keys: list[str], *, test_id: int = 0
) -> None:
    """Record the anonymous conversions of an arm as sending the landing page's form does."""
    touchpoints_record_bulk(
        rows=[
            TouchpointIn(
                kind="ab_conversion",
                visitor_key=key,
                subject=test.landing_page,
                properties={"ab_test": test_id or test.pk, "variant": variant.pk if variant else 0},
            )
            for key in visitor_keys
        ]
    )


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def results_url(test: ABTest) -> str:
    return f"/en/staff/conversion/ab-tests/{test.pk}/"


def declare_url(test: ABTest) -> str:
    return f"/en/staff/conversion/ab-tests/{test.pk}/declare/"


# --- Who sees which arm ------------------------------------------------------------------------


def test_a_visitor_always_sees_the_same_arm() -> None:
    test = start_test(page_with_form(), weights=(30, 20))
    again = ABTest.objects.prefetch_related("variants").get(pk=test.pk)

    first = [variant_for(test=test, visitor_key=key) for key in keys(300)]
    second = [variant_for(test=again, visitor_key=key) for key in keys(300)]

    assert first == second
    assert len(set(first)) == 3  # every arm gets visitors


def test_the_split_follows_the_weights() -> None:
    test = start_test(page_with_form(), control_weight=20, weights=(30, 50))
    one, two = test.variants.order_by("id")

    shares = Counter(variant_for(test=test, visitor_key=key) for key in keys(10_000))

    assert shares[None] == pytest.approx(2_000, abs=200)
    assert shares[one] == pytest.approx(3_000, abs=200)
    assert shares[two] == pytest.approx(5_000, abs=200)


def test_a_control_weight_of_zero_sends_every_visitor_to_the_variants() -> None:
    test = start_test(page_with_form(), control_weight=0)

    assert all(variant_for(test=test, visitor_key=key) is not None for key in keys(200))


def test_the_same_visitor_is_split_afresh_in_another_test() -> None:
    first = start_test(page_with_form())
    second = start_test(page_with_form())

    arms_first = [variant_for(test=first, visitor_key=k) is None for k in keys(200)]
    arms_second = [variant_for(test=second, visitor_key=k) is None for k in keys(200)]

    assert arms_first != arms_second


# --- The landing page under a test ---------------------------------------------------------------


def test_the_page_shows_the_variant_to_a_visitor_whose_key_maps_to_it(tracked: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = Client(REMOTE_ADDR=address_on(test, variant))

    with tracked():
        html = client.get(landing_url(test.landing_page)).content.decode()

    assert '<h1 id="landing-title">Your area, no surprises 1</h1>' in html
    assert "Short summary 1" in html
    assert '<button type="submit">I want it</button>' in html
    assert "Requirements, deadlines and documents." in html  # the body is not overridden
    view = Touchpoint.objects.get(kind="page_view")
    assert view.properties["ab_test"] == test.pk
    assert view.properties["variant"] == variant.pk


def test_the_page_shows_itself_to_a_visitor_on_the_control(tracked: Any) -> None:
    test = start_test(page_with_form())
    client = Client(REMOTE_ADDR=address_on(test, None))

    with tracked():
        html = client.get(landing_url(test.landing_page)).content.decode()

    assert '<h1 id="landing-title">Get around, well informed</h1>' in html
    assert "I want it" not in html
    assert Touchpoint.objects.get(kind="page_view").properties["variant"] == 0


def test_a_variant_without_an_english_title_keeps_the_page_title_in_english() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    LandingVariant.objects.filter(pk=variant.pk).update(title_en="")
    client = Client(REMOTE_ADDR=address_on(test, variant))

    html = client.get(landing_url(test.landing_page)).content.decode()

    assert '<h1 id="landing-title">Get around, well informed</h1>' in html
    assert "Tu barrio" not in html


def test_sending_the_form_from_the_variant_records_it_on_the_submission() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = Client(REMOTE_ADDR=address_on(test, variant))
    url = landing_url(test.landing_page)

    response = client.post(url, answers())

    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.variant == variant
    assert submission.landing_page == test.landing_page
    from conversion.outbox import effects_due

    effects_due()  # applied by the relay (a form without double opt-in here, or not confirmed)
    touchpoints = Touchpoint.objects.filter(kind="form_submit")
    if not touchpoints.exists():
        from conversion.services import optin_confirm, optin_token

        optin_confirm(optin_token(submission))
    assert touchpoints.get().properties["variant"] == variant.pk


def test_a_visitor_who_views_then_sends_counts_as_a_conversion_of_their_arm(
    tracked: Any,
) -> None:
    """The conversion is an anonymous row with the day's key: the submission keeps none."""
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = Client(REMOTE_ADDR=address_on(test, variant))
    url = landing_url(test.landing_page)

    with tracked():
        client.get(url)
        client.post(url, answers())

    assert Submission.objects.get().visitor_key == ""
    conversion = Touchpoint.objects.get(kind="ab_conversion")
    assert conversion.contact is None and conversion.visitor_key != ""
    assert conversion.properties == {"ab_test": test.pk, "variant": variant.pk, "language": "en"}
    control, challenger = abtest_results(test=test).arms
    assert (control.visitors, control.conversions) == (0, 0)
    assert (challenger.visitors, challenger.conversions) == (1, 1)


def test_a_visitor_sees_the_same_version_on_another_day() -> None:
    """The arm comes from a hash of the address computed per request, not the day's key."""
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = Client(REMOTE_ADDR=address_on(test, variant))
    url = landing_url(test.landing_page)
    shown = []
    for day in range(7):
        with time_machine.travel(timezone.now() + dt.timedelta(days=day), tick=False):
            salt_memo_forget()
            shown.append("Your area, no surprises" in client.get(url).content.decode())

    assert shown == [True] * 7


def test_sending_the_form_from_the_control_records_no_variant() -> None:
    test = start_test(page_with_form())
    client = Client(REMOTE_ADDR=address_on(test, None))

    client.post(landing_url(test.landing_page), answers())

    assert Submission.objects.get().variant is None


def test_a_visitor_asking_not_to_be_tracked_sees_the_control_and_is_not_counted(
    tracked: Any,
) -> None:
    # Every visitor with a key would see the variant: only the missing key explains the control.
    test = start_test(page_with_form(), control_weight=0)
    client = Client(REMOTE_ADDR="10.0.0.7", headers={"Sec-GPC": "1"})
    url = landing_url(test.landing_page)

    with tracked():
        html = client.get(url).content.decode()
    client.post(url, answers())

    assert '<h1 id="landing-title">Get around, well informed</h1>' in html
    view = Touchpoint.objects.get(kind="page_view")
    assert "ab_test" not in view.properties and view.visitor_key == ""
    assert Submission.objects.get().variant is None
    figures = abtest_results(test=test)
    assert [(arm.visitors, arm.conversions) for arm in figures.arms] == [(0, 0), (0, 0)]


def test_without_a_running_test_the_page_records_plain_views(tracked: Any) -> None:
    test = start_test(page_with_form())
    ABTest.objects.filter(pk=test.pk).update(ended_at=timezone.now())

    with tracked():
        html = Client().get(landing_url(test.landing_page)).content.decode()

    assert "Get around, well informed" in html
    assert "ab_test" not in Touchpoint.objects.get(kind="page_view").properties


def test_the_pages_own_submit_label_replaces_the_forms() -> None:
    page = page_with_form(submit_label_en="Send me the guide")

    html = Client().get(landing_url(page)).content.decode()

    assert '<button type="submit">Send me the guide</button>' in html


# --- Statistics ----------------------------------------------------------------------------------


def test_the_z_test_matches_a_hand_computed_example() -> None:
    # p = 450/2000 = 0.225; se = sqrt(0.225 * 0.775 * (2/1000)) = 0.018675; z = 0.05 / se.
    result = two_proportion_z_test(
        conversions_a=200, visitors_a=1000, conversions_b=250, visitors_b=1000
    )

    assert result is not None
    assert result.z == pytest.approx(2.6774, abs=1e-4)
    assert result.p_value == pytest.approx(0.00742, abs=1e-5)


def test_the_z_test_is_symmetric_and_undefined_without_variation() -> None:
    worse = two_proportion_z_test(
        conversions_a=250, visitors_a=1000, conversions_b=200, visitors_b=1000
    )
    assert worse is not None and worse.z == pytest.approx(-2.6774, abs=1e-4)
    assert (
        two_proportion_z_test(conversions_a=0, visitors_a=10, conversions_b=0, visitors_b=10)
        is None
    )
    assert (
        two_proportion_z_test(conversions_a=1, visitors_a=0, conversions_b=0, visitors_b=10) is None
    )


def test_the_figures_count_distinct_visitors_and_their_conversions_per_arm() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    control_keys, variant_keys = keys(1000, "control"), keys(1000, "variant")
    seen(test, None, control_keys)
    seen(test, None, control_keys[:100])  # coming back is not a new visitor
    seen(test, variant, variant_keys)
    sent(test, None, control_keys[:200])
    sent(test, None, control_keys[:10])  # a second submission is not a second conversion
    sent(test, variant, variant_keys[:250])
    sent(test, variant, keys(40, "never-counted-as-visitor"))
    sent(test, None, control_keys[200:300], test_id=test.pk + 1000)  # another test's

    control, challenger = abtest_results(test=test).arms

    assert (control.visitors, control.conversions) == (1000, 200)
    assert (challenger.visitors, challenger.conversions) == (1000, 250)
    assert challenger.rate == pytest.approx(0.25)
    assert challenger.lift == pytest.approx(0.25)
    assert challenger.p_value == pytest.approx(0.00742, abs=1e-5)
    assert control.verdict == Verdict.BASELINE
    assert challenger.verdict == Verdict.BETTER


def test_views_outside_the_test_or_of_another_page_do_not_count() -> None:
    test = start_test(page_with_form())
    other = start_test(page_with_form())
    seen(other, None, keys(20))
    touchpoints_record_bulk(
        rows=[
            *(
                TouchpointIn(kind="page_view", visitor_key=key, subject=test.landing_page)
                for key in keys(20)
            ),
            *(
                TouchpointIn(
                    kind="page_view",
                    visitor_key=key,
                    subject=other.landing_page,
                    properties={"ab_test": test.pk, "variant": 0},
                )
                for key in keys(20)
            ),
        ]
    )

    assert abtest_results(test=test).control.visitors == 0


def test_small_samples_get_no_verdict() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    control_keys, variant_keys = keys(100, "c"), keys(100, "v")
    seen(test, None, control_keys)
    seen(test, variant, variant_keys)
    sent(test, None, control_keys[:4])  # 4 conversions: below the rule of five
    sent(test, variant, variant_keys[:40])

    challenger = abtest_results(test=test).arms[1]

    assert challenger.p_value is not None
    assert challenger.verdict == Verdict.NOT_ENOUGH_DATA
    assert challenger.verdict_label == "Aún no hay datos suficientes"


def test_a_small_difference_is_not_significant() -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    control_keys, variant_keys = keys(500, "c"), keys(500, "v")
    seen(test, None, control_keys)
    seen(test, variant, variant_keys)
    sent(test, None, control_keys[:50])
    sent(test, variant, variant_keys[:55])

    assert abtest_results(test=test).arms[1].verdict == Verdict.NO_DIFFERENCE


def test_several_variants_are_each_held_to_a_stricter_level() -> None:
    # p ≈ 0.04 passes at 95% with one variant but not at 97.5% each with two (Bonferroni).
    test = start_test(page_with_form(), weights=(50, 50))
    one, two = test.variants.order_by("id")
    control_keys, one_keys, two_keys = keys(1000, "c"), keys(1000, "a"), keys(1000, "b")
    seen(test, None, control_keys)
    seen(test, one, one_keys)
    seen(test, two, two_keys)
    sent(test, None, control_keys[:200])
    sent(test, one, one_keys[:237])
    sent(test, two, two_keys[:200])

    figures = abtest_results(test=test)

    assert figures.arms[1].p_value == pytest.approx(0.047, abs=0.005)
    assert figures.alpha == pytest.approx(0.025)
    assert figures.arms[1].verdict == Verdict.NO_DIFFERENCE


# --- Declaring the winner ------------------------------------------------------------------------


def test_declaring_a_variant_copies_its_texts_into_the_page_and_ends_the_test(
    marketer: Any,
) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    LandingVariant.objects.filter(pk=variant.pk).update(body_es="<p>Cada semana, en tu correo.</p>")
    variant.refresh_from_db()
    page = test.landing_page

    abtest_declare_winner(test=test, winner=variant, user=marketer)

    page.refresh_from_db()
    assert page.title_es == "Tu barrio sin sorpresas 1"
    assert page.title_en == "Your area, no surprises 1"
    assert page.summary_en == "Short summary 1"
    assert page.summary_es == "Todo sobre las ayudas."  # empty override: unchanged
    assert page.body_es == "<p>Cada semana, en tu correo.</p>"
    assert page.body_en == "<p>Requirements, deadlines and documents.</p>"
    assert page.submit_label_en == "I want it"
    test.refresh_from_db()
    assert test.ended_at is not None and test.winner == variant and test.declared_by == marketer
    assert running_test(page) is None
    assert Revision.objects.filter(object_id=page.pk).exists()
    entry = AuditEntry.objects.get(action="conversion.abtest_winner_declared")
    assert entry.detail["winner"] == variant.pk
    assert "title_es" in entry.detail["changed"]


def test_after_the_winner_is_declared_every_visitor_sees_its_texts(marketer: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    address = address_on(test, None)

    abtest_declare_winner(test=test, winner=variant, user=marketer)
    html = Client(REMOTE_ADDR=address).get(landing_url(test.landing_page)).content.decode()

    assert '<h1 id="landing-title">Your area, no surprises 1</h1>' in html
    assert '<button type="submit">I want it</button>' in html


def test_when_the_control_wins_the_page_stays_as_it_is(marketer: Any) -> None:
    test = start_test(page_with_form())
    page = test.landing_page

    abtest_declare_winner(test=test, winner=None, user=marketer)

    page.refresh_from_db()
    assert page.title_en == "Get around, well informed"
    test.refresh_from_db()
    assert test.ended_at is not None and test.winner is None
    assert not Revision.objects.filter(object_id=page.pk).exists()


def test_declaring_twice_is_refused_and_changes_nothing(marketer: Any, admin_user: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    abtest_declare_winner(test=test, winner=None, user=marketer)
    test.refresh_from_db()
    ended_at = test.ended_at

    with pytest.raises(DomainError, match="ya ha finalizado"):
        abtest_declare_winner(test=test, winner=variant, user=admin_user)

    test.refresh_from_db()
    assert test.ended_at == ended_at and test.winner is None and test.declared_by == marketer
    assert LandingPage.objects.get(pk=test.landing_page_id).title_en == "Get around, well informed"
    assert AuditEntry.objects.filter(action="conversion.abtest_winner_declared").count() == 1


def test_a_variant_of_another_test_cannot_win() -> None:
    test = start_test(page_with_form())
    stranger = start_test(page_with_form()).variants.get()

    with pytest.raises(DomainError):
        abtest_declare_winner(test=test, winner=stranger, user=None)
    test.refresh_from_db()
    assert test.is_running


# --- Staff pages ---------------------------------------------------------------------------------


def figures_for(test: ABTest) -> None:
    variant = test.variants.get()
    control_keys, variant_keys = keys(1000, "c"), keys(1000, "v")
    seen(test, None, control_keys)
    seen(test, variant, variant_keys)
    sent(test, None, control_keys[:200])
    sent(test, variant, variant_keys[:250])


def test_the_results_page_shows_each_arm_with_its_figures_and_verdict(analyst: Any) -> None:
    test = start_test(page_with_form())
    figures_for(test)

    response = logged_in(analyst).get(results_url(test))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="col">p-value</th>' in html
    assert "Current page (control)" in html and "Variante 1" in html
    assert "<td>1000</td>" in html and "<td>250</td>" in html
    assert "<td>25.0 %</td>" in html and "<td>+25.0 %</td>" in html
    assert "<td>0.0074</td>" in html
    assert "Better than the current page (significant at 95%)" in html
    assert "Declare the winner" not in html  # analysts may not


def test_the_results_page_offers_the_marketer_to_declare_the_winner(marketer: Any) -> None:
    test = start_test(page_with_form())

    html = logged_in(marketer).get(results_url(test)).content.decode()

    assert "Not enough data yet" in html
    assert f"{declare_url(test)}?winner=control" in html
    assert f"{declare_url(test)}?winner={test.variants.get().pk}" in html


def test_the_confirmation_shows_what_changes_and_changes_nothing(marketer: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()

    response = logged_in(marketer).get(declare_url(test), {"winner": variant.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Your area, no surprises 1" in html
    assert "Get around, well informed" in html  # the title now, next to the new one
    assert 'name="csrfmiddlewaretoken"' in html
    test.refresh_from_db()
    assert test.is_running


def test_a_marketer_declares_the_winner_from_the_results_page(marketer: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = logged_in(marketer)

    response = client.post(declare_url(test), {"winner": variant.pk}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == results_url(test)
    assert "“Variante 1” won and the page now shows its texts." in html
    assert "(winner)" in html
    assert LandingPage.objects.get(pk=test.landing_page_id).title_en == (
        "Your area, no surprises 1"
    )


def test_declaring_again_from_the_page_says_why_and_changes_nothing(marketer: Any) -> None:
    test = start_test(page_with_form())
    variant = test.variants.get()
    client = logged_in(marketer)
    client.post(declare_url(test), {"winner": "control"})

    response = client.post(declare_url(test), {"winner": variant.pk}, follow=True)

    assert "This A/B test has already ended" in response.content.decode()
    test.refresh_from_db()
    assert test.winner is None
    assert LandingPage.objects.get(pk=test.landing_page_id).title_en == (
        "Get around, well informed"
    )


def test_an_unknown_arm_is_not_found(marketer: Any) -> None:
    test = start_test(page_with_form())
    stranger = start_test(page_with_form()).variants.get()

    client = logged_in(marketer)
    assert client.get(declare_url(test), {"winner": stranger.pk}).status_code == 404
    assert client.post(declare_url(test), {"winner": "nonsense"}).status_code == 404


def test_an_analyst_may_not_declare_the_winner(analyst: Any) -> None:
    test = start_test(page_with_form())
    client = logged_in(analyst)

    assert client.get(declare_url(test), {"winner": "control"}).status_code == 403
    assert client.post(declare_url(test), {"winner": "control"}).status_code == 403
    test.refresh_from_db()
    assert test.is_running


def test_anonymous_people_are_sent_to_log_in_and_editors_are_refused(editor: Any) -> None:
    test = start_test(page_with_form())

    assert Client().get(results_url(test)).status_code == 302
    assert Client().post(declare_url(test), {"winner": "control"}).status_code == 302
    assert logged_in(editor).get(results_url(test)).status_code == 403
    test.refresh_from_db()
    assert test.is_running


def test_declaring_needs_a_csrf_token(marketer: Any) -> None:
    test = start_test(page_with_form())
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)

    assert client.post(declare_url(test), {"winner": "control"}).status_code == 403
    test.refresh_from_db()
    assert test.is_running


def test_the_overview_links_to_the_tests(marketer: Any) -> None:
    test = start_test(page_with_form())

    html = logged_in(marketer).get("/en/staff/conversion/").content.decode()

    assert f'<a href="{results_url(test)}">Titular corto</a>' in html


# --- Admin ---------------------------------------------------------------------------------------


def test_a_marketer_starts_a_test_with_a_variant_in_the_admin(marketer: Any) -> None:
    page = page_with_form()
    client = logged_in(marketer)
    url = reverse("admin:conversion_abtest_add") + f"?landing_page={page.pk}"
    data = change_form_data(client, url)
    data.update(
        {
            "name": "Botón más claro",
            "control_weight": "50",
            "variants-0-name": "Botón directo",
            "variants-0-weight": "50",
            "variants-0-submit_label_es": "Apúntame",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    test = ABTest.objects.get()
    assert test.landing_page == page and test.is_running
    assert test.variants.get().submit_label_es == "Apúntame"
    assert AuditEntry.objects.filter(action="conversion.abtest_started").exists()


def test_the_admin_refuses_a_second_running_test_on_a_page(marketer: Any) -> None:
    page = page_with_form()
    start_test(page)
    client = logged_in(marketer)
    url = reverse("admin:conversion_abtest_add") + f"?landing_page={page.pk}"
    data = change_form_data(client, url)
    data.update({"name": "Otra", "variants-0-name": "B", "variants-0-weight": "50"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "ya tiene una prueba A/B en curso" in response.content.decode()
    assert ABTest.objects.count() == 1


def test_the_admin_refuses_a_test_without_variants(marketer: Any) -> None:
    page = page_with_form()
    client = logged_in(marketer)
    url = reverse("admin:conversion_abtest_add") + f"?landing_page={page.pk}"
    data = change_form_data(client, url)
    data.update({"name": "Sin variantes", "variants-TOTAL_FORMS": "0"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Añade al menos una variante para compararla con la página actual." in (
        response.content.decode()
    )
    assert not ABTest.objects.exists()


def test_weights_are_fixed_once_a_test_runs(marketer: Any) -> None:
    test = start_test(page_with_form())
    client = logged_in(marketer)
    url = reverse("admin:conversion_abtest_change", args=[test.pk])
    data = change_form_data(client, url)

    assert "control_weight" not in data
    assert not any(name.endswith("-weight") for name in data)
    data[next(k for k in data if k.endswith("-title_es"))] = "Corregido"
    assert client.post(url, data).status_code == 302
    assert test.variants.get().title_es == "Corregido"


def test_the_landing_page_admin_links_to_its_tests(marketer: Any) -> None:
    test = start_test(page_with_form())

    html = (
        logged_in(marketer)
        .get(reverse("admin:conversion_landingpage_change", args=[test.landing_page_id]))
        .content.decode()
    )

    assert reverse("conversion_staff:abtest", kwargs={"pk": test.pk}) in html


# --- Demo ----------------------------------------------------------------------------------------


def test_the_demo_runs_a_test_on_the_mobility_page_with_figures() -> None:
    from conversion.demo import conversion_demo_seed

    conversion_demo_seed()
    conversion_demo_seed()

    test = ABTest.objects.get()
    assert test.landing_page.slug_es == "boletin-movilidad" and test.is_running
    control, variant = abtest_results(test=test).arms
    assert control.visitors > 300 and variant.visitors > 300
    assert 0 < control.conversions < variant.conversions
