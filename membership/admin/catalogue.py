"""Admin for what readers read and buy: titles, articles and plans."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from membership.forms import PlanAdminForm
from membership.models import Article, Plan, Title

CURRENCY_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€"}


def money_format(amount: int, currency: str) -> str:
    """Return an amount in minor units as money: 1299, "gbp" -> "£12.99"."""
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    major = f"{amount / 100:,.2f}"
    return f"{symbol}{major}" if symbol else f"{major} {currency.upper()}"


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
    list_display = ("name", "publisher", "is_premium", "never_metered", "article_count")
    list_filter = ("is_premium", "never_metered", "publisher")
    search_fields = ("name", "slug", "publisher")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Title]:
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, obj: Any) -> int:
        return int(obj.article_count)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("headline", "title", "section", "published_at", "is_free")
    list_filter = ("is_free", "title__is_premium", "section", "title")
    list_select_related = ("title",)
    search_fields = ("headline", "standfirst", "author", "title__name")
    date_hierarchy = "published_at"
    autocomplete_fields = ("title",)
    fieldsets = (
        (None, {"fields": ("title", "headline", "standfirst", "author", "section")}),
        ("Above the paywall", {"fields": ("lead",)}),
        ("The article", {"fields": ("body",)}),
        ("Publishing", {"fields": ("published_at", "is_free")}),
    )


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanAdminForm
    list_display = ("name", "monthly_price", "yearly_price", "coverage", "seat_kind", "is_active")
    list_filter = ("is_active", "all_titles", "seat_kind")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("titles",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return super().get_queryset(request).annotate(title_count=Count("titles"))

    @admin.display(description="per month", ordering="monthly_amount")
    def monthly_price(self, obj: Plan) -> str:
        return money_format(obj.monthly_amount, obj.currency)

    @admin.display(description="per year", ordering="yearly_amount")
    def yearly_price(self, obj: Plan) -> str:
        return money_format(obj.yearly_amount, obj.currency)

    @admin.display(description="covers")
    def coverage(self, obj: Any) -> str:
        return "every premium title" if obj.all_titles else f"{obj.title_count} titles"
