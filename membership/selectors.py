"""Reads of the catalogue and of a reader's membership, shaped for the API and the pages."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from membership.access import AccessReason
from membership.models import Article, Entitlement, Plan, Title, Trial, TrialStatus

DAY_SECONDS = 86400


def title_list() -> QuerySet[Title]:
    """Return every title in the catalogue, by name."""
    return Title.objects.order_by("name", "pk")


def title_get(*, slug: str) -> Title:
    """Return the title with this slug, or raise ``Http404``."""
    return get_object_or_404(Title, slug=slug)


def article_list(*, title: Title | None = None) -> QuerySet[Article]:
    """Return articles, newest first, with their title loaded; only ``title``'s when given."""
    articles = Article.objects.select_related("title").order_by("-published_at", "-pk")
    if title is not None:
        articles = articles.filter(title=title)
    return articles.defer("body")


def article_get(*, article_id: int) -> Article:
    """Return the article with its title loaded (one query), or raise ``Http404``."""
    return get_object_or_404(Article.objects.select_related("title"), pk=article_id)


def plan_list() -> QuerySet[Plan]:
    """Return the plans on sale, in display order, with the titles they cover loaded."""
    return (
        Plan.objects.filter(is_active=True)
        .prefetch_related(Prefetch("titles", queryset=Title.objects.only("slug", "name")))
        .order_by("display_order", "monthly_amount", "pk")
    )


def entitlement_list_live(*, user: User, at: datetime | None = None) -> QuerySet[Entitlement]:
    """Return the reader's entitlements open at ``at`` (now), with their titles loaded."""
    return (
        Entitlement.objects.live(at)
        .filter(user=user)
        .prefetch_related(Prefetch("titles", queryset=Title.objects.only("slug", "name")))
        .order_by("ends_at", "pk")
    )


@dataclass(frozen=True)
class TrialSummary:
    """A reader's trial as they see it: still running or over, and the days it has left."""

    status: str
    started_at: datetime
    ends_at: datetime
    days_left: int


def trial_summary(*, trial: Trial, at: datetime | None = None) -> TrialSummary:
    """Summarise ``trial`` at ``at`` (now): it is over at ``ends_at`` even before tasks run."""
    moment = at or timezone.now()
    running = trial.status == TrialStatus.ACTIVE and trial.started_at <= moment < trial.ends_at
    remaining = (trial.ends_at - moment).total_seconds() if running else 0
    return TrialSummary(
        status=TrialStatus.ACTIVE if running else TrialStatus.ENDED,
        started_at=trial.started_at,
        ends_at=trial.ends_at,
        days_left=math.ceil(remaining / DAY_SECONDS),
    )


def trial_summary_get(*, user: User, at: datetime | None = None) -> TrialSummary | None:
    """Return the summary of the reader's trial, or None if this account never had one."""
    trial = Trial.objects.filter(user=user).first()
    return None if trial is None else trial_summary(trial=trial, at=at)


@dataclass(frozen=True)
class PaywallAction:
    """One step a denied reader can take: a button with the request it makes."""

    kind: str
    label: str
    method: str
    url: str


@dataclass(frozen=True)
class Paywall:
    """What a denied reader is told, and the steps offered to them."""

    reason: str
    message: str
    actions: tuple[PaywallAction, ...]


def paywall_get(*, reason: AccessReason) -> Paywall:
    """Return the paywall for a denial: its message and the reader's next steps, in order."""
    trial_label = f"Start your {settings.TRIAL_DAYS}-day free trial"
    choose_plan = PaywallAction(
        "choose_plan", "Choose a plan to keep reading", "GET", reverse("membership:plan-list")
    )
    if reason == AccessReason.SIGN_UP:
        return Paywall(
            reason,
            "Sign up to read this article",
            (
                PaywallAction("sign_up", "Sign up", "POST", reverse("headless:app:account:signup")),
                PaywallAction(
                    "sign_in",
                    "Already a member? Sign in",
                    "POST",
                    reverse("headless:app:account:login"),
                ),
            ),
        )
    if reason == AccessReason.START_TRIAL:
        start = PaywallAction("start_trial", trial_label, "POST", reverse("membership:me-trial"))
        return Paywall(reason, trial_label, (start, choose_plan))
    return Paywall(reason, "Choose a plan to keep reading", (choose_plan,))
