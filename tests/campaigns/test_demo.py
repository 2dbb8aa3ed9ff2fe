"""The demo newsletter is ready to send: its checklist has no errors, and it is seeded once."""

from __future__ import annotations

import pytest

from campaigns.demo import NAME, campaigns_demo_seed
from campaigns.gate import campaign_gate
from campaigns.models import Campaign
from content.demo import content_demo_seed
from tests.campaigns.test_sending import subscriber

pytestmark = pytest.mark.django_db


def test_the_demo_newsletter_passes_the_checklist_and_is_seeded_once() -> None:
    content_demo_seed()
    subscriber(first_name="Lucía")

    assert campaigns_demo_seed() == 1
    assert campaigns_demo_seed() == 0

    campaign = Campaign.objects.get(name=NAME)
    gate = campaign_gate(campaign=campaign)
    assert gate.passes, [check.message for check in gate.errors]
    assert "/es/noticias/" in campaign.email.body_es
    assert {c.code for c in gate.checks if c.code == "links" and c.level == "ok"} == {"links"}
