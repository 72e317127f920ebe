"""Reading one article as a signed-in reader costs at most 3 queries, however much data exists.

The reader, the article with its title, and the one entitlement question; the session is
read from the cache (accounts/sessions.py). The first read after signing in may find the
cache empty and read the session row too.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from membership.models import Entitlement, EntitlementSource
from tests.api.conftest import MARKER, session_token_for
from tests.factories import TitleFactory, UserFactory

# The entitlement paywall alone: the meter is off (its own tests are in test_meter*.py).
pytestmark = pytest.mark.usefixtures("meter_off")


def entitlements_make(  # type: ignore[no-untyped-def]
    *, reader, count: int, article_title, source=EntitlementSource.SUBSCRIPTION
) -> None:
    """Store ``count`` entitlements across many titles and readers; the reader's own cover
    only other titles, except one from ``source`` that covers ``article_title``."""
    titles = [TitleFactory() for _ in range(20)]
    others = [UserFactory() for _ in range(5)]
    now = timezone.now()
    rows = [
        Entitlement(
            user=reader if n % 10 == 0 else others[n % 5],
            source=EntitlementSource.COMP,
            all_titles=False,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
        )
        for n in range(count - 1)
    ]
    Entitlement.objects.bulk_create(rows)
    through = Entitlement.titles.through
    through.objects.bulk_create(
        through(entitlement_id=row.pk, title_id=titles[n % 20].pk) for n, row in enumerate(rows)
    )
    mine = Entitlement.objects.create(
        user=reader,
        source=source,
        all_titles=False,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
    )
    mine.titles.add(article_title)


@pytest.mark.parametrize("count", [1, 1000])
@pytest.mark.parametrize("signed_in_by", ["session", "token"])
def test_reading_an_article_costs_at_most_three_queries(
    reader, premium_article, django_assert_max_num_queries, count, signed_in_by
):
    entitlements_make(reader=reader, count=count, article_title=premium_article.title)
    assert Entitlement.objects.count() == count
    if signed_in_by == "session":
        client = APIClient()
        client.force_login(reader)
    else:
        client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))

    with django_assert_max_num_queries(2):
        response = client.get(
            reverse("membership:article-detail", kwargs={"pk": premium_article.pk})
        )

    assert response.status_code == 200
    assert response.json()["access"] == {"granted": True, "reason": "subscription"}
    assert MARKER in response.json()["body"]


@pytest.mark.parametrize("signed_in_by", ["session", "token"])
def test_a_denied_reader_costs_at_most_three_queries_too(
    reader, premium_article, django_assert_max_num_queries, signed_in_by
):
    entitlements_make(
        reader=reader, count=1000, article_title=TitleFactory(), source=EntitlementSource.COMP
    )
    if signed_in_by == "session":
        client = APIClient()
        client.force_login(reader)
    else:
        client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))

    with django_assert_max_num_queries(2):
        response = client.get(
            reverse("membership:article-detail", kwargs={"pk": premium_article.pk})
        )

    assert response.json()["access"] == {"granted": False, "reason": "start_trial"}
    assert "body" not in response.json()


def test_a_subscriber_outside_their_plan_costs_one_query_more_for_the_plans_named(
    reader, premium_article, django_assert_max_num_queries
):
    """The ``upgrade`` paywall names the plans covering the title: one query on top."""
    entitlements_make(reader=reader, count=1000, article_title=TitleFactory())
    client = APIClient(HTTP_X_SESSION_TOKEN=session_token_for(reader))

    with django_assert_max_num_queries(3):
        response = client.get(
            reverse("membership:article-detail", kwargs={"pk": premium_article.pk})
        )

    assert response.json()["access"] == {"granted": False, "reason": "upgrade"}
    assert "body" not in response.json()
