"""Who may open what: every admin, /staff/ and /api/v1/ URL × anonymous, each role, a superuser.

The URLs come from Django's resolver, not from a list kept by hand: a new URL fails
`test_every_staff_url_has_an_expectation` until a line of EXPECTED says who may open it, and a
line whose URL is gone fails `test_every_expectation_names_a_url`. The matrix is one test per
visitor (so parallel workers share it out); a mismatch shows as one table of URL × who × method
× expected × got.

The expectations follow the policy of `inbound.roles.ROLE_GRANTS`, written out here on purpose
(deriving them from the grants would test the grants against themselves): Editors write content;
Marketers contacts, conversion, campaigns and workflows; Analysts read those and never take
personal data away (no export, no bulk list of contacts); Administrators everything. Adding a URL's
expectation is one line: `"app:name": page(CRM_READ, of=Model)`, `form(read, write)`,
`action(write)` for a POST-only endpoint; see `tests/inbound/url_matrix.py` for the rules.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import include, path, reverse

from campaigns.models import Campaign
from contacts.models import Contact, ImportJob, Persona, Segment
from content.models import Article, Page, Video
from conversion.models import ABTest, Form, LandingPage, Submission
from inbound.roles import Role
from inbound.urls import urlpatterns as project_urlpatterns
from tests.inbound.url_matrix import (
    ADMINS,
    CONTENT,
    CRM,
    CRM_READ,
    EVERYONE,
    NOBODY,
    STAFF,
    Rule,
    Who,
    action,
    actions,
    admin_model,
    app_index,
    ask,
    cells,
    clients_of,
    form,
    owned,
    page,
    read_only,
    staff_urls,
    users_of,
    world_build,
)
from workflows.models import Enrollment, Workflow


def content_admin(label: str) -> dict[str, Rule]:
    """Publishable content (content.admin.ContentAdmin): the model's URLs and its revisions."""
    name = "admin:{}_{}".format(*label.split("."))
    return {
        **owned(label, view=STAFF, write=CONTENT),
        f"{name}_revision_compare": page(STAFF),
        f"{name}_revision_restore": form(CONTENT, CONTENT),
    }


# One line per URL (or per admin model): who may open it. Keys are `namespace:name`, the route
# for a URL without a name, or `name[value]` for a URL whose argument is one of a fixed list.
EXPECTED: dict[str, Rule] = {
    # --- The admin site -------------------------------------------------------------------
    "admin:index": page(STAFF),
    "admin:login": page(EVERYONE),  # staff already signed in are sent on to the index
    # Signing out is a POST; the admin sends anonymous visitors to its index (then to sign in).
    "admin:logout": action(STAFF, refused_as=frozenset({"302 → /es/admin/"})),
    "admin:password_change": form(STAFF, STAFF),
    "admin:password_change_done": page(STAFF),
    "admin:jsi18n": page(STAFF),
    # Answers for the remote model's admin (the campaign form's segment picker).
    "admin:autocomplete": page(
        CRM_READ, query="app_label=campaigns&model_name=campaign&field_name=segments"
    ),
    "admin:view_on_site": page(STAFF, of=LandingPage),
    # An address the admin does not know: 404 for staff, the login page for anyone else.
    "admin/(?P<url>.*)$": page(NOBODY, refused_as=frozenset({"404"})),
    **app_index("auth", ADMINS),
    **app_index("axes", ADMINS),
    **app_index("inbound", CONTENT),
    **app_index("contacts", STAFF),  # Editors see the topics only
    **app_index("content", STAFF),
    **app_index("conversion", CRM_READ),
    **app_index("campaigns", CRM_READ),
    **app_index("workflows", CRM_READ),
    # --- Accounts, tokens, sign-in attempts, audit: Administrators ------------------------
    **owned("auth.group", view=ADMINS, write=ADMINS),
    **owned("auth.user", view=ADMINS, write=ADMINS),
    "admin:auth_user_password_change": form(ADMINS, ADMINS, of=get_user_model()),
    # Staff credentials: listed, revoked or removed by Administrators; never created for another.
    **admin_model("inbound.apitoken", view=ADMINS, add=NOBODY, change=ADMINS, delete=ADMINS),
    **admin_model(
        "inbound.twofactordevice", view=ADMINS, add=NOBODY, change=ADMINS, delete=ADMINS
    ),
    **admin_model("axes.accessattempt", view=ADMINS, add=NOBODY, change=ADMINS, delete=ADMINS),
    **admin_model("axes.accesslog", view=ADMINS, add=NOBODY, change=ADMINS, delete=ADMINS),
    **admin_model(
        "axes.accessfailurelog", view=ADMINS, add=NOBODY, change=ADMINS, delete=ADMINS
    ),
    **read_only("inbound.auditentry", ADMINS),
    # --- Legal texts: Editors change them, Administrators add and delete ------------------
    **admin_model("inbound.legalpage", view=CONTENT, add=ADMINS, change=CONTENT, delete=ADMINS),
    # One statement per site: once it exists, nobody adds another.
    **admin_model(
        "inbound.accessibilitystatement", view=CONTENT, add=NOBODY, change=CONTENT, delete=ADMINS
    ),
    # --- Contacts (the CRM): Marketers; Analysts read ------------------------------------
    **owned("contacts.contact", view=CRM_READ, write=CRM),
    **owned("contacts.topic", view=STAFF, write=CRM),  # Editors tag content with topics
    **owned("contacts.tag", view=CRM_READ, write=CRM),
    **owned("contacts.contactproperty", view=CRM_READ, write=CRM),
    # An import is a record of what came in: "add" opens the upload page; nobody edits one.
    **admin_model("contacts.importjob", view=CRM_READ, add=CRM, change=NOBODY, delete=NOBODY),
    **owned("contacts.persona", view=CRM_READ, write=CRM),
    **owned("contacts.segment", view=CRM_READ, write=CRM),
    "contacts_imports:import-upload": form(CRM, CRM),
    "contacts_imports:import-mapping": form(CRM, CRM, of=ImportJob),
    "contacts_imports:import-detail": page(CRM, of=ImportJob),
    "contacts_imports:import-errors": page(CRM, of=ImportJob),  # citizens' addresses
    "contacts_imports:segment-export-csv": page(CRM, of=Segment),  # an export
    "contacts_imports:segment-export-xlsx": page(CRM, of=Segment),  # an export
    "contacts_personas:persona-list": page(CRM_READ),
    "contacts_personas:persona-detail": page(CRM_READ, of=Persona),
    "contacts_segments:segment-count": action(CRM_READ),  # reads: a count as rules are typed
    # --- Content: Editors; everyone on the staff reads -----------------------------------
    **content_admin("content.article"),
    **content_admin("content.page"),
    **content_admin("content.faq"),
    **content_admin("content.video"),
    "admin:content_article_seo_checklist": action(CONTENT),
    "admin:content_article_seo_checklist_change": action(CONTENT, of=Article),
    **owned("content.contentimage", view=STAFF, write=CONTENT),
    "admin:content_contentimage_picker": page(STAFF),
    # Queries that look like personal data are stored redacted (content.search).
    "content_staff:search-gaps": page(STAFF),
    "content_staff:search-gaps-csv": page(STAFF),
    "content_staff:search-top-csv": page(STAFF),
    # --- Conversion: Marketers; Analysts read --------------------------------------------
    **owned("conversion.form", view=CRM_READ, write=CRM),
    **owned("conversion.calltoaction", view=CRM_READ, write=CRM),
    **owned("conversion.landingpage", view=CRM_READ, write=CRM),
    "admin:conversion_landingpage_revision_compare": page(CRM_READ),
    "admin:conversion_landingpage_revision_restore": form(CRM, CRM),
    **owned("conversion.abtest", view=CRM_READ, write=CRM),  # while it runs
    **read_only("conversion.submission", CRM_READ),
    **read_only("conversion.sideeffect", CRM_READ),
    "conversion_staff:overview": page(CRM_READ),
    "conversion_staff:submissions": page(CRM_READ),
    "conversion_staff:submissions-csv": page(CRM),  # an export
    "conversion_staff:submission": page(CRM_READ, of=Submission),
    "conversion_staff:abtest": page(CRM_READ, of=ABTest),
    "conversion_staff:abtest-declare": form(CRM, CRM, of=ABTest, query="winner=control"),
    # --- Campaigns and workflows: Marketers; Analysts read -------------------------------
    **owned("campaigns.email", view=CRM_READ, write=CRM),
    **owned("campaigns.campaign", view=CRM_READ, write=CRM),
    **owned("campaigns.sender", view=CRM_READ, write=CRM),
    **owned("workflows.workflow", view=CRM_READ, write=CRM),  # paused: an active one is kept
    **read_only("campaigns.bulletinitem", CRM_READ),
    **read_only("workflows.enrollment", CRM_READ),
    **read_only("workflows.steprun", CRM_READ),
    "campaigns_staff:campaign": page(CRM_READ, of=Campaign),
    "campaigns_staff:preview": page(CRM_READ, of=Campaign),
    "campaigns_staff:progress": page(CRM_READ, of=Campaign),
    "campaigns_staff:report": page(CRM_READ, of=Campaign),
    "campaigns_staff:report-csv": page(CRM_READ, of=Campaign),  # aggregates only
    "campaigns_staff:test-send": action(CRM, of=Campaign),
    "campaigns_staff:send": action(CRM, of=Campaign),
    "campaigns_staff:schedule": action(CRM, of=Campaign),
    "campaigns_staff:pause": action(CRM, of=Campaign),
    "campaigns_staff:resume": action(CRM, of=Campaign),
    "campaigns_staff:cancel": action(CRM, of=Campaign),
    "workflows_staff:list": page(CRM_READ),
    "workflows_staff:workflow": page(CRM_READ, of=Workflow),
    "workflows_staff:activate": action(CRM, of=Workflow),
    "workflows_staff:pause": action(CRM, of=Workflow),
    "workflows_staff:resume": action(CRM, of=Workflow),
    "workflows_staff:enrol": action(CRM, of=Workflow),
    "workflows_staff:test": action(CRM, of=Workflow),
    "workflows_staff:enrollment_remove": action(CRM, of=Enrollment),
    "conversion_staff:proposal-decide": action(CRM, of=Contact),
    # --- API ------------------------------------------------------------------------------
    "api:me": page(STAFF),
    # Each member's own two-step device and API tokens.
    "staff_account:two-factor": form(STAFF, STAFF),
    "staff_account:api-tokens": form(STAFF, STAFF),
    "contacts_api:contact-count": page(CRM_READ),
    "contacts_api:touchpoints": action(CRM),
    # Listing contacts or a segment's members takes personal data away: the export permission.
    "contacts_api:contact-list": form(CRM, CRM),
    "contacts_api:contact-detail": form(CRM_READ, CRM, of=Contact, method="patch"),
    "contacts_api:topic-list": page(STAFF),
    "contacts_api:segment-list": page(CRM_READ),
    "contacts_api:segment-detail": page(CRM_READ, of=Segment),
    "contacts_api:segment-count": page(CRM_READ, of=Segment),
    "contacts_api:segment-members": page(CRM, of=Segment),
    "content_api:article-list": page(EVERYONE),
    "content_api:article-detail": page(EVERYONE, of=Article),
    "content_api:page-list": page(EVERYONE),
    "content_api:page-detail": page(EVERYONE, of=Page),
    "content_api:faq-list": page(EVERYONE),
    "content_api:video-list": page(EVERYONE),
    "content_api:video-detail": page(EVERYONE, of=Video),
    "content_api:staff-article-list": form(CONTENT, CONTENT),
    "content_api:staff-article-detail": form(CONTENT, CONTENT, of=Article, method="patch"),
    "conversion_api:form-detail": page(EVERYONE, of=Form),
    "conversion_api:form-submissions": action(EVERYONE, of=Form),
}


PUBLISHING = ("submit_for_review", "publish", "unpublish")  # content.admin.ContentAdmin

# The admin's actions are POSTs to a changelist: who is offered each one, among those who may
# open that list. Keys are `app_label.model:action`.
ACTIONS: dict[str, frozenset[Who]] = {
    **actions("auth.group", ADMINS, "delete_selected"),
    **actions("auth.user", ADMINS, "delete_selected"),
    **actions("axes.accessattempt", ADMINS, "delete_selected", "cleanup_expired_attempts"),
    **actions("axes.accesslog", ADMINS, "delete_selected"),
    **actions("axes.accessfailurelog", ADMINS, "delete_selected"),
    **actions("inbound.legalpage", ADMINS, "delete_selected"),
    **actions("inbound.apitoken", ADMINS, "delete_selected"),
    **actions("inbound.twofactordevice", ADMINS, "delete_selected"),
    **actions("inbound.accessibilitystatement", ADMINS, "delete_selected"),
    # Exports and data downloads take personal data away: never Analysts.
    **actions("contacts.contact", CRM, "delete_selected", "contacts_merge", "contacts_add_to_list"),
    **actions("contacts.contact", CRM, "contacts_anonymise", "contacts_data_download"),
    **actions("contacts.contact", CRM, "contacts_data_link_send"),
    **actions("contacts.contact", CRM, "contacts_export_csv", "contacts_export_xlsx"),
    **actions("contacts.topic", CRM, "delete_selected"),
    **actions("contacts.tag", CRM, "delete_selected"),
    **actions("contacts.contactproperty", CRM, "delete_selected"),
    **actions("contacts.persona", CRM, "delete_selected"),
    **actions("contacts.segment", CRM, "delete_selected", "take_snapshot"),  # a snapshot is a write
    **actions("content.article", CONTENT, "delete_selected", *PUBLISHING),
    **actions("content.page", CONTENT, "delete_selected", *PUBLISHING),
    **actions("content.faq", CONTENT, "delete_selected", *PUBLISHING),
    **actions("content.video", CONTENT, "delete_selected", *PUBLISHING),
    **actions("conversion.abtest", CRM, "delete_selected"),
    **actions("conversion.landingpage", CRM, "delete_selected", *PUBLISHING),
    **actions("conversion.calltoaction", CRM, "delete_selected"),
    **actions("conversion.form", CRM, "delete_selected"),
    **actions("conversion.sideeffect", CRM, "retry_now"),
    **actions("workflows.workflow", CRM, "delete_selected"),
    **actions("campaigns.email", CRM, "delete_selected"),
    **actions("campaigns.campaign", CRM, "delete_selected"),
    **actions("campaigns.sender", CRM, "delete_selected", "resend_verification"),
}


def test_every_staff_url_has_an_expectation() -> None:
    missing = sorted({url.key for url in staff_urls()} - EXPECTED.keys())
    assert not missing, (
        "URLs without an expectation; add a line to EXPECTED in tests/inbound/test_url_matrix.py "
        "saying who may open them:\n  " + "\n  ".join(missing)
    )


def _new_report(request: HttpRequest) -> HttpResponse:
    return HttpResponse("figures")


# The project's URLs plus a staff page nobody wrote an expectation for, as a new feature adds one.
urlpatterns = [
    *project_urlpatterns,
    path("staff/reports/", include(([path("new/", _new_report, name="new")], "reports_staff"))),
]


@pytest.mark.urls(__name__)
def test_a_new_staff_url_without_an_expectation_is_caught() -> None:
    assert {url.key for url in staff_urls()} - EXPECTED.keys() == {"reports_staff:new"}


def test_every_expectation_names_a_url() -> None:
    gone = sorted(EXPECTED.keys() - {url.key for url in staff_urls()})
    assert not gone, "Expectations for URLs that no longer exist:\n  " + "\n  ".join(gone)


@pytest.mark.django_db
@pytest.mark.parametrize("visitor", list(Who), ids=str)
def test_every_staff_url_answers_each_visitor_as_the_policy_says(
    visitor: Who, personas: dict[Role, Any], tmp_path: Any, settings: Any
) -> None:
    """One visitor's row of the matrix per test, so that parallel runs share the matrix out."""
    settings.MEDIA_ROOT = str(tmp_path)  # where the content image is written
    world_build(marketer=personas[Role.MARKETER], editor=personas[Role.EDITOR])
    clients = {visitor: clients_of(personas)[visitor]}
    logging.disable(logging.ERROR)  # thousands of expected 403s and 404s
    try:
        matrix = list(cells(EXPECTED, clients))
    finally:
        logging.disable(logging.NOTSET)
    gets = [cell for cell in matrix if cell.method == "GET"]
    print(
        f"role × URL matrix: {len(gets) // len(clients)} URLs × {len(clients)} visitors = "
        f"{len(gets)} GETs, and {len(matrix) - len(gets)} writes by visitors who may not"
    )
    wrong = [cell for cell in matrix if not cell.ok]
    assert not wrong, f"{len(wrong)} of {len(matrix)} requests differ from EXPECTED:\n" + "\n".join(
        f"  {c.url:<48} {c.who:<13} {c.method:<5} expected {c.expected:<24} got {c.got}"
        for c in wrong
    )


@pytest.mark.django_db
def test_the_matrix_posts_are_refused_for_their_permission_not_their_csrf_token(
    personas: dict[Role, Any],
) -> None:
    """The matrix's clients pass the CSRF check where the permission lets them through (the
    count behind the segment editor, a batch of touchpoints), and fail it without the token."""
    clients = clients_of(personas)
    analyst, analyst_token = clients[Who.ANALYST]
    count = reverse("contacts_segments:segment-count")
    assert ask(analyst, "post", count, analyst_token) == "200"
    assert analyst.post(count, {"kind": "static"}).status_code == 403
    marketer, marketer_token = clients[Who.MARKETER]
    touchpoints = reverse("contacts_api:touchpoints")
    assert ask(marketer, "post", touchpoints, marketer_token) == "400"  # not a list of rows
    assert marketer.post(touchpoints, {}).status_code == 403


@pytest.mark.django_db
def test_every_admin_action_is_offered_as_the_policy_says(personas: dict[Role, Any]) -> None:
    """Who is offered each admin action, among those who may open its list; a new action
    without a line in ACTIONS fails here too."""
    offered: dict[str, set[Who]] = {}
    for who, user in users_of(personas).items():
        request = RequestFactory().post("/")
        request.user = user
        for model, model_admin in admin.site._registry.items():
            if not model_admin.has_view_or_change_permission(request):
                continue  # the list itself answers 403
            for name in model_admin.get_actions(request):
                offered.setdefault(f"{model._meta.label_lower}:{name}", set()).add(who)
    def named(who: Any) -> str:
        return ", ".join(sorted(w.value for w in who)) or "nobody"

    wrong = [
        f"  {key:<45} expected {named(ACTIONS[key]) if key in ACTIONS else 'a line in ACTIONS'}"
        f"; got {named(offered.get(key, ()))}"
        for key in sorted(offered.keys() | ACTIONS.keys())
        if offered.get(key, set()) != ACTIONS.get(key)
    ]
    assert not wrong, "Admin actions offered otherwise than ACTIONS says:\n" + "\n".join(wrong)
