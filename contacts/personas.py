"""Citizen personas: which contact stands for which persona, and what staff read about them.

A persona's `rules` use the segment rule language (`contacts.segments`). Each non-anonymised
contact belongs to the first persona, by priority then name, whose rules it matches, or to none.
Assignment is set-based: one UPDATE per persona, in priority order, each excluding the contacts
a persona before it claims, so its cost does not grow with a Python loop over contacts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet

from contacts.models import Contact, Persona
from contacts.segments import rules_q

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 10


def _personas() -> list[Persona]:
    return list(Persona.objects.order_by("priority", "name"))


@transaction.atomic
def personas_assign(*, contacts: QuerySet[Contact] | None = None) -> int:
    """Give each of `contacts` (all by default) its persona; returns how many changed.

    Anonymised contacts are left alone. Only rows whose persona changes are written.
    """
    # The rules are applied as predicates on the contact row itself (correlated EXISTS), not as
    # `id IN (SELECT …)`: on PostgreSQL a large `NOT IN` subquery that outgrows work_mem is
    # re-scanned per row, which turned one persona of a million contacts into minutes.
    scope = (Contact.objects.all() if contacts is None else contacts).filter(
        anonymised_at__isnull=True
    )
    changed = 0
    claimed: Q | None = None
    for persona in _personas():
        # No conditions (an empty Q) matches everyone; spelled out so that `~` excludes them.
        matches = rules_q(persona.rules) or Q(pk__isnull=False)
        candidates = scope.filter(matches if claimed is None else matches & ~claimed)
        changed += candidates.exclude(persona=persona).order_by().update(persona=persona)
        claimed = matches if claimed is None else claimed | matches
    unmatched = scope.filter(persona__isnull=False)
    if claimed is not None:
        unmatched = unmatched.filter(~claimed)
    changed += unmatched.order_by().update(persona=None)
    return changed


def contact_persona_assign(*, contact: Contact) -> Persona | None:
    """Give one contact its persona now (after a change to its data); returns it."""
    personas_assign(contacts=Contact.objects.filter(pk=contact.pk))
    contact.persona_id = Contact.objects.values_list("persona_id", flat=True).get(pk=contact.pk)
    return Persona.objects.filter(pk=contact.persona_id).first() if contact.persona_id else None


# --- Reads for the staff pages -----------------------------------------------------------------


def _live_members() -> Q:
    return Q(contacts__anonymised_at__isnull=True)


def personas_with_counts() -> QuerySet[Persona]:
    """Every persona in priority order, annotated with `member_count` (non-anonymised)."""
    return Persona.objects.annotate(
        member_count=Count("contacts", filter=_live_members())
    ).order_by("priority", "name")


@dataclass(frozen=True)
class PersonaFigures:
    member_count: int
    total_contacts: int
    lifecycle: list[tuple[str, str, int]]  # (stage, label, members), every stage listed
    sample: list[Contact]

    @property
    def share_percent(self) -> float:
        return round(100 * self.member_count / self.total_contacts, 1) if self.total_contacts else 0


def persona_figures(*, persona: Persona) -> PersonaFigures:
    """Size, share of all contacts, lifecycle distribution and a sample of members."""
    members = Contact.objects.filter(persona=persona, anonymised_at__isnull=True)
    by_stage = dict(
        members.order_by()
        .values_list("lifecycle")
        .annotate(n=Count("pk"))
        .values_list("lifecycle", "n")
    )
    lifecycle = [
        (stage, str(label), by_stage.get(stage, 0)) for stage, label in Contact.Lifecycle.choices
    ]
    sample = list(
        members.only("pk", "first_name", "last_name", "district").order_by(
            F("last_activity_at").desc(nulls_last=True), "-pk"
        )[:SAMPLE_SIZE]
    )
    return PersonaFigures(
        member_count=sum(by_stage.values()),
        total_contacts=Contact.objects.filter(anonymised_at__isnull=True).count(),
        lifecycle=lifecycle,
        sample=sample,
    )
