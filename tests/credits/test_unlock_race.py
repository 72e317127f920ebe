"""Parallel unlocks on PostgreSQL, through the API: the balance never drops below zero and
each credit buys one article."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from membership.models import CreditAccount, CreditUnlock
from membership.services import credits_add
from tests.factories import ArticleFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks: run with DATABASE_URL=postgres://"
    ),
]


def test_parallel_unlocks_never_spend_more_than_the_balance() -> None:
    reader = UserFactory()
    articles = [ArticleFactory() for _ in range(8)]
    credits_add(user=reader, reference="cs_race", credits=3, pack="Three")
    start = threading.Barrier(len(articles) + 2)

    def unlock(article_id: int) -> int:
        client = APIClient()
        client.force_authenticate(reader)
        try:
            start.wait()
            return client.post(f"/api/v1/articles/{article_id}/unlock/").status_code
        finally:
            connection.close()

    ids = [a.pk for a in articles] + [articles[0].pk, articles[0].pk]  # one asked thrice
    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        statuses = list(pool.map(unlock, ids))

    assert set(statuses) <= {201, 402}
    assert CreditAccount.objects.get(user=reader).balance == 0
    assert CreditUnlock.objects.filter(user=reader).count() == 3
    assert statuses.count(402) >= len(ids) - 5  # at most 3 articles, asked up to 5 times
