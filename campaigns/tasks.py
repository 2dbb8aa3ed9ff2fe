"""Celery tasks of `campaigns` (the `email` queue, by name)."""

from __future__ import annotations

from celery import shared_task

from campaigns import bulletins, sending
from contacts.models import Subscription


@shared_task(name="campaigns.tasks.send_due")
def send_due() -> int:
    """Every 2 s: start scheduled campaigns and send what is due (the sending engine). A tick
    that used its whole budget queues the next one at once: a big send never waits for beat."""
    result = sending.campaigns_send_due()
    if result.more:
        send_due.apply_async(expires=60)
    return result.sent


@shared_task(name="campaigns.tasks.bulletins_scan")
def bulletins_scan() -> int:
    """Every minute: record content that became public and start its immediate bulletins."""
    return len(bulletins.bulletins_scan())


@shared_task(name="campaigns.tasks.bulletins_daily")
def bulletins_daily() -> int:
    """Every morning: one digest per topic of what was published since the last one."""
    return len(bulletins.bulletin_digests_send(frequency=Subscription.Frequency.DAILY))


@shared_task(name="campaigns.tasks.bulletins_weekly")
def bulletins_weekly() -> int:
    """Monday mornings: one digest per topic of the week's publications."""
    return len(bulletins.bulletin_digests_send(frequency=Subscription.Frequency.WEEKLY))


@shared_task(
    name="campaigns.tasks.email_sender_verification",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def email_sender_verification(*, sender_id: int) -> None:
    """E-mail the link that verifies a sender address (campaigns.senders)."""
    from campaigns.models import Sender
    from campaigns.sender_links import sender_verification_email

    sender = Sender.objects.filter(pk=sender_id, verified_at__isnull=True).first()
    if sender is not None:
        sender_verification_email(sender=sender)
