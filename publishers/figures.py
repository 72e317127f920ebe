"""The business figures on the staff dashboard, computed from stored rows only (subscriptions,
trials, entitlements, stored Stripe money events, the read ledger), so any past day can be
recomputed: every figure takes the day it is "as of".

Definitions (shown under the charts as well):

- A subscription is *paying* at a moment when it had started, its free trial (if any) was
  over, and it had not ended (``ended_at``). A cancellation takes it out of MRR when the
  subscription ends, not when the cancellation is asked for. Complimentary access, gifts and
  free trials are not subscriptions and never count.
- *MRR* on a day: the monthly price of every subscription paying at the end of that day; a
  yearly price counts one twelfth. By currency, in minor units, rounded half up.
- *Churn* of a month: paying subscriptions that ended during the month, divided by those
  paying at its start.
- A *trial cohort* is the trials started in one week (Monday to Sunday, UTC); a trial
  *converted* when its reader paid (a paid invoice or one-time payment) after it started.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, Sum

from billing.models import Customer, Subscription
from membership.models import Entitlement, Title, Trial
from publishers.models import ReadRow
from publishers.revenue import money_movements

# Entitlement sources that are subscriptions, and the channel each is sold through. A new
# store is one line here.
SUBSCRIPTION_CHANNELS = {
    "subscription": "web",
    "apple": "App Store",
    "google": "Google Play",
    "app_store": "app stores",
}


def day_end(day: date) -> datetime:
    """The instant a day's figures are taken at: its end (the next midnight, UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min, UTC)


@dataclass(frozen=True)
class _Paying:
    """What the figures need of a stored subscription."""

    started: datetime
    paid_from: datetime
    ended: datetime | None
    plan: str
    currency: str
    monthly: Fraction

    def paying_at(self, at: datetime) -> bool:
        return self.paid_from <= at and (self.ended is None or self.ended > at)


def _subscriptions() -> list[_Paying]:
    found = []
    for sub in Subscription.objects.select_related("plan").iterator(chunk_size=1000):
        stripe = sub.stripe
        started = stripe.started_at or sub.synced_at
        paid_from = max(started, sub.trial_end) if sub.trial_end else started
        interval = sub.interval or stripe.price.interval
        amount = stripe.price.unit_amount
        plan = sub.plan
        if amount is None and plan is not None:
            amount = plan.yearly_amount if interval == "year" else plan.monthly_amount
        currency = (stripe.price.currency or (plan.currency if plan else "")).lower()
        if amount is None or not currency:
            continue
        monthly = Fraction(amount, 12) if interval == "year" else Fraction(amount)
        found.append(
            _Paying(
                started=started,
                paid_from=paid_from,
                ended=sub.ended_at,
                plan=plan.name if plan else "(no plan)",
                currency=currency,
                monthly=monthly,
            )
        )
    return found


def _round(value: Fraction) -> int:
    """Half up, to the minor unit."""
    return int((value + Fraction(1, 2)) // 1)


def mrr_series(*, on: date, days: int = 90) -> dict[str, list[tuple[date, int]]]:
    """MRR at the end of each of the ``days`` days up to ``on``, per currency."""
    subscriptions = _subscriptions()
    currencies = sorted({s.currency for s in subscriptions})
    series: dict[str, list[tuple[date, int]]] = {c: [] for c in currencies}
    for offset in range(days - 1, -1, -1):
        day = on - timedelta(days=offset)
        at = day_end(day)
        totals: dict[str, Fraction] = defaultdict(Fraction)
        for sub in subscriptions:
            if sub.paying_at(at):
                totals[sub.currency] += sub.monthly
        for currency in currencies:
            series[currency].append((day, _round(totals[currency])))
    return series


def active_by_plan(*, on: date) -> dict[str, int]:
    """Subscriptions paying at the end of ``on``, per plan."""
    at = day_end(on)
    counts: dict[str, int] = defaultdict(int)
    for sub in _subscriptions():
        if sub.paying_at(at):
            counts[sub.plan] += 1
    return dict(sorted(counts.items()))


def active_by_channel(*, on: date) -> dict[str, int]:
    """Subscriptions paying at the end of ``on``, per channel: the web (Stripe) as above,
    each app store by its live entitlements."""
    at = day_end(on)
    counts = {"web": sum(1 for sub in _subscriptions() if sub.paying_at(at))}
    stores = {s: c for s, c in SUBSCRIPTION_CHANNELS.items() if c != "web"}
    live = (
        Entitlement.objects.filter(source__in=stores, starts_at__lte=at, ends_at__gt=at)
        .values("source")
        .annotate(readers=Count("user", distinct=True))
    )
    for row in live:
        channel = stores[row["source"]]
        counts[channel] = counts.get(channel, 0) + row["readers"]
    return counts


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Cohort:
    week: date
    started: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.started if self.started else 0.0


def trial_cohorts(*, on: date, weeks: int = 12) -> list[Cohort]:
    """Trials started each week of the ``weeks`` weeks up to ``on``, and how many of their
    readers paid after the trial started (up to the end of ``on``)."""
    first = week_start(on) - timedelta(weeks=weeks - 1)
    start, end = datetime.combine(first, time.min, UTC), day_end(on)
    trials = list(
        Trial.objects.filter(started_at__gte=start, started_at__lt=end).values_list(
            "user_id", "started_at"
        )
    )
    movements = [m for m in money_movements(start=start, end=end) if m.amount > 0]
    customers = dict(
        Customer.objects.filter(stripe_id__in={m.customer_id for m in movements}).values_list(
            "stripe_id", "user_id"
        )
    )
    first_paid: dict[int, datetime] = {}
    for m in movements:
        user_id = customers.get(m.customer_id) or m.user_id
        if user_id is not None and (user_id not in first_paid or m.at < first_paid[user_id]):
            first_paid[user_id] = m.at
    started: dict[date, int] = defaultdict(int)
    converted: dict[date, int] = defaultdict(int)
    for user_id, at in trials:
        week = week_start(at.astimezone(UTC).date())
        started[week] += 1
        paid_at = first_paid.get(user_id) if user_id is not None else None
        if paid_at is not None and paid_at >= at:
            converted[week] += 1
    return [
        Cohort(week=first + timedelta(weeks=n), started=started[w], converted=converted[w])
        for n in range(weeks)
        for w in [first + timedelta(weeks=n)]
    ]


@dataclass(frozen=True)
class Churn:
    month: date
    live_at_start: int
    ended: int

    @property
    def rate(self) -> float:
        return self.ended / self.live_at_start if self.live_at_start else 0.0


def _month_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def monthly_churn(*, on: date, months: int = 6) -> list[Churn]:
    """For each of the ``months`` months up to the one holding ``on`` (that one up to the end
    of ``on``): subscriptions paying at its start, and how many of them ended within it."""
    subscriptions = _subscriptions()
    found = []
    for n in range(months - 1, -1, -1):
        month = _month_back(on.replace(day=1), n)
        start = datetime.combine(month, time.min, UTC)
        end = min(datetime.combine(_month_back(month, -1), time.min, UTC), day_end(on))
        live = [s for s in subscriptions if s.paying_at(start)]
        ended = sum(1 for s in live if s.ended is not None and s.ended < end)
        found.append(Churn(month=month, live_at_start=len(live), ended=ended))
    return found


@dataclass(frozen=True)
class TitleReading:
    title: str
    qualifying_reads: int
    engaged_seconds: int

    @property
    def hours(self) -> float:
        return self.engaged_seconds / 3600


def reads_by_title(
    *, on: date, days: int = 30, title_ids: list[int] | None = None
) -> list[TitleReading]:
    """Qualifying reads and engaged seconds per title over the ``days`` days up to ``on``,
    most read first (only ``title_ids`` when given)."""
    rows = ReadRow.objects.filter(day__gt=on - timedelta(days=days), day__lte=on)
    if title_ids is not None:
        rows = rows.filter(title_id__in=title_ids)
    totals = (
        rows.values("title_id")
        .annotate(reads=Count("id", filter=Q(qualified=True)), seconds=Sum("seconds"))
        .order_by()
    )
    names = dict(Title.objects.values_list("id", "name"))
    found = [
        TitleReading(
            title=names.get(t["title_id"], "?"),
            qualifying_reads=t["reads"],
            engaged_seconds=t["seconds"] or 0,
        )
        for t in totals
    ]
    return sorted(found, key=lambda t: (-t.qualifying_reads, -t.engaged_seconds, t.title))


def figures_all(*, on: date, title_ids: list[int] | None = None) -> dict[str, Any]:
    """Every figure of the dashboard as of ``on``."""
    return {
        "on": on,
        "mrr": mrr_series(on=on),
        "by_plan": active_by_plan(on=on),
        "by_channel": active_by_channel(on=on),
        "cohorts": trial_cohorts(on=on),
        "churn": monthly_churn(on=on),
        "reads": reads_by_title(on=on, title_ids=title_ids),
    }
