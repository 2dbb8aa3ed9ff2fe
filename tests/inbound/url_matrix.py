"""The machinery of the role × URL matrix (tests/inbound/test_url_matrix.py holds the table).

The URLs come from Django's resolver, each filled with rows `world_build` creates; a client per
kind of visitor asks for each one and `cells` says, per request, what was expected and what came
back. Only the table says who may do what: nothing here knows a role's permissions.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import LocalePrefixPattern
from django.utils import timezone

from inbound.roles import Role
from tests.factories import StaffFactory

SCOPE = ("admin/", "staff/", "api/v1/")


class Who(StrEnum):
    ANONYMOUS = "anonymous"
    EDITOR = Role.EDITOR.value
    MARKETER = Role.MARKETER.value
    ANALYST = Role.ANALYST.value
    ADMINISTRATOR = Role.ADMINISTRATOR.value
    SUPERUSER = "superuser"


NOBODY: frozenset[Who] = frozenset()
ADMINS = frozenset({Who.ADMINISTRATOR, Who.SUPERUSER})
STAFF = ADMINS | {Who.EDITOR, Who.MARKETER, Who.ANALYST}
EVERYONE = STAFF | {Who.ANONYMOUS}
CONTENT = ADMINS | {Who.EDITOR}  # write content (ROLE_GRANTS: Editor)
CRM = ADMINS | {Who.MARKETER}  # write contacts, conversion, campaigns; export personal data
CRM_READ = CRM | {Who.ANALYST}  # read them (Analyst: read-only)


@dataclass(frozen=True)
class Rule:
    """Who may open a URL with GET (`read`) and who may change something through it (`write`).

    Everyone outside `write` is also sent a POST (`method`) with a valid CSRF token, which must
    be refused; `write=None` means there is nothing to change there, so no POST is tried.
    `post_only`: a GET answers 405 (or a refusal, where the permission is checked first).
    `of`: the model whose first row fills the URL's <pk>/<slug>/<object_id>.
    `refused_as`: answers that also count as a refusal there (the admin's app index answers
    404 to staff who may see none of its models).
    """

    read: frozenset[Who]
    write: frozenset[Who] | None = None
    post_only: bool = False
    of: type[Model] | None = None
    query: str = ""
    method: str = "post"
    refused_as: frozenset[str] = frozenset()


def page(read: frozenset[Who], **options: Any) -> Rule:
    return Rule(read=read, **options)


def form(read: frozenset[Who], write: frozenset[Who], **options: Any) -> Rule:
    return Rule(read=read, write=write, **options)


def action(write: frozenset[Who], **options: Any) -> Rule:
    return Rule(read=NOBODY, write=write, post_only=True, **options)


def admin_model(
    label: str,
    *,
    view: frozenset[Who],
    add: frozenset[Who],
    change: frozenset[Who],
    delete: frozenset[Who],
) -> dict[str, Rule]:
    """The URLs the admin makes for one model. Viewing covers the list, the (read-only) change
    form and the history; the bare object URL only redirects staff to the change form."""
    app_label, model_name = label.split(".")
    name = f"admin:{app_label}_{model_name}"
    readers = view | change
    return {
        f"{name}_changelist": page(readers),
        f"{name}_add": form(add, add),
        f"{name}_change": form(readers, change),
        f"{name}_history": page(readers),
        f"{name}_delete": form(delete, delete),
        f"admin/{app_label}/{model_name}/<path:object_id>/": page(STAFF),
    }


def owned(label: str, *, view: frozenset[Who], write: frozenset[Who]) -> dict[str, Rule]:
    return admin_model(label, view=view, add=write, change=write, delete=write)


def read_only(label: str, view: frozenset[Who]) -> dict[str, Rule]:
    """Evidence and history (inbound.lib.admin.ReadOnlyAdmin): nobody adds, edits or deletes."""
    return admin_model(label, view=view, add=NOBODY, change=NOBODY, delete=NOBODY)


def app_index(label: str, readers: frozenset[Who]) -> dict[str, Rule]:
    return {f"admin:app_list[{label}]": page(readers, refused_as=frozenset({"404"}))}


def actions(label: str, who: frozenset[Who], *names: str) -> dict[str, frozenset[Who]]:
    return {f"{label}:{name}": who for name in names}


# --- The URLs, from the resolver ---------------------------------------------------------------

CONVERTER = re.compile(r"(?<!\?P)<(?:\w+:)?(\w+)>")  # <int:pk>, not the (?P<pk>…) of a regex
GROUP = re.compile(r"\(\?P<(\w+)>([^)]*)\)")
CHOICES = re.compile(r"\w+(?:\|\w+)+")


@dataclass(frozen=True)
class Url:
    key: str  # what the table is keyed by
    route: str  # the full route, language prefix included
    fixed: dict[str, str] = field(default_factory=dict)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


def _patterns(
    entries: list[Any], route: str = "", shown: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, str, URLPattern]]:
    for entry in entries:
        piece = str(entry.pattern)
        local = isinstance(entry.pattern, LocalePrefixPattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _patterns(
                entry.url_patterns, route + piece, shown if local else shown + piece, inner
            )
        else:
            yield route + piece, shown + piece, namespace, entry


def staff_urls() -> list[Url]:
    """Every URL under /admin/, /staff/ and /api/v1/, keyed by `namespace:name` (the route, for
    a URL without a name); one per word where an argument can only be one of a few words (the
    admin's index of an app: `admin:app_list[contacts]`)."""
    urls = []
    for route, shown, namespace, pattern in _patterns(get_resolver().url_patterns):
        if not shown.startswith(SCOPE):
            continue
        key = shown
        if pattern.name:
            key = f"{namespace}:{pattern.name}" if namespace else pattern.name
        choices = [(n, body) for n, body in GROUP.findall(route) if CHOICES.fullmatch(body)]
        if choices:
            name, body = choices[0]
            urls.extend(Url(f"{key}[{word}]", route, {name: word}) for word in body.split("|"))
        else:
            urls.append(Url(key, route))
    return urls


def _admin_model(route: str) -> type[Model] | None:
    if "admin/" not in route:
        return None
    parts = route.split("admin/", 1)[1].split("/")
    for model in admin.site._registry:
        if parts[:2] == [model._meta.app_label, model._meta.model_name]:
            return model
    return None


@dataclass(frozen=True)
class Target:
    path: str
    placeholder: bool  # no row to name: allowed visitors may get a 404


def target(url: Url, rule: Rule) -> Target:
    """A concrete path for the URL: its arguments filled with the first row of its model (the
    admin's model, or the rule's `of`), checked to resolve back to the same URL."""
    from content.revisions import revisions_for

    model = _admin_model(url.route) or rule.of
    obj = model._default_manager.order_by("pk").first() if model else None
    values: dict[str, str] = dict(url.fixed)
    placeholder = False
    for name in CONVERTER.findall(url.route) + [name for name, _ in GROUP.findall(url.route)]:
        if name in values:
            continue
        if name == "url":  # the admin's catch-all
            values[name] = "nothing-here/"
        elif model is None:
            raise AssertionError(f"{url.key}: nothing fills <{name}>: give its rule `of=`")
        elif name == "content_type_id":
            values[name] = str(ContentType.objects.get_for_model(model).pk)
        elif name == "revision_id":
            revision = revisions_for(obj).first() if obj else None
            values[name] = str(revision.pk) if revision else "0"
            placeholder = placeholder or revision is None
        elif obj is None:
            values[name], placeholder = "0", True
        else:
            values[name] = str(getattr(obj, "slug" if name == "slug" else "pk"))
    path = CONVERTER.sub(lambda m: values[m[1]], url.route)
    path = "/" + GROUP.sub(lambda m: values[m[1]], path).replace("^", "").replace("$", "")
    found = resolve(path).route
    # The resolver reports regex routes without their leading `^`.
    assert found.replace("^", "") == url.route.replace("^", ""), f"{url.key}: {path} is {found}"
    return Target(path + (f"?{rule.query}" if rule.query else ""), placeholder)


# --- The world the URLs point into -------------------------------------------------------------


def world_build(*, marketer: Any, editor: Any) -> None:
    """One row of every model the admin shows and the staff URLs name (the first by id is the
    one the URLs use), in the states where the admin lets its owners change and delete it."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.core.files.base import ContentFile
    from PIL import Image
    from rest_framework.authtoken.models import Token

    from campaigns.models import BulletinItem, Campaign, Email, Sender
    from contacts.models import Contact, ContactProperty, ImportJob, Persona, Segment, Tag
    from content.models import ContentImage, Status
    from content.revisions import revision_record
    from conversion.models import ABTest, LandingVariant, SideEffect, Submission
    from inbound.audit import audit_record
    from inbound.models import AccessibilityStatement, LegalPage
    from tests.contacts.factories import ContactFactory, TopicFactory, grant
    from tests.content.factories import ArticleFactory, FAQFactory, PageFactory, VideoFactory
    from tests.conversion.landing_factories import (
        CallToActionFactory,
        LandingPageFactory,
        live,
        simple_form,
    )
    from workflows.engine import enrollments_run
    from workflows.models import Workflow, WorkflowStep
    from workflows.services import enrol_contacts, workflow_activate, workflow_pause

    now = timezone.now()
    if apps.is_installed("rest_framework.authtoken"):
        Token.objects.create(user=marketer)
    if apps.is_installed("knox"):
        from django_otp.plugins.otp_totp.models import TOTPDevice
        from knox.models import AuthToken

        # Someone the matrix does not sign in as: a device would ask the signed-in for its code.
        owner = get_user_model().objects.create(username="credentials-owner", is_staff=True)
        AuthToken.objects.create(user=owner)
        TOTPDevice.objects.create(user=owner, name="móvil", confirmed=True)
    attempt = {
        "user_agent": "Firefox",
        "ip_address": "2001:10::1",
        # Nobody the matrix signs in as: a sign-in resets its own name's attempts.
        "username": "someone-else",
        "http_accept": "text/html",
        "path_info": "/es/admin/login/",
    }
    AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt)
    audit_record(action="matrix_checked", actor=marketer)
    LegalPage.objects.create(
        kind=LegalPage.Kind.PRIVACY, language="es", title="Privacidad", body="<p>Sus datos.</p>"
    )
    AccessibilityStatement.objects.create(
        compliance=AccessibilityStatement.Compliance.PARTIAL,
        prepared_on=dt.date(2026, 1, 15),
        method=AccessibilityStatement.Method.SELF,
        reviewed_on=dt.date(2026, 1, 15),
        contact_email="accesibilidad@villaclara.example",
        responsible_unit="Unidad de Accesibilidad",
    )

    topic = TopicFactory()
    contact = ContactFactory()
    grant(contact)
    Tag.objects.create(name="vecina")
    ContactProperty.objects.create(key="barrio", label="Barrio")
    ImportJob.objects.create(
        original_name="lista.csv",
        mapping={"0": "email"},
        legal_basis="consent",
        status=ImportJob.Status.DONE,
        created_by=marketer,
        finished_at=now,
    )
    Persona.objects.create(name="Familias jóvenes")
    segment = Segment.objects.create(name="Vecinas", kind=Segment.Kind.STATIC)
    segment.members.add(contact)

    published = {"status": Status.PUBLISHED, "publish_at": now, "published_at": now}
    article = ArticleFactory(**published)
    article.topics.add(topic)
    for item in (article, PageFactory(**published), FAQFactory(**published)):
        revision_record(obj=item, author=editor)
    revision_record(obj=VideoFactory(**published), author=editor)
    picture = io.BytesIO()
    Image.new("RGB", (8, 6), "white").save(picture, "PNG")
    image = ContentImage(alt_text="La biblioteca por dentro", uploaded_by=editor)
    image.image.save("biblioteca.png", ContentFile(picture.getvalue()), save=True)

    landing = LandingPageFactory(form=simple_form(), **live())
    revision_record(obj=landing, author=marketer)
    CallToActionFactory()
    running = ABTest.objects.create(landing_page=landing, name="Titular corto")
    LandingVariant.objects.create(test=running, name="Variante 1", weight=50, title_es="Otro")
    submission = Submission.objects.create(
        form=landing.form,
        form_version=1,
        contact=contact,
        language="es",
        values={"email": contact.email},
        idempotency_key="matrix",
    )
    SideEffect.objects.create(submission=submission, kind=SideEffect.Kind.OPTIN_EMAIL)

    sender = Sender.objects.create(name="Ayuntamiento", email="boletin@villaclara.example")
    email = Email.objects.create(
        name="Fiestas", subject_es="Fiestas de San Blas", body_es="<p>Hola.</p>", sender=sender
    )
    campaign = Campaign.objects.create(name="Fiestas", email=email)
    campaign.segments.add(segment)
    BulletinItem.objects.create(
        topic=topic,
        content_type=ContentType.objects.get_for_model(article),
        object_id=article.pk,
        title=article.title_es,
        url="https://villaclara.example/es/",
        published_at=now,
    )
    workflow = Workflow.objects.create(name="Bienvenida")
    WorkflowStep.objects.create(
        workflow=workflow, order=0, key="tag", kind=WorkflowStep.Kind.UPDATE_CONTACT, tag="nuevo"
    )
    WorkflowStep.objects.create(
        workflow=workflow, order=1, key="wait", kind=WorkflowStep.Kind.WAIT, wait_days=3
    )
    workflow_activate(workflow=workflow, by=None)
    enrol_contacts(
        workflow=workflow, contacts=Contact.objects.filter(pk=contact.pk), trigger_key="manual:1"
    )
    while enrollments_run(now=timezone.now()):  # a step run, and an enrolment waiting
        pass
    workflow_pause(workflow=workflow, by=None)  # an active workflow cannot be deleted


# --- Asking, and judging the answer ----------------------------------------------------------


def users_of(personas: dict[Role, Any]) -> dict[Who, Any]:
    """The staff visitors: the four roles' personas and a superuser."""
    users: dict[Who, Any] = {Who(role.value): user for role, user in personas.items()}
    users[Who.SUPERUSER] = StaffFactory(username="root", is_superuser=True)
    return users


def clients_of(personas: dict[Role, Any]) -> dict[Who, tuple[Client, str]]:
    """A client per kind of visitor, each with a valid CSRF cookie and the token that goes
    with it, so a refused POST is refused for its permission, not for a missing token."""
    users = users_of(personas)
    clients = {}
    for who in Who:
        client = Client(enforce_csrf_checks=True)
        if who in users:
            client.force_login(users[who])
        request = RequestFactory().get("/")
        token = get_token(request)
        client.cookies[settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
        clients[who] = (client, token)
    return clients


def _answer(response: Any) -> str:
    """'200', '403', 'login' (a redirect to sign in), '302 → /es/admin/' (any other redirect)."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return str(response.status_code)
    location = urlsplit(response["Location"]).path
    if location == reverse("admin:login"):
        return "login"
    return f"{response.status_code} → {location}"


def ask(client: Client, method: str, path: str, token: str) -> str:
    """The answer to one request; a POST or PATCH is rolled back, so one that should have been
    refused and was not changes nothing the next requests look at. A crash is an answer too."""
    try:
        if method == "get":
            return _answer(client.get(path))
        with transaction.atomic():
            if method == "post":
                data = {"csrfmiddlewaretoken": token}
                response = client.post(path, data, HTTP_X_CSRFTOKEN=token)
            else:
                response = getattr(client, method)(
                    path, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
                )
            transaction.set_rollback(True)
        return _answer(response)
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"[:120]


def _refusals(who: Who, url: Url, rule: Rule) -> set[str]:
    if who is Who.ANONYMOUS:
        return ({"401", "403"} if url.is_api else {"login"}) | rule.refused_as
    return {"403"} | rule.refused_as


def _let_in(answer: str, placeholder: bool) -> bool:
    if placeholder and answer in {"404", "302 → /es/admin/"}:  # the admin: "does not exist"
        return True
    return answer == "200" or (answer[:1] == "3" and answer != "login")


@dataclass(frozen=True)
class Cell:
    url: str
    who: Who
    method: str
    expected: str
    got: str
    ok: bool


def cells(table: dict[str, Rule], clients: dict[Who, tuple[Client, str]]) -> Iterator[Cell]:
    """Every request of the matrix: each URL in the table with GET by every visitor, then a
    POST (or the rule's method) by every visitor outside its `write`."""
    for url in staff_urls():
        rule = table.get(url.key)
        if rule is None:
            continue  # test_every_staff_url_has_an_expectation names it
        where = target(url, rule)
        for who, (client, token) in clients.items():
            got = ask(client, "get", where.path, token)
            refused = _refusals(who, url, rule)
            if rule.post_only:
                expected = {"405"} if rule.write and who in rule.write else {"405"} | refused
                yield Cell(url.key, who, "GET", " or ".join(sorted(expected)), got, got in expected)
            elif who in rule.read:
                ok = _let_in(got, where.placeholder)
                yield Cell(url.key, who, "GET", "let in (200, a redirect)", got, ok)
            else:
                yield Cell(url.key, who, "GET", " or ".join(sorted(refused)), got, got in refused)
            if rule.write is None or who in rule.write:
                continue
            if who is Who.ANONYMOUS:
                refused |= {"login", "403"}  # a POST may be refused without the trip to sign in
            got = ask(client, rule.method, where.path, token)
            method = rule.method.upper()
            yield Cell(url.key, who, method, " or ".join(sorted(refused)), got, got in refused)
