"""What one public submission costs the database, so that it cannot creep back up: a single
statement on PostgreSQL (the submission, its idempotency and tombstone checks, its outbox row),
with the published form read from the process's cache. SQLite (the embedded default of
`make run`) takes the ORM path in one transaction, pinned too."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contacts.models import Tombstone
from contacts.validation import email_hash
from conversion.forms import published_forms_forget
from conversion.models import Form, SideEffect, Submission
from conversion.services import submission_create
from tests.conversion.test_public_forms import answers, demo_like_form, form_url

pytestmark = pytest.mark.django_db

# Statements of one submission, and of one from an erased address (no outbox row), per database:
# SQLite's are the savepoint, the twin and tombstone look-ups, the inserts and the release.
STATEMENTS = {"postgresql": (1, 1), "sqlite": (6, 5)}


@pytest.fixture(autouse=True)
def _form_checked_as_in_production(settings: Any) -> None:
    settings.CONVERSION_FORM_CHECK_SECONDS = 60
    published_forms_forget()  # another test's form of the same address


def _post_counting_queries(client: Client, form: Form, **values: Any) -> list[str]:
    client.get(form_url(form))  # the citizen saw the form: this process has it cached
    with CaptureQueriesContext(connection) as queries:
        response = client.post(form_url(form), answers(**values))
    assert response.status_code == 302
    assert response["Location"] == form_url(form, "thanks")
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("double_opt_in", [False, True], ids=["plain", "double-opt-in"])
def test_a_public_submission_costs_one_statement(client: Client, double_opt_in: bool) -> None:
    form = demo_like_form(double_opt_in=double_opt_in)

    statements = _post_counting_queries(client, form)

    assert len(statements) == STATEMENTS[connection.vendor][0], statements
    assert any("INSERT INTO" in statement for statement in statements)
    submission = Submission.objects.get()
    assert submission.values["email"] == "lucia.vecina@correo.example"
    assert list(SideEffect.objects.values_list("submission", "kind", "status")) == [
        (submission.pk, "apply", "pending")
    ]


def test_an_erased_address_costs_the_same_one_statement_and_keeps_nothing(
    client: Client,
) -> None:
    form = demo_like_form(double_opt_in=True)
    Tombstone.objects.create(email_hash=email_hash("lucia.vecina@correo.example"))

    statements = _post_counting_queries(client, form)

    assert len(statements) == STATEMENTS[connection.vendor][1], statements
    submission = Submission.objects.get()
    assert (submission.values, submission.email_hash) == ({}, "")
    assert not SideEffect.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_twin_waits_for_the_first_and_gets_its_submission(client: Client) -> None:
    """Two identical submissions at once: the second one's insert waits on the first one's
    uncommitted row, then stores nothing and is answered with the first submission."""
    form = demo_like_form(double_opt_in=True)
    cleaned = {"email": "ana@correo.example", "first_name": "Ana", "newsletter": True}
    store = {
        "form": form, "cleaned": cleaned, "files": {}, "language": "es", "page": "/",
        "referrer": "", "visitor_key": "",
    }  # fmt: skip
    first_inserted = threading.Event()
    second: dict[str, Any] = {}

    def twin() -> None:
        try:
            first_inserted.wait(10)
            second["answer"] = submission_create(**store)
        finally:
            connections.close_all()

    thread = threading.Thread(target=twin)
    thread.start()
    with transaction.atomic():
        first, created = submission_create(**store)
        first_inserted.set()
        thread.join(0.5)  # the twin is now blocked on our row's unique key
        assert thread.is_alive()
    thread.join(10)

    assert created
    assert second["answer"] == (first, False)
    assert Submission.objects.count() == 1
    assert SideEffect.objects.count() == 1
