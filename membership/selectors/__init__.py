"""Reads of the catalogue and of a reader's membership, shaped for the API and the pages."""

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import email_verified_exists
from membership.access import AccessReason, with_reader_access
from membership.meter import meter_limits_get
from membership.models import (
    Article,
    CreditAccount,
    CreditUnlock,
    Entitlement,
    Plan,
    Title,
    Trial,
    TrialStatus,
)

# The support page's explanation lives beside; its entry point is read from here too.
from membership.selectors.explain import access_explain  # noqa: F401
from membership.services.trials import email_hash

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


def article_get(*, article_id: int, reader: Any = None) -> Article:
    """Return the article with its title loaded (one query), or raise ``Http404``. With a
    ``reader``, the same statement asks what deciding their access to it needs
    (``membership.access.with_reader_access``)."""
    articles = Article.objects.select_related("title")
    if reader is not None:
        articles = with_reader_access(articles, reader=reader)
    return get_object_or_404(articles, pk=article_id)


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
        .select_related("article")
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


class TrialEligibility(models.TextChoices):
    AVAILABLE = "available", "May start the free trial now"
    VERIFY_EMAIL = "verify_email", "Verify the email address first"
    USED = "used", "The free trial was had (on this account or an earlier one)"


@dataclass(frozen=True)
class TrialState:
    """Whether the reader may start the free trial, and this account's own trial if any."""

    eligibility: str
    trial: TrialSummary | None

    @property
    def used_elsewhere(self) -> bool:
        """The address had its trial on another account (or before an address change)."""
        return self.eligibility == TrialEligibility.USED and self.trial is None


def trial_state_get(*, user: User, at: datetime | None = None) -> TrialState:
    """Return the reader's trial state as ``trial_start`` would judge it: used when this
    account or any account with the same normalised address had one; otherwise available
    once the address is verified."""
    facts = (
        User.objects.select_related("trial")
        .annotate(
            verified=email_verified_exists(OuterRef("pk")),
            taken=Exists(Trial.objects.filter(email_hash=email_hash(user.email))),
        )
        .get(pk=user.pk)
    )  # one query: the account's own trial, and the two facts a trial offer depends on
    own = getattr(facts, "trial", None)
    trial = trial_summary(trial=own, at=at) if own is not None else None
    if trial is not None or facts.trial_used_at is not None or facts.taken:
        return TrialState(TrialEligibility.USED, trial)
    if not facts.verified:
        return TrialState(TrialEligibility.VERIFY_EMAIL, None)
    return TrialState(TrialEligibility.AVAILABLE, None)


def plans_covering(*, title_id: int) -> QuerySet[Plan]:
    """Return the plans on sale that cover the title, in display order (one query)."""
    titled = Plan.titles.through.objects.filter(title_id=title_id).values("plan_id")
    covers = Q(all_titles=True) | Q(pk__in=titled)
    return (
        Plan.objects.filter(is_active=True)
        .filter(covers)
        .order_by("display_order", "monthly_amount", "pk")
    )


def credit_balance_get(*, user: User) -> int:
    """The reader's credits not spent yet."""
    found = CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first()
    return found or 0


def credit_account_exists() -> Exists:
    """Whether the reader of the outer query (``OuterRef("pk")``) ever had credits."""
    return Exists(CreditAccount.objects.filter(user=OuterRef("pk")))


def credit_unlocks_list(*, user: User) -> QuerySet[CreditUnlock]:
    """The articles the reader unlocked with credits, newest first."""
    return CreditUnlock.objects.filter(user=user).select_related("article__title")


@dataclass(frozen=True)
class PaywallAction:
    """One step a denied reader can take: a button with the request it makes (``params``
    go in its JSON body)."""

    kind: str
    label: str
    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Paywall:
    """What a denied reader is told, the steps offered to them, and (``upgrade``) the plans
    that cover the article's title."""

    reason: str
    message: str
    actions: tuple[PaywallAction, ...]
    plans: tuple[Plan, ...] = ()
    note: str = ""
    credits: int = 0  # the signed-in reader's balance, when they may unlock with a credit


def _subscribe_note(reader: User | None) -> str:
    """Say why a plan is the way on: the reader's trial ended, or was had elsewhere."""
    if reader is None:
        return ""
    state = trial_state_get(user=reader)
    if state.used_elsewhere:
        return "You have already used your free trial."
    return "Your free trial has ended." if state.trial is not None else ""


def _upgrade_paywall(article: Article | None) -> Paywall:
    """Name the plans that cover the article's title, each a one-step switch; the portal
    when none does."""
    plans = tuple(plans_covering(title_id=article.title_id)) if article is not None else ()
    title = article.title.name if article is not None else "this title"
    switch = reverse("billing:plan-switch")
    actions = tuple(
        PaywallAction("switch_plan", f"Switch to {plan.name}", "POST", switch, {"plan": plan.slug})
        for plan in plans
    )
    if not actions:
        portal = reverse("billing:portal")
        manage = PaywallAction("manage_billing", "Manage billing", "POST", portal)
        message = f"Your plan does not cover {title}, and no plan on sale does"
        return Paywall(AccessReason.UPGRADE, message, (manage,), plans)
    message = f"Your plan does not cover {title}. Switch to a plan that does"
    return Paywall(AccessReason.UPGRADE, message, actions, plans)


def paywall_get(
    *,
    reason: AccessReason,
    reader: User | None = None,
    article: Article | None = None,
    credits: int | None = None,
) -> Paywall:
    """Return the paywall for a denial: its message and the reader's next steps, in order.

    ``upgrade`` names the plans on sale that cover ``article``'s title, each with a one-step
    switch; ``subscribe`` says whether the reader's trial ended or was had on another
    account; ``verify_email`` offers allauth's resend of the confirmation email. A
    signed-in reader with credits is offered first to unlock the article with one:
    ``credits`` is their balance as the access decision found it (asked here when None).
    """
    paywall = _paywall(reason=reason, reader=reader, article=article)
    if reader is None or article is None or reason == AccessReason.SIGN_UP:
        return paywall
    balance = credit_balance_get(user=reader) if credits is None else credits
    if balance < 1:
        return paywall
    unlock = PaywallAction(
        "unlock_with_credit",
        "Unlock this article with 1 credit",
        "POST",
        reverse("membership:article-unlock", kwargs={"pk": article.pk}),
    )
    return replace(paywall, actions=(unlock, *paywall.actions), credits=balance)


def _paywall(*, reason: AccessReason, reader: User | None, article: Article | None) -> Paywall:
    trial_label = f"Start your {settings.TRIAL_DAYS}-day free trial"
    choose_plan = PaywallAction(
        "choose_plan", "Choose a plan to keep reading", "GET", reverse("membership:plan-list")
    )
    if reason == AccessReason.SIGN_UP:
        registered = meter_limits_get().registered
        return Paywall(
            reason,
            # The registration wall when signed-in readers have free articles.
            f"Create a free account to read {registered} articles a month"
            if registered
            else "Sign up to read this article",
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
    if reason == AccessReason.VERIFY_EMAIL:
        resend = PaywallAction(
            "resend_verification",
            "Send the confirmation email again",
            "PUT",
            reverse("headless:app:account:manage_email"),
            {"email": reader.email} if reader is not None else {},
        )
        message = f"Verify your email address to start your {settings.TRIAL_DAYS}-day free trial"
        return Paywall(reason, message, (resend, choose_plan))
    if reason == AccessReason.UPGRADE:
        return _upgrade_paywall(article)
    if reason == AccessReason.PAYMENT_FAILED:
        update = PaywallAction("update_card", "Update your card", "POST", reverse("billing:portal"))
        message = "Your last payment did not go through: update your card to keep reading"
        return Paywall(reason, message, (update,))
    note = _subscribe_note(reader)
    message = f"{note} Choose a plan to keep reading" if note else "Choose a plan to keep reading"
    return Paywall(reason, message, (choose_plan,), note=note)
