"""A catalogue whose premium bodies carry a marker, and readers in every state the paywall
knows: for the bad-input, leak-scan and security tests of the reliability suite.

Premium bodies come from ``ArticleFactory``: a lead paragraph, then ``MARKER``. Open
articles (free articles, articles of a free title) never carry it, so any page or API
answer that contains the marker has leaked a premium body.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.test import Client

from accounts.models import User
from billing.services import subscription_sync
from membership.models import Article, Plan, Title
from tests.billing.paying import clock_create, plan_on_sale, subscribe
from tests.factories import ArticleFactory, PlanFactory, TitleFactory, UserFactory
from tests.stripe_sandbox.conftest import advance
from tests.web.conftest import lapsed_reader, never_trialled_reader, trialling_reader

MARKER = "PREMIUM-BODY-MARKER"
OPEN_BODY = "An opening paragraph anyone may read.\n\nThe rest is open to everyone too."
DAY = 86400


@dataclass
class Catalogue:
    """Titles with their articles: ``premium`` bodies carry the marker, ``open`` ones do not."""

    titles: list[Title]
    premium: list[Article] = field(default_factory=list)
    open: list[Article] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)


def catalogue_make(*, sizes: tuple[int, ...] = (23, 4, 2)) -> Catalogue:
    """Premium titles with ``sizes`` premium articles each (23 fill three pages of ten), one
    free article among them, a free title with two articles, and two plans (not pushed)."""
    titles = [
        TitleFactory(name=f"Premium Title {n}", slug=f"premium-{n}", is_premium=True)
        for n in range(len(sizes))
    ]
    catalogue = Catalogue(titles=list(titles))
    for title, size in zip(titles, sizes, strict=True):
        catalogue.premium += [ArticleFactory(title=title) for _ in range(size)]
    catalogue.open.append(ArticleFactory(title=titles[0], is_free=True, body=OPEN_BODY))
    free_title = TitleFactory(name="Open Title", slug="open-title", is_premium=False)
    catalogue.titles.append(free_title)
    catalogue.open += [ArticleFactory(title=free_title, body=OPEN_BODY) for _ in range(2)]
    everything = PlanFactory(slug="everything", name="Everything", display_order=0)
    essentials = PlanFactory(slug="essentials", name="Essentials", all_titles=False)
    essentials.titles.set(titles[:1])
    catalogue.plans = [everything, essentials]
    return catalogue


def plans_on_sale(catalogue: Catalogue) -> list[Plan]:
    """Push the catalogue's plans to the sandbox (needs the ``sandbox_api`` fixture)."""
    return [plan_on_sale(plan) for plan in catalogue.plans]


def payment_failed_reader(sandbox: Any, plan: Plan) -> tuple[User, datetime]:
    """A subscriber whose first charge failed, and a moment when their grace has run out.

    A one-day card trial on a test clock, charged to a card that always fails; call with
    ``settings.BILLING_GRACE_DAYS = 0`` and read the reader's pages at the moment returned.
    """
    reader = UserFactory()
    stripe = sandbox.client()
    clock, start = clock_create(stripe)
    subscription = subscribe(
        stripe, reader, plan, card="pm_card_chargeCustomerFail", clock=clock, trial_days=1
    )
    advance(stripe, clock, start + DAY + 60)
    past_due = subscription_sync(subscription_id=subscription.stripe_id)
    assert past_due.status == "past_due" and past_due.payment_failed_at is not None
    reader.refresh_from_db()
    assert reader.payment_issue_since is not None
    return reader, past_due.payment_failed_at + timedelta(minutes=1)


READERS_WITHOUT_ACCESS = {
    "never_trialled": never_trialled_reader,
    "lapsed": lapsed_reader,
}
READER_WITH_ACCESS = trialling_reader


def session_token(user: User) -> str:
    """Sign ``user`` in and return the session key, which is the app's ``X-Session-Token``."""
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    assert key
    return key
