"""``manage.py gift_links_seed_demo``: the demo's gift link, given by the complimentary reader."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from membership.gift_link_selectors import gift_link_opens_left, gift_link_url
from membership.management.commands.seed_demo import COMP_READER, ESSENTIAL_TITLES
from membership.models import Article
from membership.services.gift_links import gift_link_create


class Command(BaseCommand):
    help = (
        "Give the demo's gift link: the complimentary reader shares the newest premium "
        "article of an Essentials title, and the link is printed. Run after seed_demo. Safe "
        "to run again: in the same month it prints the same link and costs no gift."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        giver = User.objects.filter(email=COMP_READER).first()
        article = (
            Article.objects.select_related("title")
            .filter(title__slug__in=ESSENTIAL_TITLES, title__is_premium=True, is_free=False)
            .order_by("-published_at", "-pk")
            .first()
        )
        if giver is None or article is None:
            raise CommandError("Load the demo first: manage.py seed_demo.")
        given = gift_link_create(giver=giver, article=article)
        url = gift_link_url(article_id=article.pk, token=given.token)
        self.stdout.write(f"Gift link from {COMP_READER} to “{article.headline}”:")
        self.stdout.write(f"  {url}")
        self.stdout.write(
            f"  Opens the whole article without an account until "
            f"{given.link.expires_at:%-d %B %Y}, on {gift_link_opens_left(given.link)} more "
            f"device(s) (of {settings.GIFT_LINK_MAX_OPENS})."
        )
