"""Signal receivers that keep membership in step with accounts, and queue the outbox."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from membership import tasks
from membership.models import OutboxMessage
from membership.services import trial_history_apply
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
    """Queue the send task of an outbox row just recorded (after its transaction committed)."""
    tasks.outbox_message_send.delay(message_id)
