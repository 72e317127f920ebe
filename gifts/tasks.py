"""Beat tasks: send gift codes to recipients when their day comes, remind readers a week
before a gift ends."""

from celery import shared_task

from gifts import services


@shared_task
def gift_recipient_emails() -> int:
    """Record the emails of gift codes whose sending time has come."""
    return services.gift_recipient_emails_send()


@shared_task
def gift_ending_reminders() -> int:
    """Record "your gift ends in a week" for the gifts ending within seven days."""
    return services.gift_reminders_send()
