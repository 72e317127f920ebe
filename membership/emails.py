"""Membership's emails, built from templates: a plain-text body with an HTML alternative."""

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from membership.models import Plan, Trial

PLANS_PATH = "/pricing/"  # the plans page of the reader site (web:pricing)
CURRENCY_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€"}


def price_format(*, amount: int, currency: str) -> str:
    """Return an amount in minor units as a reader reads it: ``£9.99``, ``9.99 CHF``."""
    major = f"{amount / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


def email_build(*, template: str, to: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    """Render ``<template>_subject.txt``, ``<template>.txt`` and ``<template>.html`` (e.g.
    ``membership/email/trial_reminder``) into one plain-text message with an HTML part."""
    context = {
        "site_url": settings.SITE_URL,
        "plans_url": settings.SITE_URL + PLANS_PATH,
        **context,
    }
    prefix = template
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{prefix}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    return message


def trial_reminder_email_build(*, trial: Trial, to: str, now: datetime) -> EmailMultiAlternatives:
    """Build "your free trial ends in N days": the end date, days left, a link to the plans."""
    days_left = max(1, math.ceil((trial.ends_at - now).total_seconds() / 86400))
    return email_build(
        template="membership/email/trial_reminder",
        to=to,
        context={"ends_at": trial.ends_at, "days_left": days_left},
    )


def trial_ended_email_build(
    *, trial: Trial, to: str, plans: Iterable[Plan]
) -> EmailMultiAlternatives:
    """Build "your free trial has ended", listing the plans on sale with their prices."""
    offers = [
        {
            "name": plan.name,
            "description": plan.description,
            "monthly": price_format(amount=plan.monthly_amount, currency=plan.currency),
            "yearly": price_format(amount=plan.yearly_amount, currency=plan.currency),
        }
        for plan in plans
    ]
    return email_build(
        template="membership/email/trial_ended",
        to=to,
        context={"ended_at": trial.ends_at, "plans": offers},
    )
