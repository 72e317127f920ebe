"""``manage.py gift_links_seed_demo``: the demo prints a gift link that opens its article."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import Client

from membership.models import GiftLink

pytestmark = pytest.mark.django_db

PAYWALL = 'class="paywall'


@pytest.fixture(autouse=True)
def _fast(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.METER_ANONYMOUS = 0
    make_password("warm-up")


def test_the_demo_prints_a_gift_link_that_opens_the_whole_article_and_the_same_one_again(
    settings,
):
    settings.SITE_URL = "http://127.0.0.1:8000"
    call_command("seed_demo", "--no-progress", stdout=StringIO())
    first, second = StringIO(), StringIO()

    call_command("gift_links_seed_demo", stdout=first)
    call_command("gift_links_seed_demo", stdout=second)

    url = next(w for w in first.getvalue().split() if w.startswith("http://127.0.0.1:8000/a/"))
    assert url in second.getvalue() and GiftLink.objects.count() == 1
    link = GiftLink.objects.select_related("article").get()
    response = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    html = response.content.decode()
    assert response.status_code == 200
    ending = link.article.body.split("\n\n")[-1].strip()[:40]
    assert "A gift from a Masthead member" in html and PAYWALL not in html
    assert ending in html
    without = Client().get(link.article.get_absolute_url()).content.decode()
    assert PAYWALL in without and ending not in without


def test_without_the_demo_it_says_what_to_run(capsys):  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="seed_demo"):
        call_command("gift_links_seed_demo")
