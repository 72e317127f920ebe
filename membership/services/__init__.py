"""Every write to trials and entitlements. Nothing else writes them."""

from membership.services.credits import credit_spend, credits_add, credits_refund
from membership.services.entitlements import (
    comp_grant,
    entitlement_change,
    entitlement_for_update,
    entitlement_grant,
    entitlement_revoke,
    entitlement_sync,
    reader_payment_issue_set,
)
from membership.services.outbox import (
    outbox_add,
    outbox_message_deliver,
    outbox_messages_drain,
    outbox_unsent_ids,
)
from membership.services.trial_sweeps import (
    trial_ended_email_batches,
    trial_ended_email_send,
    trial_reminder_batches,
    trial_reminder_send,
    trials_expired_close,
)
from membership.services.trials import (
    email_canonical,
    email_hash,
    trial_claim,
    trial_end_early,
    trial_for_update,
    trial_history_apply,
    trial_start,
    trials_end,
)

__all__ = [
    "comp_grant",
    "credit_spend",
    "credits_add",
    "credits_refund",
    "email_canonical",
    "email_hash",
    "entitlement_change",
    "entitlement_for_update",
    "entitlement_grant",
    "entitlement_revoke",
    "entitlement_sync",
    "outbox_add",
    "outbox_message_deliver",
    "outbox_messages_drain",
    "outbox_unsent_ids",
    "reader_payment_issue_set",
    "trial_claim",
    "trial_end_early",
    "trial_ended_email_batches",
    "trial_ended_email_send",
    "trial_for_update",
    "trial_history_apply",
    "trial_reminder_batches",
    "trial_reminder_send",
    "trial_start",
    "trials_end",
    "trials_expired_close",
]
