"""Credits on the reader's pages: unlock the article on its page with one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.models import User
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
