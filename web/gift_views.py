"""The gift pages: buy a gift membership, come back from paying for it, redeem a code.
Thin views over ``gifts.services``."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from billing.errors import BillingError
from billing.models import OneTimePayment
from billing.one_time import one_time_payment_sync
from core.errors import ApplicationError
from gifts.models import GIFT_MONTHS
from gifts.selectors import gift_terms_get
from gifts.services import gift_amount, gift_checkout_start, gift_redeem
from membership.models import Plan
from web.views import reader_page


def _plans() -> list[dict[str, object]]:
    plans = Plan.objects.filter(is_active=True).order_by("display_order", "monthly_amount")
    return [
        {"plan": plan, "prices": [(m, gift_amount(plan=plan, months=m)) for m in GIFT_MONTHS]}
        for plan in plans
    ]


def _send_at(value: str) -> datetime | None:
    """A ``datetime-local`` value, read as UTC; None when empty or malformed."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


@reader_page
@require_http_methods(["GET", "POST"])
def gift_buy_page(request: HttpRequest) -> HttpResponse:
    """Choose a plan, a length, and whom to send the code to; then pay in Checkout."""
    if request.method == "POST":
        if not isinstance(request.user, User):
            here = reverse("web:gift-buy")
            return redirect(f"{reverse('account_signup')}?{urlencode({'next': here})}")
        try:
            started = gift_checkout_start(
                buyer=request.user,
                plan_slug=request.POST.get("plan", ""),
                months=int(request.POST.get("months") or 0),
                recipient_email=request.POST.get("recipient_email", "").strip(),
                send_at=_send_at(request.POST.get("send_at", "")),
                message=request.POST.get("message", "")[:500],
            )
        except (ApplicationError, ValueError) as error:
            messages.error(request, getattr(error, "message", "Choose a plan and a length."))
            return redirect("web:gift-buy")
        response = HttpResponseRedirect(started.url)
        response.status_code = 303
        return response
    return render(request, "web/gift_buy.html", {"plans": _plans(), "lengths": GIFT_MONTHS})


@reader_page
@require_GET
def gift_thanks_page(request: HttpRequest) -> HttpResponse:
    """Where Checkout sends the buyer: the payment is applied now if its webhook has not
    come yet, and the page says where the code went."""
    session_id = request.GET.get("session_id", "")
    payment = None
    if isinstance(request.user, User) and session_id:
        mine = OneTimePayment.objects.filter(
            checkout_session_id=session_id, user=request.user, kind="gift"
        ).exists()
        if mine:
            try:
                payment = one_time_payment_sync(session_id=session_id)
            except BillingError:
                payment = OneTimePayment.objects.get(checkout_session_id=session_id)
    gift = getattr(payment, "gift", None) if payment is not None else None
    return render(request, "web/gift_thanks.html", {"payment": payment, "gift": gift})


@reader_page
@require_http_methods(["GET", "POST"])
def gift_redeem_page(request: HttpRequest) -> HttpResponse:
    """Type a gift code, see what it gives, redeem it."""
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()
    if request.method == "POST":
        if not isinstance(request.user, User):
            back = f"{reverse('web:gift-redeem')}?{urlencode({'code': code})}"
            return redirect(f"{reverse('account_signup')}?{urlencode({'next': back})}")
        try:
            gift = gift_redeem(user=request.user, code=code)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(f"{reverse('web:gift-redeem')}?{urlencode({'code': code})}")
        assert gift.entitlement is not None
        messages.success(
            request,
            f"Your gift is redeemed: {gift.plan.name} until "
            f"{gift.entitlement.ends_at:%d %B %Y}. Enjoy reading.",
        )
        return redirect("web:account")
    terms, problem = None, ""
    if code:
        try:
            terms = gift_terms_get(code=code)
        except ApplicationError as error:
            problem = error.message
    return render(
        request, "web/gift_redeem.html", {"code": code, "terms": terms, "problem": problem}
    )
