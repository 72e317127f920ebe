"""Signal receivers that keep membership in step with accounts, and queue the outbox."""

from typing import Any

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from membership import tasks
from membership.devices import request_device_id
from membership.meter import meter_limits_forget, meter_month
from membership.meter_models import MeterPolicy
from membership.models import OutboxMessage
from membership.reading import meter_subject
from membership.services import trial_history_apply
from membership.services.meter import meter_reads_merge
from membership.services.outbox import outbox_message_recorded


@receiver(post_save, sender=User, dispatch_uid="membership.trial_history_on_signup")
def trial_history_on_signup(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    """A new account for an address that had its trial inherits that fact."""
    if created and not kwargs.get("raw"):
        trial_history_apply(user=instance)


@receiver(outbox_message_recorded, sender=OutboxMessage, dispatch_uid="membership.outbox_nudge")
def outbox_message_queue(sender: type[OutboxMessage], message_id: int, **kwargs: Any) -> None:
    """Wake a sender for an outbox row just recorded (after its transaction committed)."""
    tasks.outbox_nudge()


@receiver(post_save, sender=MeterPolicy, dispatch_uid="membership.meter_policy_saved")
@receiver(post_delete, sender=MeterPolicy, dispatch_uid="membership.meter_policy_deleted")
def meter_policy_changed(sender: type[MeterPolicy], **kwargs: Any) -> None:
    """Readers see new meter limits at once, not when the cached ones run out."""
    meter_limits_forget()


@receiver(user_logged_in, dispatch_uid="membership.meter_merge_on_sign_in")
@receiver(user_signed_up, dispatch_uid="membership.meter_merge_on_sign_up")
def meter_merge_on_sign_in(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
) -> None:
    """The articles read free on this device this month join the reader's own count."""
    if request is None or user is None or user.pk is None:
        return
    device_id = request_device_id(request)
    if device_id is None:
        return
    device_subject = meter_subject(reader=None, device_id=device_id)
    assert device_subject is not None
    meter_reads_merge(
        device_subject=device_subject,
        user_subject=f"user:{user.pk}",
        month=meter_month(timezone.now())[0],
    )
