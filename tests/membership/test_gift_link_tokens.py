"""Gift-link tokens: unguessable, stored only as a hash, the same again for the giver."""

import hashlib
from datetime import UTC, datetime

import pytest

from membership.gift_link_selectors import gift_link_rows
from membership.models import EntitlementSource, GiftLink
from membership.services.gift_links import gift_link_create, gift_link_open, gift_link_token
from tests.factories import ArticleFactory, EntitlementFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def giver():  # type: ignore[no-untyped-def]
    reader = UserFactory()
    EntitlementFactory(
        user=reader,
        source=EntitlementSource.COMP,
        starts_at=datetime(2020, 1, 1, tzinfo=UTC),
        ends_at=datetime(2035, 1, 1, tzinfo=UTC),
    )
    return reader


def test_tokens_carry_256_random_looking_bits_and_only_their_hash_is_stored(giver):
    given = [gift_link_create(giver=giver, article=ArticleFactory()) for _ in range(5)]

    tokens = {g.token for g in given}
    assert len(tokens) == 5
    assert all(len(t) == 43 and t.isascii() and "=" not in t for t in tokens)  # 32 bytes
    stored = " ".join(f"{row.salt} {row.token_hash}" for row in GiftLink.objects.all())
    assert not any(t in stored for t in tokens)
    for g in given:
        assert g.link.token_hash == hashlib.sha256(g.token.encode()).hexdigest()
        assert gift_link_token(link=GiftLink.objects.get(pk=g.link.pk)) == g.token


def test_a_token_is_bound_to_the_key_the_giver_and_the_article(giver, settings):
    given = gift_link_create(giver=giver, article=ArticleFactory())
    link = GiftLink.objects.get(pk=given.link.pk)

    settings.GIFT_LINK_KEY = "another-key"
    assert gift_link_token(link=link) != given.token
    settings.GIFT_LINK_KEY = settings.SECRET_KEY
    assert gift_link_token(link=link) == given.token
    link.giver_id += 1
    assert gift_link_token(link=link) != given.token
    link.giver_id -= 1
    link.article_id += 1
    assert gift_link_token(link=link) != given.token


def test_after_the_key_changes_links_still_open_and_the_giver_gets_a_new_one(giver, settings):
    article = ArticleFactory()
    old = gift_link_create(giver=giver, article=article)

    settings.GIFT_LINK_KEY = "a-new-key-after-a-leak"
    opened = gift_link_open(token=old.token, article=article, reader=None, device_id=None)
    rows = gift_link_rows(giver=giver)
    new = gift_link_create(giver=giver, article=article)

    assert opened.granted
    assert rows[0].url == "" and rows[0].token == ""
    assert new.new and new.token != old.token
    assert gift_link_rows(giver=giver)[0].token == new.token
