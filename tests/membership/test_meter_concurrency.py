"""Parallel reads by one reader never grant more free articles than the limit."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from membership.devices import device_id_new
from membership.meter_models import MeterCount, MeterRead
from membership.models import Article
from membership.reading import ReadDecision, article_read, read_article_get
from tests.factories import ArticleFactory, TitleFactory, UserFactory


def read_in_parallel(
    articles: list[Article], *, fetched: bool = False, **who: object
) -> list[ReadDecision]:
    """Read each article in its own thread (its own connection), all released at once;
    ``fetched``: as the API does, the article's own statement counting the read."""
    start = threading.Barrier(len(articles))

    def one(article: Article) -> ReadDecision:
        try:
            start.wait()
            if fetched:
                article = read_article_get(article_id=article.pk, **who)  # type: ignore[arg-type]
            return article_read(article=article, **who)  # type: ignore[arg-type]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(articles)) as pool:
        return list(pool.map(one, articles))


@pytest.fixture
def ten_articles(transactional_db) -> list[Article]:  # type: ignore[no-untyped-def]
    paper = TitleFactory()
    made = [ArticleFactory(title=paper) for _ in range(11)]
    return list(Article.objects.select_related("title").filter(pk__in=[a.pk for a in made]))


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="parallel writers need PostgreSQL"
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fetched", [False, True])
def test_ten_parallel_reads_by_a_device_at_its_last_free_article_grant_exactly_one(
    ten_articles, fetched
) -> None:
    device = device_id_new()
    first, *rest = ten_articles
    assert article_read(reader=None, article=first, device_id=device).granted  # 1 of 2

    decisions = read_in_parallel(rest, fetched=fetched, reader=None, device_id=device)

    assert sum(d.granted for d in decisions) == 1
    assert {d.reason for d in decisions if not d.granted} == {"sign_up"}
    assert MeterCount.objects.get(subject=f"device:{device}").used == 2
    assert MeterRead.objects.filter(subject=f"device:{device}").count() == 2


@needs_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fetched", [False, True])
def test_parallel_reads_of_one_article_count_it_once(ten_articles, fetched) -> None:
    device = device_id_new()
    article = ten_articles[0]

    decisions = read_in_parallel([article] * 10, fetched=fetched, reader=None, device_id=device)

    assert all(d.granted for d in decisions)
    assert MeterCount.objects.get(subject=f"device:{device}").used == 1
    assert MeterRead.objects.filter(subject=f"device:{device}").count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_signed_in_reader_at_the_limit_gets_exactly_the_rest(ten_articles) -> None:
    reader = UserFactory()
    for article in ten_articles[:3]:
        assert article_read(reader=reader, article=article, device_id=None).granted

    decisions = read_in_parallel(ten_articles[3:], reader=reader, device_id=None)

    assert sum(d.granted for d in decisions) == 2  # 3 used of 5
    assert MeterCount.objects.get(subject=f"user:{reader.pk}").used == 5


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reads_of_one_article_at_the_last_free_one_are_all_granted(
    ten_articles,
) -> None:
    device = device_id_new()
    first, second, *_ = ten_articles
    assert article_read(reader=None, article=first, device_id=device).granted  # 1 of 2

    decisions = read_in_parallel([second] * 10, reader=None, device_id=device)

    assert all(d.granted for d in decisions)  # one counts it, the others re-read it
    assert {d.meter.used for d in decisions if d.meter} == {2}
    assert MeterCount.objects.get(subject=f"device:{device}").used == 2
