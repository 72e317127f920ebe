"""Giving a gift link from an article's page: thin over membership's gift-link service."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.api import mark_reader_specific
from core.errors import ApplicationError
from membership.reading import GIFT_PARAMETER
from membership.selectors import article_get
from membership.services.gift_links import gift_link_create
from web.views import article_page


@require_GET
def article_short_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The short address gift links carry: with ``?gift=`` the article's page (opened with
    the gift), without it a redirect to the article's own address."""
    if not request.GET.get(GIFT_PARAMETER):
        article = article_get(article_id=pk)
        return mark_reader_specific(redirect(article.get_absolute_url()))
    return article_page(request, pk)


@require_POST
def gift_link_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a gift link to the article and show it on the account page (the same link again
    when it was given this month); a refusal goes back to the article with its reason."""
    article = article_get(article_id=pk)
    if not isinstance(request.user, User):
        login = reverse("account_login")
        return mark_reader_specific(redirect(f"{login}?next={article.get_absolute_url()}"))
    try:
        given = gift_link_create(giver=request.user, article=article)
    except ApplicationError as error:
        messages.info(request, error.message)
        return mark_reader_specific(redirect(article.get_absolute_url()))
    done = "is ready" if given.new else "was given this month already, at no cost"
    messages.success(request, f"Your gift link to “{article.headline}” {done}: copy it below.")
    return mark_reader_specific(redirect(f"{reverse('web:account')}#gift-links"))
