"""The paying pages: Subscribe to Checkout, Manage billing to the portal, and the pages
Stripe sends the reader back to. Thin views over ``billing.checkout``."""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from billing.checkout import checkout_complete, checkout_start, plan_switch_open, portal_open
from billing.errors import BillingError, BillingErrorCode
from billing.offers import offer_get
from billing.offers_api import offer_view
from core.errors import ApplicationError
from core.site import site_url
from web.views import reader_page

INTERVAL_OF_PERIOD = {"monthly": "month", "yearly": "year"}


def _see_other(url: str) -> HttpResponse:
    """Redirect a POST to a page hosted by Stripe with 303, so the browser GETs it."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _safe(request: HttpRequest, target: str) -> str:
    """Return ``target`` if it is a path on this site, else an empty string."""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed and target.startswith("/") else ""


@reader_page
@require_POST
def subscribe_submit(request: HttpRequest) -> HttpResponse:
    """Send the reader to Stripe Checkout for the chosen plan and period."""
    period = request.POST.get("period", "")
    pricing = f"{reverse('web:pricing')}?{urlencode({'period': period or 'monthly'})}"
    if not isinstance(request.user, User):
        return redirect(f"{reverse('account_signup')}?{urlencode({'next': pricing})}")
    if period not in INTERVAL_OF_PERIOD:
        messages.error(request, "Choose monthly or yearly billing.")
        return redirect(reverse("web:pricing"))
    next_url = _safe(request, request.POST.get("next", ""))
    offer_code = request.POST.get("offer", "").strip()
    seats = request.POST.get("quantity", "").strip()
    try:
        started = checkout_start(
            user=request.user,
            plan_slug=request.POST.get("plan", ""),
            interval=INTERVAL_OF_PERIOD[period],
            next_url=next_url,
            offer_code=offer_code,
            quantity=int(seats) if seats.isdigit() else None,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        if error.code == BillingErrorCode.ALREADY_SUBSCRIBED:
            return redirect("web:account")
        if offer_code and not isinstance(error, BillingError):
            return redirect(reverse("web:offer", args=[offer_code]))
        return redirect(next_url or pricing)
    return _see_other(started.url)


@reader_page
@require_POST
def billing_manage_submit(request: HttpRequest) -> HttpResponse:
    """Send the reader to Stripe's Customer Portal, which brings them back to ``next`` (a
    page of this site) or to their account."""
    back = _safe(request, request.POST.get("next", "")) or reverse("web:account")
    if not isinstance(request.user, User):
        return redirect(f"{reverse('account_login')}?{urlencode({'next': back})}")
    try:
        url = portal_open(user=request.user, return_url=site_url(back))
    except BillingError as error:
        messages.error(request, error.message)
        return redirect(reverse("web:pricing") if error.status == 409 else back)
    return _see_other(url)


@reader_page
@require_POST
def plan_switch_submit(request: HttpRequest) -> HttpResponse:
    """Send a subscriber to Stripe's portal to confirm the switch to the chosen plan in one
    step; the portal brings them back to ``next`` (the article) or to their account."""
    back = _safe(request, request.POST.get("next", "")) or reverse("web:account")
    if not isinstance(request.user, User):
        return redirect(f"{reverse('account_login')}?{urlencode({'next': back})}")
    try:
        url = plan_switch_open(
            user=request.user,
            plan_slug=request.POST.get("plan", ""),
            return_url=site_url(back),
        )
    except BillingError as error:
        messages.error(request, error.message)
        if error.code == BillingErrorCode.NO_SUBSCRIPTION:
            return redirect("web:pricing")
        return redirect(back)
    return _see_other(url)


@reader_page
@require_GET
@login_required
def checkout_success_page(request: HttpRequest) -> HttpResponse:
    """Welcome a reader back from Checkout: apply their session at once, so they can read
    before Stripe's webhook arrives. Someone else's session is refused."""
    assert isinstance(request.user, User)
    session_id = request.GET.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise Http404("No checkout session.")
    context: dict[str, Any] = {"next": _safe(request, request.GET.get("next", ""))}
    try:
        context["subscription"] = checkout_complete(user=request.user, session_id=session_id)
    except BillingError as error:
        if error.code == BillingErrorCode.SESSION_MISMATCH:
            return render(request, "web/checkout_refused.html", status=403)
        if error.code == BillingErrorCode.NOT_FOUND:
            raise Http404("No such checkout session.") from error
        if error.code == BillingErrorCode.CHECKOUT_INCOMPLETE:
            messages.info(request, error.message)
            return redirect("web:pricing")
        # Stripe is unreachable: the webhook will apply the session when it comes.
        context["pending"] = True
    return render(request, "web/checkout_success.html", context)


@reader_page
@require_GET
def checkout_cancel_page(request: HttpRequest) -> HttpResponse:
    """Tell a reader who left Checkout that nothing was charged."""
    context = {"next": _safe(request, request.GET.get("next", ""))}
    return render(request, "web/checkout_cancel.html", context)


@reader_page
@require_GET
def offer_page(request: HttpRequest, code: str) -> HttpResponse:
    """An offer's terms and the plans it covers at their discounted prices, each with a
    button to Checkout with the discount applied."""
    try:
        offer = offer_get(code=code)
    except ApplicationError:
        raise Http404("No such offer") from None
    user = request.user if isinstance(request.user, User) else None
    view = offer_view(offer, user=user)
    period = request.GET.get("period", "monthly")
    interval = INTERVAL_OF_PERIOD.get(period, "month")
    for plan in view["plans"]:
        plan["price"] = next((p for p in plan["prices"] if p["interval"] == interval), None)
    context = {
        "offer": view,
        "period": period if period in INTERVAL_OF_PERIOD else "monthly",
        "next_query": urlencode({"next": request.get_full_path()}),
    }
    return render(request, "web/offer.html", context)
