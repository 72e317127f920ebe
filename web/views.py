"""The reader's pages: thin views over membership's selectors, services and paywall."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from billing.checkout import checkout_trial_ends
from billing.credit_packs import credit_packs_on_sale
from billing.selectors import billing_account_exists, subscription_summary_get
from core.api import mark_reader_specific
from core.errors import ApplicationError
from core.site import site_url
from groups.selectors import group_view_get
from membership.devices import request_device_id, request_is_crawler
from membership.gift_link_selectors import gift_allowance_get, gift_link_rows
from membership.meter import meter_limits_get
from membership.models import GIFTING_SOURCES
from membership.reading import GIFT_PARAMETER, article_read, gift_referrer_hide
from membership.selectors import (
    article_get,
    article_list,
    credit_balance_get,
    credit_unlocks_list,
    entitlement_list_live,
    paywall_get,
    plan_list,
    title_get,
    title_list,
    trial_state_get,
)
from membership.services import trial_start
from membership.store_selectors import store_membership_get
from web.jsonld import news_article_ld

View = Callable[..., HttpResponse]

ARTICLES_PER_PAGE = 10
LATEST_ON_HOME = 12
PERIODS = ("monthly", "yearly")


def reader_page(view: View) -> View:
    """Keep the page out of shared caches: it shows who is signed in and what they may read."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return mark_reader_specific(view(request, *args, **kwargs))

    return wrapped


def _next_query(path: str) -> str:
    return urlencode({"next": path})


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """Return the POSTed ``next`` if it stays on this site, else ``fallback``."""
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else fallback


def _plans_on_sale(request: HttpRequest) -> list[Any]:
    """Return the plans on sale, each with ``trial_until``: when the free trial Checkout
    would start for this reader ends, or None when they would pay at once."""
    plans: list[Any] = list(plan_list())
    user = request.user if isinstance(request.user, User) else None
    trial_ends = checkout_trial_ends(user=user, plans=plans)
    for plan in plans:
        plan.trial_until = trial_ends[plan.pk]
    return plans


def _trial_state(request: HttpRequest) -> Any:
    user = request.user
    return trial_state_get(user=user) if isinstance(user, User) else None


@reader_page
@require_GET
def home_page(request: HttpRequest) -> HttpResponse:
    """Show the titles, the latest articles and the call to start the free trial."""
    context = {
        "titles": title_list(),
        "articles": article_list()[:LATEST_ON_HOME],
        "trial_state": _trial_state(request),
        "next_query": _next_query(request.path),
    }
    return render(request, "web/home.html", context)


@reader_page
@require_GET
def title_list_page(request: HttpRequest) -> HttpResponse:
    """List every title in the catalogue."""
    return render(request, "web/titles.html", {"titles": title_list()})


@reader_page
@require_GET
def title_page(request: HttpRequest, slug: str) -> HttpResponse:
    """List one title's articles, newest first, a page at a time."""
    title = title_get(slug=slug)
    page = Paginator(article_list(title=title), ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "web/title.html", {"title": title, "page": page})


@reader_page
@require_GET
def article_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the article to a reader with access; otherwise its teaser and the paywall."""
    article = article_get(article_id=pk, reader=request.user)
    crawler = request_is_crawler(request)
    gift_token = request.GET.get(GIFT_PARAMETER)
    decision = article_read(
        reader=request.user,
        article=article,
        device_id=None if crawler else request_device_id(request, create=not article.is_open),
        crawler=crawler,
        gift_token=gift_token,
    )
    reader = request.user if isinstance(request.user, User) else None
    context = {
        "article": article,
        "decision": decision,
        "meter": decision.meter,
        "gift": decision.gift,
        # Paid access (not a trial) may give gift links: the page offers one.
        "may_gift": decision.granted and decision.reason in GIFTING_SOURCES,
        # The registration wall: what a free account would give a reader not signed in.
        "registered_limit": meter_limits_get().registered
        if reader is None and not decision.granted and not crawler
        else 0,
        # The body leaves the server only for a reader whose access is granted.
        "paragraphs": article.body.split("\n\n") if decision.granted else None,
        # One template per denial reason (web/paywall/), the plans when a reason has none.
        "paywall_templates": [
            f"web/paywall/{decision.reason}.html",
            "web/paywall/subscribe.html",
        ],
        "paywall": None
        if decision.granted
        else paywall_get(
            reason=decision.reason, reader=reader, article=article, credits=decision.credits
        ),
        "plans": _plans_on_sale(request),
        "next_query": _next_query(request.path),
        "ld": news_article_ld(
            article=article, url=site_url(article.get_absolute_url()), granted=decision.granted
        ),
    }
    response = render(request, "web/article.html", context)
    return gift_referrer_hide(response) if gift_token else response


@reader_page
@require_GET
def pricing_page(request: HttpRequest) -> HttpResponse:
    """Show the plans on sale, monthly or yearly (``?period=``), and what each covers."""
    period = request.GET.get("period")
    context = {
        "plans": _plans_on_sale(request),
        "period": period if period in PERIODS else PERIODS[0],
        "next_query": _next_query(request.get_full_path()),
    }
    return render(request, "web/pricing.html", context)


@reader_page
@require_GET
@login_required
def account_page(request: HttpRequest) -> HttpResponse:
    """Show the reader's email, trial, live entitlements and subscription."""
    assert isinstance(request.user, User)
    trial_state = trial_state_get(user=request.user)
    context = {
        "trial_state": trial_state,
        "trial": trial_state.trial,
        "entitlements": entitlement_list_live(user=request.user),
        "subscription": subscription_summary_get(user=request.user),
        "store_membership": store_membership_get(user=request.user),
        "billing_account": billing_account_exists(user=request.user),
        "gift_allowance": gift_allowance_get(giver=request.user),
        "gift_links": gift_link_rows(giver=request.user),
        "group": group_view_get(user=request.user),
        "credits": credit_balance_get(user=request.user),
        "unlocked": credit_unlocks_list(user=request.user),
        "credit_packs": credit_packs_on_sale(),
    }
    return render(request, "web/account.html", context)


@reader_page
@require_POST
def trial_start_submit(request: HttpRequest) -> HttpResponse:
    """Start the reader's free trial in one click, then go back to where they were."""
    next_url = _safe_next(request, fallback=reverse("web:account"))
    if not isinstance(request.user, User):
        return redirect(f"{reverse('account_signup')}?{_next_query(next_url)}")
    try:
        trial_start(user=request.user)
    except ApplicationError as error:
        messages.info(request, error.message)
    else:
        messages.success(
            request, f"Your {settings.TRIAL_DAYS}-day free trial has started. Enjoy reading."
        )
    return redirect(next_url)
