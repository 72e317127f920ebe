"""Credits on the reader's pages: buy a pack from the account page, unlock the article on
its page with one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import User
from billing.credit_packs import credits_checkout_start
from core.errors import ApplicationError
from membership.selectors import article_get
from membership.services import credit_spend
from web.views import reader_page


@reader_page
@require_POST
@login_required
def article_unlock_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Spend one credit on the article, then show it."""
    assert isinstance(request.user, User)
    article = article_get(article_id=pk)
    try:
        credit_spend(user=request.user, article=article)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Unlocked: this article is yours to read for good.")
    return redirect(article.get_absolute_url())


@reader_page
@require_POST
@login_required
def credits_buy_submit(request: HttpRequest) -> HttpResponse:
    """Send the reader to Stripe Checkout for a pack of credits."""
    assert isinstance(request.user, User)
    try:
        started = credits_checkout_start(user=request.user, pack_slug=request.POST.get("pack", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(reverse("web:account"))
    response = HttpResponseRedirect(started.url)
    response.status_code = 303
    return response
