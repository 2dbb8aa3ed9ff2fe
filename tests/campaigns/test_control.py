"""Staff control of a send: through the checklist, scheduled (Canary local time), paused,
resumed, cancelled; the shared rate limit and the automatic pause when a provider refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.control import (
    GateNotPassed,
    campaign_cancel,
    campaign_pause,
    campaign_progress,
    campaign_resume,
    campaign_schedule,
    campaign_send_now,
)
from campaigns.models import Campaign, Delivery
from campaigns.sending import CampaignNotSendable, campaigns_send_due, canary_time
from inbound.lib.throttle import Throttle
from inbound.models import AuditEntry
from tests.campaigns.test_gate import CLEAR, with_body
from tests.campaigns.test_sending import subscriber
from tests.smtp import SmtpSink

pytestmark = pytest.mark.django_db

MADRID = ZoneInfo("Europe/Madrid")


def test_send_now_refuses_an_email_with_errors_and_sends_nothing(marketer: Any) -> None:
    campaign = with_body(CLEAR + '<p><img src="https://villaclara.example/c.png"></p>')

    with pytest.raises(GateNotPassed, match="errores"):
        campaign_send_now(campaign=campaign, by=marketer)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and not campaign.deliveries.exists()


def test_warnings_must_be_confirmed_then_the_send_starts_once(marketer: Any) -> None:
    campaign = with_body(CLEAR, subscriber(language="ca"), subscriber())

    with pytest.raises(GateNotPassed, match="avisos"):
        campaign_send_now(campaign=campaign, by=marketer)
    assert not campaign.deliveries.exists()

    assert campaign_send_now(campaign=campaign, by=marketer, confirmed=True) == 2
    with pytest.raises(CampaignNotSendable):  # the double click
        campaign_send_now(campaign=campaign, by=marketer, confirmed=True)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and campaign.started_by == marketer
    assert campaign.deliveries.count() == 2
    entry = AuditEntry.objects.get(action="campaigns.campaign_sent")
    assert entry.detail["warnings"] == ["languages"] and entry.actor == marketer


def test_canary_contacts_of_a_local_time_send_are_due_at_the_same_clock_time(
    marketer: Any,
) -> None:
    madrid = subscriber(postal_code="28001")
    tenerife = subscriber(postal_code="38001")
    las_palmas = subscriber(postal_code="35002")
    campaign = with_body(CLEAR, madrid, tenerife, las_palmas)
    at = timezone.now().astimezone(MADRID).replace(microsecond=0) + dt.timedelta(days=2)

    campaign_schedule(campaign=campaign, at=at, local_time=True, by=marketer)
    campaigns_send_due(now=at + dt.timedelta(seconds=1))

    due = {d.contact_id: d.next_attempt_at for d in campaign.deliveries.all()}
    assert due[madrid.pk] == at
    assert due[tenerife.pk] == due[las_palmas.pk] == at + dt.timedelta(hours=1)
    assert due[tenerife.pk].astimezone(ZoneInfo("Atlantic/Canary")).hour == at.hour
    # The Canary contacts wait for their hour; the rest were sent.
    progress = campaign_progress(campaign=campaign, now=at + dt.timedelta(seconds=2))
    assert progress.waiting == 2


def test_canary_time_keeps_the_wall_clock_across_the_summer_change() -> None:
    summer = dt.datetime(2030, 7, 1, 9, 0, tzinfo=MADRID)
    winter = dt.datetime(2030, 1, 7, 9, 0, tzinfo=MADRID)

    for at in (summer, winter):
        local = canary_time(at).astimezone(ZoneInfo("Atlantic/Canary"))
        assert (local.hour, local.minute) == (9, 0) and canary_time(at) - at == dt.timedelta(
            hours=1
        )


def test_a_schedule_in_the_past_is_refused(marketer: Any) -> None:
    campaign = with_body(CLEAR)

    with pytest.raises(CampaignNotSendable, match="futuro"):
        campaign_schedule(
            campaign=campaign,
            at=timezone.now() - dt.timedelta(minutes=1),
            local_time=False,
            by=marketer,
        )

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_a_scheduled_send_whose_email_broke_meanwhile_goes_back_to_draft_with_the_reason(
    marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR)
    at = timezone.now() + dt.timedelta(hours=1)
    campaign_schedule(campaign=campaign, at=at, local_time=False, by=marketer)
    campaign.email.body_es = CLEAR + '<p><a href="/es/ya-no-existe/">Programa</a></p>'
    campaign.email.save()

    campaigns_send_due(now=at + dt.timedelta(seconds=1))

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert "/es/ya-no-existe/" in campaign.pause_reason
    assert not campaign.deliveries.exists() and smtp_sink.messages == []


def test_a_paused_send_sends_nothing_until_resumed(marketer: Any, smtp_sink: SmtpSink) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber())
    campaign_send_now(campaign=campaign, by=marketer)

    campaign_pause(campaign=campaign, by=marketer)
    assert campaigns_send_due().sent == 0
    assert smtp_sink.messages == []
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and "javier" in campaign.pause_reason

    campaign_resume(campaign=campaign, by=marketer)
    assert campaigns_send_due().sent == 2
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("id"))
    assert actions[-2:] == ["campaigns.campaign_paused", "campaigns.campaign_resumed"]


def test_a_cancelled_send_skips_what_was_not_sent_and_cannot_resume(
    marketer: Any, smtp_sink: SmtpSink
) -> None:
    campaign = with_body(CLEAR, subscriber(), subscriber(), subscriber())
    campaign_send_now(campaign=campaign, by=marketer)

    assert campaign_cancel(campaign=campaign, by=marketer) == 3
    assert campaigns_send_due().sent == 0

    assert set(campaign.deliveries.values_list("status", flat=True)) == {"skipped"}
    with pytest.raises(CampaignNotSendable, match="cancelada"):
        campaign_resume(campaign=campaign, by=marketer)
    assert smtp_sink.messages == []


def test_a_provider_refusing_most_messages_pauses_the_send_on_its_own(
    marketer: Any, smtp_sink: SmtpSink
) -> None:
    contacts = [subscriber(email=f"vecino{n}@correo.example") for n in range(60)]
    smtp_sink.answers = {c.email: "554 5.7.1 Rejected" for c in contacts[:20]}
    campaign = with_body(CLEAR, *contacts)
    campaign_send_now(campaign=campaign, by=marketer)

    campaigns_send_due()

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "20 de los últimos 60" in campaign.pause_reason
    assert campaign.deliveries.filter(status=Delivery.Status.FAILED).count() == 20


def test_a_few_failures_do_not_pause_the_send(marketer: Any, smtp_sink: SmtpSink) -> None:
    contacts = [subscriber(email=f"vecino{n}@correo.example") for n in range(60)]
    smtp_sink.answers = {contacts[0].email: "550 5.1.1 No such user"}
    campaign = with_body(CLEAR, *contacts)
    campaign_send_now(campaign=campaign, by=marketer)

    assert campaigns_send_due().sent == 59

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_progress_counts_sent_failed_and_remaining(marketer: Any, smtp_sink: SmtpSink) -> None:
    refused = subscriber(email="rechazo@correo.example")
    smtp_sink.answers = {refused.email: "550 5.1.1 No such user"}
    campaign = with_body(CLEAR, refused, subscriber(), subscriber())
    campaign_send_now(campaign=campaign, by=marketer)
    assert campaign_progress(campaign=campaign).pending == 3

    campaigns_send_due()

    progress = campaign_progress(campaign=campaign)
    assert (progress.total, progress.sent, progress.failed, progress.pending) == (3, 2, 1, 0)
    assert progress.percent == 100 and progress.per_minute == 2


def test_the_throttle_paces_messages_to_the_rate_shared_by_every_worker() -> None:
    slept: list[float] = []
    first = Throttle("test-provider", 100, sleep=slept.append)
    second = Throttle("test-provider", 100, sleep=slept.append)  # another worker

    for _ in range(100):  # the first second's burst goes at once
        first.wait()
    assert sum(slept) == 0
    for n in range(100):  # the next hundred wait for the next second, whoever sends them
        (first if n % 2 else second).wait()

    # (The sleeps are not slept here: each is how long after now its block becomes available.)
    assert 0.9 <= max(slept) <= 1.1 and min(slept) <= 0.25, slept


@pytest.mark.skipif(not settings.REDIS_URL, reason="the shared bucket lives in Redis")
def test_the_bucket_is_in_redis_when_there_is_one() -> None:
    from django.core.cache import cache

    waits = [
        cache.reserve_tokens("throttle:redis-test", rate=10, burst=10, count=10)  # type: ignore[attr-defined]
        for _ in range(3)
    ]

    assert waits[0] == 0 and 0.9 <= waits[1] <= 1.0 and 1.9 <= waits[2] <= 2.0
