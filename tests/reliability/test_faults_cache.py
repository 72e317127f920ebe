"""Redis down under the web app: reading, signing in and Stripe's webhooks go on.

gunicorn serves Masthead as in production, with its cache (the API's throttles, allauth's
rate limits) and its broker on a ``redis-server`` of the test's own, which the test kills.
Every request goes over HTTP through the real paths: the DRF API, allauth's headless
sign-in, the web sign-in page, the pages and the webhook endpoint. While the server is down
rate limits fail open with a warning line in the log; once it is back they count again.
"""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.conf import settings

from billing.models import WebhookEvent
from membership.models import Article
from tests.billing.conftest import WEBHOOK_URL, event_payload, stripe_signature
from tests.celery_worker import worker_database_url
from tests.factories import PASSWORD, ArticleFactory, EntitlementFactory, PlanFactory, UserFactory
from tests.reliability.instances import RedisServer, redis_server, wait_until
from tests.reliability.storm import gunicorn_running

pytestmark = pytest.mark.django_db(transaction=True)  # gunicorn reads the rows

CACHE_DB, BROKER_DB = 1, 0
ANON_RATE = 5  # API_THROTTLE_ANON of the site here, per minute
HEADLESS_LOGIN = "/_allauth/app/v1/auth/login"
WEB_LOGIN = "/accounts/login/"
PLANS = "/api/v1/plans/"
QUICK = 3.0  # seconds: no answer waits on the dead server (argon2 takes most of one)


@dataclass
class Site:
    url: str
    redis: RedisServer
    log_path: Path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self._timed("get", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self._timed("post", path, **kwargs)

    def _timed(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        session = kwargs.pop("session", None) or requests.Session()
        began = time.monotonic()
        answer = session.request(method, self.url + path, timeout=30, **kwargs)
        took = time.monotonic() - began
        assert answer.status_code != 500, f"{method} {path}: 500\n{self.log()}"
        assert took < QUICK, f"{method} {path} took {took:.1f}s"
        return answer

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def counted(self) -> list[bytes]:
        """The rate-limit counters the cache server holds just now."""
        client = redis.Redis(port=self.redis.port, db=CACHE_DB)
        try:
            return list(client.keys("*"))
        finally:
            client.close()


@pytest.fixture
def site(transactional_db: None, tmp_path: Path) -> Iterator[Site]:
    with redis_server(tmp_path / "redis") as server:
        env = {
            "CACHE_URL": server.url(CACHE_DB),
            "CELERY_BROKER_URL": server.url(BROKER_DB),
            "API_THROTTLE_ANON": f"{ANON_RATE}/min",
        }
        log_path = tmp_path / "web.log"
        with gunicorn_running(
            database_url=worker_database_url(), env=env, log_path=log_path, workers=1
        ) as url:
            yield Site(url=url, redis=server, log_path=log_path)


def premium_reader() -> tuple[str, Article]:
    """A reader with complimentary access to every title, and a premium article."""
    entitlement = EntitlementFactory()
    return entitlement.user.email, ArticleFactory()


def web_sign_in(site: Site, email: str, password: str) -> requests.Session:
    browser = requests.Session()
    page = site.get(WEB_LOGIN, session=browser)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    form = {"login": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
    answer = site.post(WEB_LOGIN, data=form, session=browser, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return browser


def headless_sign_in(site: Site, email: str, password: str) -> requests.Response:
    return site.post(HEADLESS_LOGIN, json={"email": email, "password": password})


def post_webhook(site: Site, event_id: str) -> requests.Response:
    body = json.dumps(event_payload(event_id, "customer.created", {"id": "cus_x"})).encode()
    signature = stripe_signature(body, secret=settings.STRIPE_WEBHOOK_SECRET)
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
    return site.post(WEBHOOK_URL, data=body, headers=headers)


def test_reading_and_signing_in_go_on_while_the_cache_is_down(site: Site) -> None:
    plan = PlanFactory()
    email, article = premium_reader()
    assert site.get(PLANS).status_code == 200
    assert site.counted(), "the API's throttle counts in this test's cache server"

    site.redis.stop()

    plans = site.get(PLANS)
    assert plans.status_code == 200
    assert [p["slug"] for p in plans.json()] == [plan.slug]

    signed_in = headless_sign_in(site, email, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    token = {"X-Session-Token": signed_in.json()["meta"]["session_token"]}
    me = site.get("/api/v1/me/", headers=token)
    assert me.status_code == 200 and me.json()["email"] == email
    read = site.get(f"/api/v1/articles/{article.pk}/", headers=token)
    assert read.status_code == 200 and "PREMIUM-BODY-MARKER" in read.json()["body"]

    browser = web_sign_in(site, email, PASSWORD)
    page = site.get(f"/articles/{article.pk}/", session=browser)
    assert page.status_code == 200 and "PREMIUM-BODY-MARKER" in page.text

    stored = post_webhook(site, "evt_while_the_cache_is_down")
    assert stored.status_code == 200 and stored.json() == {"received": True, "duplicate": False}
    assert WebhookEvent.objects.get(stripe_id="evt_while_the_cache_is_down").status == "received"

    log = site.log()
    assert f"Cache 127.0.0.1:{site.redis.port} unreachable" in log
    assert "rate limits fail open" in log
    assert "Internal Server Error" not in log


def test_rate_limits_fail_open_while_the_cache_is_down_and_count_again_once_it_is_back(
    site: Site,
) -> None:
    reader = UserFactory()
    wrong = {"email": reader.email, "password": "not-the-password"}
    site.redis.stop()

    # Over the API's anonymous rate and over allauth's five failed sign-ins for an account.
    assert [site.get(PLANS).status_code for _ in range(ANON_RATE + 2)] == [200] * (ANON_RATE + 2)
    failures = [site.post(HEADLESS_LOGIN, json=wrong).status_code for _ in range(6)]
    assert failures == [400] * 6
    assert headless_sign_in(site, reader.email, PASSWORD).status_code == 200
    assert site.log().count("rate limits fail open") >= 1

    site.redis.start()  # empty: what it counted before is gone
    wait_until(lambda: site.get(PLANS).status_code == 200 and site.counted(), "counting", 15)
    answers = [site.get(PLANS).status_code for _ in range(ANON_RATE)]
    assert answers == [200] * (ANON_RATE - 1) + [429]
    assert "reachable again: rate limits count again" in site.log()
