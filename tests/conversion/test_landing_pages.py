"""Landing pages: what citizens see, sending the form from them, SEO, page views and rates."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Touchpoint
from contacts.services import touchpoint_record
from content.models import Status
from conversion.models import LandingPage, Submission
from conversion.stats import Rate, conversion_rates
from inbound.celery import app as celery_app
from inbound.visitors import salt_of_today
from tests.conversion.landing_factories import (
    LandingPageFactory,
    answers,
    gated_page,
    landing_url,
    live,
    private_in_tmp,  # noqa: F401 -- a fixture
    simple_form,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_in_tmp")]


@pytest.fixture
def eager_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the tracking task in-process, through the same `delay` path."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def tracked(eager_celery: None, django_capture_on_commit_callbacks: Any) -> Any:
    """Run what a request queues on commit (the tracking task), in-process."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def page_with_form(**values: Any) -> LandingPage:
    return LandingPageFactory(form=simple_form(), **live(**values))


def views_of(obj: Any) -> list[Touchpoint]:
    return list(Touchpoint.objects.filter(kind="page_view", subject_id=str(obj.pk)))


# --- What citizens see ---------------------------------------------------------------------------


def test_a_live_landing_page_shows_its_title_body_and_form(client: Client) -> None:
    page = page_with_form()

    response = client.get(landing_url(page))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<h1 id="landing-title">{page.title_en}</h1>' in html
    assert "Requirements, deadlines and documents." in html
    assert '<form method="post"' in html
    assert 'name="email"' in html
    assert "Basic information on data protection" in html


@pytest.mark.parametrize(
    "values",
    [
        {"status": Status.DRAFT, "published_at": None},
        {"status": Status.IN_REVIEW, "published_at": None},
        {"published_at": None, "publish_at": timezone.now() + dt.timedelta(days=1)},
    ],
    ids=["draft", "in-review", "scheduled"],
)
def test_a_landing_page_that_is_not_live_is_not_found(
    client: Client, values: dict[str, Any]
) -> None:
    page = page_with_form(**values)

    assert client.get(landing_url(page)).status_code == 404


def test_an_unknown_landing_page_is_not_found(client: Client) -> None:
    assert client.get("/en/take-part/no-such-page/").status_code == 404


def test_a_page_without_an_english_translation_is_not_found_in_english(client: Client) -> None:
    page = page_with_form(title_en="", slug_en="")

    assert client.get(landing_url(page, language="es")).status_code == 200
    assert client.get(f"/en/take-part/{page.slug_es}/").status_code == 404


def test_another_languages_slug_is_not_found(client: Client) -> None:
    page = page_with_form()

    assert client.get(f"/en/take-part/{page.slug_es}/").status_code == 404


def test_the_page_has_canonical_og_description_and_breadcrumb_json_ld(client: Client) -> None:
    page = page_with_form(meta_description_en="Get the free rental aid guide.")

    html = client.get(landing_url(page)).content.decode()

    assert f'<link rel="canonical" href="http://testserver/en/take-part/{page.slug_en}/">' in html
    assert '<meta name="description" content="Get the free rental aid guide.">' in html
    assert '<meta property="og:description" content="Get the free rental aid guide.">' in html
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    types = [json.loads(block)["@type"] for block in blocks]
    assert "BreadcrumbList" in types


def test_hreflang_lists_only_the_languages_the_page_is_written_in(client: Client) -> None:
    page = page_with_form()

    html = client.get(landing_url(page)).content.decode()

    assert re.findall(r'hreflang="(\w+(?:-\w+)?)" href=', html) == ["es", "en", "x-default"]


def test_the_landing_page_is_never_page_cached(client: Client) -> None:
    page = page_with_form()

    response = client.get(landing_url(page))

    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert response.cookies.get("csrftoken") is not None


def test_the_landing_page_runs_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    page = page_with_form()
    salt_of_today()  # the first request of the day anywhere makes the visitors' salt, once

    with django_assert_max_num_queries(8):
        response = client.get(landing_url(page))
    assert response.status_code == 200


# --- Sending the form from a landing page --------------------------------------------------------


def test_sending_stores_a_submission_attributed_to_the_landing_page(client: Client) -> None:
    page = page_with_form()

    response = client.post(landing_url(page), answers())

    assert response.status_code == 302
    [submission] = Submission.objects.all()
    assert submission.landing_page == page
    assert submission.form == page.form
    assert submission.values["email"] == "lucia.vecina@correo.example"
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you! Your guide is ready." in thanks.content.decode()


def test_a_landing_page_without_its_own_message_thanks_with_the_forms(client: Client) -> None:
    page = page_with_form(thanks_message_es="", thanks_message_en="")

    response = client.post(landing_url(page), answers(), follow=True)

    assert "Thank you!" in response.content.decode()


def test_errors_are_shown_on_the_landing_page_and_nothing_is_stored(client: Client) -> None:
    page = page_with_form()

    response = client.post(landing_url(page), answers(email="not an address"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Please correct the following:" in html
    assert page.title_en in html
    assert Submission.objects.count() == 0


def test_a_landing_pages_internal_redirect_is_followed(client: Client) -> None:
    page = page_with_form(redirect_path="/en/news/")

    response = client.post(landing_url(page), answers())

    assert response.status_code == 302
    assert response["Location"] == "/en/news/"


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_an_external_redirect_cannot_be_saved(target: str) -> None:
    page = page_with_form()
    page.redirect_path = target

    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "redirect_path" in error.value.message_dict


def test_a_landing_page_whose_form_is_not_published_shows_no_form(client: Client) -> None:
    page = page_with_form()
    page.form.status = "draft"
    page.form.save()

    response = client.get(landing_url(page))

    assert response.status_code == 200
    assert '<form method="post"' not in response.content.decode()
    assert client.post(landing_url(page), answers()).status_code == 404
    assert Submission.objects.count() == 0


def test_a_landing_page_cannot_be_published_without_a_form(admin_user: Any) -> None:
    from content.services import content_publish
    from inbound.lib.errors import DomainError

    page = LandingPageFactory()

    with pytest.raises(DomainError):
        content_publish(obj=page, actor=admin_user)
    page.refresh_from_db()
    assert page.status == Status.DRAFT


# --- Page views and conversion rates -------------------------------------------------------------


def test_each_view_of_a_landing_page_records_an_anonymous_page_view(
    client: Client, tracked: Any
) -> None:
    page = page_with_form()

    with tracked():
        client.get(landing_url(page), REMOTE_ADDR="203.0.113.9")

    [view] = views_of(page)
    assert view.contact is None
    assert view.visitor_key != ""
    assert view.stage == "attract"
    assert view.subject_type.model == "landingpage"


def test_do_not_track_records_the_view_without_a_visitor_key(client: Client, tracked: Any) -> None:
    page = page_with_form()

    with tracked():
        client.get(landing_url(page), HTTP_SEC_GPC="1")

    [view] = views_of(page)
    assert view.visitor_key == ""


def test_a_form_page_view_is_recorded_for_the_form(client: Client, tracked: Any) -> None:
    form = simple_form()

    with tracked():
        client.get(f"/en/forms/{form.slug}/")

    [view] = views_of(form)
    assert view.subject_type.model == "form"


def test_the_page_is_served_when_the_broker_is_down(
    client: Client, broker_down: None, django_capture_on_commit_callbacks: Any
) -> None:
    page = page_with_form()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(landing_url(page))

    assert len(callbacks) == 1  # the enqueue ran, and met the refused connection

    assert response.status_code == 200
    assert views_of(page) == []


def test_conversion_rates_count_views_and_submissions_per_page(client: Client) -> None:
    busy, quiet = page_with_form(), page_with_form()
    for _ in range(4):
        touchpoint_record(kind="page_view", subject=busy)
    touchpoint_record(kind="page_view", subject=quiet)
    client.post(landing_url(busy), answers())

    rates = conversion_rates([busy, quiet])

    assert rates[busy.pk] == Rate(views=4, submissions=1, rate=0.25)
    assert rates[quiet.pk] == Rate(views=1, submissions=0, rate=0.0)


def test_conversion_rates_of_forms_count_every_submission_of_the_form(client: Client) -> None:
    page = page_with_form()
    touchpoint_record(kind="page_view", subject=page.form)
    touchpoint_record(kind="page_view", subject=page.form)
    client.post(landing_url(page), answers())

    assert conversion_rates([page.form]) == {page.form.pk: Rate(2, 1, 0.5)}


def test_conversion_rates_since_leave_out_older_rows(client: Client) -> None:
    page = page_with_form()
    touchpoint_record(
        kind="page_view", subject=page, occurred_at=timezone.now() - dt.timedelta(days=40)
    )
    touchpoint_record(kind="page_view", subject=page)

    rates = conversion_rates([page], since=timezone.now() - dt.timedelta(days=30))

    assert rates[page.pk] == Rate(views=1, submissions=0, rate=0.0)


def test_a_page_never_viewed_has_no_rate() -> None:
    page = page_with_form()

    assert conversion_rates([page])[page.pk] == Rate(views=0, submissions=0, rate=None)


def test_conversion_rates_take_two_queries_whatever_the_number_of_pages(
    django_assert_max_num_queries: Any,
) -> None:
    pages = [page_with_form() for _ in range(5)]
    conversion_rates(pages[:1])  # the content type is cached from now on

    with django_assert_max_num_queries(2):
        conversion_rates(pages)


def test_the_gated_page_tells_what_the_form_gives(client: Client) -> None:
    page = gated_page()

    html = client.get(landing_url(page)).content.decode()

    assert "Rental guide" in html


# --- Staff ---------------------------------------------------------------------------------------


def test_the_landing_page_and_form_changelists_show_conversion_rates(
    client: Client, admin_user: Any
) -> None:
    page = page_with_form()
    for _ in range(4):
        touchpoint_record(kind="page_view", subject=page)
        touchpoint_record(kind="page_view", subject=page.form)
    client.post(landing_url(page), answers())
    client.force_login(admin_user)

    pages = client.get("/en/admin/conversion/landingpage/").content.decode()
    forms = client.get("/en/admin/conversion/form/").content.decode()

    assert "4 / 1 (25.0%)" in pages
    assert "4 / 1 (25.0%)" in forms


def test_a_publisher_publishes_a_landing_page_from_the_admin(client: Client, marketer: Any) -> None:
    from django.contrib.auth.models import Permission

    marketer.user_permissions.add(Permission.objects.get(codename="publish_landingpage"))
    page = LandingPageFactory(form=simple_form())
    client.force_login(marketer)

    response = client.post(
        "/en/admin/conversion/landingpage/",
        {"action": "publish", "_selected_action": [page.pk]},
    )

    assert response.status_code == 302
    page.refresh_from_db()
    assert page.is_live
    assert client.get(landing_url(page)).status_code == 200


def test_without_the_publish_permission_a_landing_page_stays_a_draft(client: Client) -> None:
    from django.contrib.auth.models import Permission

    from tests.factories import StaffFactory

    page = LandingPageFactory(form=simple_form())
    writer = StaffFactory(username="writer")
    writer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="conversion",
            codename__in=["view_landingpage", "change_landingpage"],
        )
    )
    client.force_login(writer)

    client.post(
        "/en/admin/conversion/landingpage/",
        {"action": "publish", "_selected_action": [page.pk]},
    )

    page.refresh_from_db()
    assert page.status == Status.DRAFT


def test_marketers_publish_landing_pages(client: Client, marketer: Any) -> None:
    page = LandingPageFactory(form=simple_form())
    client.force_login(marketer)

    client.post(
        "/en/admin/conversion/landingpage/",
        {"action": "publish", "_selected_action": [page.pk]},
    )

    page.refresh_from_db()
    assert page.status == Status.PUBLISHED


# --- Demo ----------------------------------------------------------------------------------------


def test_the_demo_seeds_three_live_landing_pages_and_ctas_in_articles_once(
    client: Client,
) -> None:
    from conversion.demo import conversion_demo_seed
    from conversion.models import CallToAction, validate_gated_asset
    from tests.content.factories import ArticleFactory

    article = ArticleFactory(**live(slug_es="ayudas-alquiler-jovenes-familias"))

    assert conversion_demo_seed() == 1
    assert conversion_demo_seed() == 0

    pages = LandingPage.objects.live()
    assert sorted(pages.values_list("slug_es", flat=True)) == [
        "boletin-movilidad",
        "guia-ayudas-alquiler-joven",
        "plan-de-barrio-san-blas",
    ]
    for page in pages:
        page.full_clean()
        assert client.get(landing_url(page, language="es")).status_code == 200
    guide = pages.get(slug_es="guia-ayudas-alquiler-joven")
    with guide.gated_asset.open("rb") as pdf:
        validate_gated_asset(pdf)
    assert CallToAction.objects.count() == 3
    article.refresh_from_db()
    with translation.override("es"):
        article_url = reverse("content:article-detail", kwargs={"slug": article.slug_es})
    assert article.body_es.count("[[cta:guia-alquiler-joven]]") == 1
    html = client.get(article_url).content.decode()
    cta = CallToAction.objects.get(name="guia-alquiler-joven")
    with translation.override("es"):
        assert reverse("conversion:cta-click", kwargs={"pk": cta.pk}) in html


def test_a_scheduled_landing_page_goes_live_when_its_time_comes(client: Client) -> None:
    from content.services import content_publish_due

    page = page_with_form(published_at=None, publish_at=timezone.now() - dt.timedelta(minutes=1))
    assert client.get(landing_url(page)).status_code == 404

    assert content_publish_due() == 1

    assert client.get(landing_url(page)).status_code == 200
