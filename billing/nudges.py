"""One broker message per burst of Stripe events (``core.nudges``): the door queues a nudge
only when none is pending, and the worker it wakes applies its event and then drains every
stored event waiting (``billing.event_drain``). The beat re-drive queues any row left."""

from django.conf import settings

from core import nudges

KIND = "billing-events"


def nudge_claim() -> bool:
    """Raise the flag of a pending webhook nudge; True when the caller should queue one."""
    return nudges.nudge_claim(KIND, seconds=settings.BILLING_EVENT_NUDGE_SECONDS)


def nudge_taken() -> None:
    """Lower the flag: a worker starts on a nudge, or queueing one failed."""
    nudges.nudge_taken(KIND)
