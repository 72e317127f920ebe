"""The monthly meter behind article_read: limits, months, re-reads, merging, exemptions."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import RequestFactory

from membership.access import AccessReason
from membership.devices import device_id_new, device_token_make
from membership.meter import meter_limits_get, meter_month
from membership.meter_models import MeterCount, MeterPolicy, MeterRead
from membership.models import Article
from membership.reading import article_read
from tests.factories import ArticleFactory, EntitlementFactory, TitleFactory, UserFactory

pytestmark = pytest.mark.django_db


def articles(count: int, **title: object) -> list[Article]:
    """Premium articles of one title, loaded as the views load them (title joined)."""
    paper = TitleFactory(**title)
    made = [ArticleFactory(title=paper) for _ in range(count)]
    return list(Article.objects.select_related("title").filter(pk__in=[a.pk for a in made]))


def read(article: Article, *, device: str | None = None, reader=None, **kwargs):  # type: ignore[no-untyped-def]
    return article_read(reader=reader, article=article, device_id=device, **kwargs)


def test_a_device_reads_two_premium_articles_free_then_meets_the_sign_up_wall() -> None:
    first, second, third = articles(3)
    device = device_id_new()

    one = read(first, device=device)
    two = read(second, device=device)
    three = read(third, device=device)

    assert (one.granted, one.reason, one.meter.used, one.meter.remaining) == (
        True,
        AccessReason.METERED,
        1,
        1,
    )
    assert (two.granted, two.meter.used, two.meter.limit, two.meter.remaining) == (True, 2, 2, 0)
    assert (three.granted, three.reason) == (False, AccessReason.SIGN_UP)
    assert (three.meter.used, three.meter.remaining) == (2, 0)
    assert MeterRead.objects.count() == 2


def test_a_re_read_in_the_same_month_is_free() -> None:
    first, second, third = articles(3)
    device = device_id_new()
    read(first, device=device)
    read(second, device=device)

    again = read(first, device=device)

    assert (again.granted, again.reason, again.meter.used) == (True, AccessReason.METERED, 2)
    assert not read(third, device=device).granted
    assert MeterRead.objects.count() == 2


def test_a_signed_in_reader_without_trial_or_plan_reads_five(reader) -> None:
    many = articles(6)

    decisions = [read(article, reader=reader) for article in many]

    assert [d.granted for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].reason == AccessReason.START_TRIAL
    assert decisions[-1].meter.limit == 5
    assert MeterCount.objects.get(subject=f"user:{reader.pk}").used == 5


def test_a_request_without_any_device_is_not_metered() -> None:
    (article,) = articles(1)

    decision = read(article, device=None)

    assert (decision.granted, decision.reason, decision.meter) == (False, "sign_up", None)
    assert not MeterRead.objects.exists()


def test_each_device_has_its_own_allowance() -> None:
    first, second, third = articles(3)
    spent = device_id_new()
    read(first, device=spent)
    read(second, device=spent)

    assert read(third, device=device_id_new()).granted
    assert not read(third, device=spent).granted


@pytest.mark.parametrize("limits", [(0, 5), (2, 0)])
def test_a_limit_of_zero_turns_that_meter_off(settings, reader, limits) -> None:
    settings.METER_ANONYMOUS, settings.METER_REGISTERED = limits
    (article,) = articles(1)

    anonymous = read(article, device=device_id_new())
    signed_in = read(article, reader=reader)

    assert anonymous.granted is (limits[0] > 0)
    assert signed_in.granted is (limits[1] > 0)
    off = anonymous if limits[0] == 0 else signed_in
    assert off.meter is None and off.reason in ("sign_up", "start_trial")


def test_the_admins_policy_row_wins_over_the_settings_and_applies_at_once() -> None:
    first, second = articles(2)
    device = device_id_new()
    assert meter_limits_get().anonymous == 2  # the setting, read and cached
    policy = MeterPolicy.objects.create(anonymous_limit=1, registered_limit=3)

    assert read(first, device=device).granted
    assert not read(second, device=device).granted

    policy.anonymous_limit = 0
    policy.save()
    assert read(first, device=device).meter is None


def test_a_never_metered_title_is_a_hard_paywall(reader) -> None:
    (article,) = articles(1, never_metered=True)

    assert not read(article, device=device_id_new()).granted
    assert not read(article, reader=reader).granted
    assert not MeterRead.objects.exists()


def test_free_articles_cost_the_meter_nothing() -> None:
    (article,) = articles(1, is_premium=False)

    decision = read(article, device=device_id_new())

    assert (decision.granted, decision.reason, decision.meter) == (True, "free_article", None)
    assert not MeterRead.objects.exists()


def test_a_reader_with_access_is_never_metered_and_costs_no_meter_query(
    django_assert_max_num_queries,
) -> None:
    reader = UserFactory()
    EntitlementFactory(user=reader)
    (article,) = articles(1)

    with django_assert_max_num_queries(1):  # the entitlement question, nothing more
        decision = read(article, reader=reader)

    assert (decision.granted, decision.reason, decision.meter) == (True, "comp", None)
    assert not MeterRead.objects.exists() and not MeterCount.objects.exists()


def test_a_subscriber_to_other_titles_is_not_metered(reader) -> None:
    EntitlementFactory(user=reader, source="subscription", all_titles=False)
    (article,) = articles(1)

    decision = read(article, reader=reader)

    assert (decision.granted, decision.reason, decision.meter) == (False, "upgrade", None)


def test_crawlers_are_never_metered_and_get_the_teaser() -> None:
    (article,) = articles(1)

    decision = read(article, device=device_id_new(), crawler=True)

    assert (decision.granted, decision.meter) == (False, None)
    assert not MeterRead.objects.exists()


def test_deciding_without_recording_grants_only_an_article_counted_this_month() -> None:
    counted, other = articles(2)
    device = device_id_new()
    read(counted, device=device)

    assert read(counted, device=device, record=False).granted
    peek = read(other, device=device, record=False)
    assert (peek.granted, peek.reason, peek.meter.used, peek.meter.remaining) == (
        False,
        "sign_up",
        1,
        1,
    )
    assert MeterRead.objects.count() == 1


# The calendar month, exact to the second ------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "last_second", "first_second"),
    [
        ("UTC", datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
        # Midnight in New York on 1 February is 05:00 UTC.
        (
            "America/New_York",
            datetime(2027, 2, 1, 4, 59, 59, tzinfo=UTC),
            datetime(2027, 2, 1, 5, 0, 0, tzinfo=UTC),
        ),
        # Tokyo's February starts at 15:00 UTC on 31 January.
        (
            "Asia/Tokyo",
            datetime(2027, 1, 31, 14, 59, 59, tzinfo=UTC),
            datetime(2027, 1, 31, 15, 0, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_allowance_starts_again_at_the_first_second_of_the_month(
    settings, zone, last_second, first_second
) -> None:
    settings.METER_TIMEZONE = zone
    first, second, third = articles(3)
    device = device_id_new()

    with time_machine.travel(last_second, tick=False):
        read(first, device=device)
        spent = read(second, device=device)
        late = read(third, device=device)
    with time_machine.travel(first_second, tick=False):
        fresh = read(third, device=device)

    assert spent.meter.resets_at == first_second
    assert not late.granted
    assert fresh.granted and fresh.meter.used == 1
    assert fresh.meter.resets_at > first_second


def test_a_re_read_in_the_next_month_counts_again() -> None:
    (article,) = articles(1)
    device = device_id_new()
    with time_machine.travel(datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC), tick=False):
        read(article, device=device)
    with time_machine.travel(datetime(2027, 4, 1, tzinfo=UTC), tick=False):
        again = read(article, device=device)

    assert again.meter.used == 1
    assert MeterRead.objects.count() == 2


def test_meter_month_handles_december_and_daylight_saving(settings) -> None:
    settings.METER_TIMEZONE = "Europe/London"

    month, resets_at = meter_month(datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC))
    summer, summer_reset = meter_month(datetime(2027, 3, 31, 23, 0, 0, tzinfo=UTC))

    assert (month.isoformat(), resets_at) == ("2027-12-01", datetime(2028, 1, 1, tzinfo=UTC))
    # 23:00 UTC on 31 March is midnight on 1 April in London (summer time).
    assert summer.isoformat() == "2027-04-01"
    assert summer_reset == datetime(2027, 4, 30, 23, 0, 0, tzinfo=UTC)


# Signing in and signing up --------------------------------------------------------------


def sign_in_request(device: str):  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/", HTTP_X_DEVICE_TOKEN=device_token_make(device_id=device))
    return request


def test_signing_in_merges_the_devices_reads_without_counting_twice(reader) -> None:
    from django.contrib.auth.signals import user_logged_in

    shared, device_only, reader_only, *more = articles(6)
    device = device_id_new()
    read(shared, device=device)
    read(device_only, device=device)
    read(shared, reader=reader)
    read(reader_only, reader=reader)

    user_logged_in.send(sender=type(reader), request=sign_in_request(device), user=reader)
    user_logged_in.send(sender=type(reader), request=sign_in_request(device), user=reader)

    assert MeterCount.objects.get(subject=f"user:{reader.pk}").used == 3
    decisions = [read(article, reader=reader) for article in more]
    assert [d.granted for d in decisions] == [True, True, False]  # the registered limit, 5
    assert decisions[-1].meter.used == 5


def test_signing_up_takes_the_devices_reads_into_the_new_account(client) -> None:
    from allauth.account.signals import user_signed_up

    first, second = articles(2)
    device = device_id_new()
    read(first, device=device)
    reader = UserFactory()

    user_signed_up.send(sender=type(reader), request=sign_in_request(device), user=reader)

    assert set(
        MeterRead.objects.filter(subject=f"user:{reader.pk}").values_list("article", flat=True)
    ) == {first.pk}
    assert read(first, reader=reader).meter.used == 1  # a re-read, free
    assert read(second, reader=reader).meter.used == 2


def test_a_merge_across_the_month_edge_takes_only_this_months_reads(reader) -> None:
    from django.contrib.auth.signals import user_logged_in

    old, new = articles(2)
    device = device_id_new()
    with time_machine.travel(datetime(2027, 5, 31, 23, 59, 59, tzinfo=UTC), tick=False):
        read(old, device=device)
    with time_machine.travel(datetime(2027, 6, 1, 0, 0, 0, tzinfo=UTC), tick=False):
        read(new, device=device)
        user_logged_in.send(sender=type(reader), request=sign_in_request(device), user=reader)
        assert read(old, reader=reader, record=False).granted is False
        assert read(new, reader=reader, record=False).meter.used == 1


def test_an_admin_sets_the_limits_in_the_admin_and_they_apply_at_once(client) -> None:
    from django.urls import reverse

    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    first, second = articles(2)
    device = device_id_new()
    assert read(first, device=device).meter.limit == 2

    form = client.get(reverse("admin:membership_meterpolicy_add")).content.decode()
    response = client.post(
        reverse("admin:membership_meterpolicy_add"),
        {"anonymous_limit": "1", "registered_limit": "3"},
    )

    assert 'value="2"' in form and 'value="5"' in form  # the settings, as the defaults
    assert response.status_code == 302
    assert (meter_limits_get().anonymous, meter_limits_get().registered) == (1, 3)
    assert not read(second, device=device).granted  # 1 used of 1
    assert client.get(reverse("admin:membership_meterpolicy_add")).status_code == 403  # one row
