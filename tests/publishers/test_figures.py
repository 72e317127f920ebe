"""Every dashboard figure on a small known history, with its exact value."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from membership.models import Trial
from publishers.figures import (
    active_by_channel,
    active_by_plan,
    monthly_churn,
    mrr_series,
    reads_by_title,
    trial_cohorts,
)
from publishers.models import TitleStaff
from tests.factories import (
    EntitlementFactory,
    PlanFactory,
    StaffFactory,
    SubscriptionFactory,
    TitleFactory,
    UserFactory,
    stripe_subscription_data,
)
from tests.publishers.history import paid, read

pytestmark = pytest.mark.django_db


def _at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


def _subscription(plan, *, start, interval="month", trial_end=None, ended=None, amount=None):  # type: ignore[no-untyped-def]
    sub = SubscriptionFactory(plan=plan, interval=interval, trial_end=trial_end, ended_at=ended)
    data = stripe_subscription_data(
        id=sub.stripe_id, interval=interval, plan_id=plan.pk, start_date=int(start.timestamp())
    )
    price = data["items"]["data"][0]["price"]
    price.update(currency=plan.currency, unit_amount=amount)
    sub.data = data
    sub.save()
    return sub


@pytest.fixture
def history():  # type: ignore[no-untyped-def]
    """Monthly £10 from 1 Oct; yearly £120 from 1 Nov (a £10 month); a card trial to 20 Nov
    then €9 a month; a monthly £10 from 1 Oct that ended on 15 Nov."""
    monthly = PlanFactory(slug="monthly", name="Monthly", monthly_amount=1000, yearly_amount=12000)
    euro = PlanFactory(
        slug="euro", name="Euro", monthly_amount=900, yearly_amount=9000, currency="eur"
    )
    _subscription(monthly, start=_at(1, 10), amount=1000)
    _subscription(monthly, start=_at(1), interval="year", amount=12001)
    _subscription(euro, start=_at(6), trial_end=_at(20), amount=900)
    _subscription(monthly, start=_at(1, 10), ended=_at(15), amount=1000)


def test_mrr_counts_paid_subscriptions_by_currency_yearly_as_a_twelfth(history) -> None:  # type: ignore[no-untyped-def]
    series = mrr_series(on=date(2026, 11, 30), days=30)

    gbp, eur = dict(series["gbp"]), dict(series["eur"])
    assert gbp[date(2026, 11, 1)] == 1000 + 1000 + 1000  # 12001/12 = 1000.08 rounds down
    assert gbp[date(2026, 11, 14)] == 3000
    assert gbp[date(2026, 11, 15)] == 2000  # the cancellation left on the day it ended
    assert eur[date(2026, 11, 19)] == 0  # still in its trial
    assert eur[date(2026, 11, 20)] == 900
    assert len(series["gbp"]) == 30


def test_a_past_day_is_recomputed_the_same(history) -> None:  # type: ignore[no-untyped-def]
    assert mrr_series(on=date(2026, 11, 14), days=1) == {
        "eur": [(date(2026, 11, 14), 0)],
        "gbp": [(date(2026, 11, 14), 3000)],
    }


def test_active_subscriptions_by_plan_and_channel(history) -> None:  # type: ignore[no-untyped-def]
    EntitlementFactory(source="subscription")  # an entitlement alone is not a subscription
    EntitlementFactory(source="comp")

    assert active_by_plan(on=date(2026, 11, 25)) == {"Euro": 1, "Monthly": 2}
    assert active_by_channel(on=date(2026, 11, 25)) == {"web": 3}
    assert active_by_plan(on=date(2026, 11, 10)) == {"Monthly": 3}


def test_monthly_churn_is_ended_over_paying_at_month_start(history) -> None:  # type: ignore[no-untyped-def]
    churn = monthly_churn(on=date(2026, 11, 30), months=2)

    assert [(c.month, c.live_at_start, c.ended) for c in churn] == [
        (date(2026, 10, 1), 0, 0),
        (date(2026, 11, 1), 2, 1),  # the yearly one started during the day, after midnight
    ]
    assert churn[1].rate == 0.5


def test_trial_cohorts_and_conversion_per_week() -> None:
    converts, stays, late = UserFactory(), UserFactory(), UserFactory()
    for user, start in ((converts, _at(2)), (stays, _at(3)), (late, _at(10))):
        Trial.objects.create(
            user=user,
            email_hash=f"h{user.pk}",
            started_at=start,
            ends_at=start + timedelta(days=14),
        )
    paid(converts, 1000, _at(16))
    paid(late, 1000, _at(9))  # paid before the trial began: not a conversion

    cohorts = trial_cohorts(on=date(2026, 11, 20), weeks=3)

    assert [(c.week, c.started, c.converted) for c in cohorts] == [
        (date(2026, 11, 2), 2, 1),
        (date(2026, 11, 9), 1, 0),
        (date(2026, 11, 16), 0, 0),
    ]
    assert cohorts[0].rate == 0.5


def test_reads_and_engaged_hours_per_title() -> None:
    a, b = TitleFactory(name="Alpha"), TitleFactory(name="Beta")
    reader = UserFactory()
    read(reader, a, date(2026, 11, 20), 3600)
    read(reader, a, date(2026, 11, 21), 10, qualified=False)
    read(reader, b, date(2026, 11, 21), 1800)
    read(reader, b, date(2026, 10, 1), 999)  # outside the 30 days

    found = reads_by_title(on=date(2026, 11, 30))

    assert [(t.title, t.qualifying_reads, t.engaged_seconds, t.hours) for t in found] == [
        ("Alpha", 1, 3610, 3610 / 3600),
        ("Beta", 1, 1800, 0.5),
    ]


def test_the_dashboard_page_shows_charts_and_numbers(history) -> None:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(StaffFactory())

    page = browser.get("/admin/dashboard/", {"on": "2026-11-14"})

    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('<svg class="chart"') == 4
    assert "£30.00" in html
    assert "comps" in html.lower() or "complimentary" in html.lower()
    assert "cdn" not in html.lower()


def test_a_bad_day_shows_today_rather_than_failing() -> None:
    browser = Client()
    browser.force_login(StaffFactory())

    assert browser.get("/admin/dashboard/", {"on": "not-a-day"}).status_code == 200


def test_publisher_staff_see_their_titles_reads_only() -> None:
    own, other = TitleFactory(name="Own Gazette"), TitleFactory(name="Other Herald")
    reader = UserFactory()
    read(reader, own, date(2026, 11, 20), 100)
    read(reader, other, date(2026, 11, 20), 100)
    staff = UserFactory(is_staff=True)
    TitleStaff.objects.create(user=staff, title=own)
    browser = Client()
    browser.force_login(staff)

    html = browser.get("/admin/dashboard/", {"on": "2026-11-30"}).content.decode()

    assert "Own Gazette" in html
    assert "Other Herald" not in html
    assert "Monthly recurring revenue" not in html


def test_readers_are_sent_away_from_the_dashboard() -> None:
    browser = Client()
    browser.force_login(UserFactory())

    assert browser.get("/admin/dashboard/").status_code in (302, 403)
