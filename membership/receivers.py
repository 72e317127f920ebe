"""Signal receivers that keep membership in step with accounts."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from membership.services import trial_history_apply


@receiver(post_save, sender=User, dispatch_uid="membership.trial_history_on_signup")
def trial_history_on_signup(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    """A new account for an address that had its trial inherits that fact."""
    if created and not kwargs.get("raw"):
        trial_history_apply(user=instance)
