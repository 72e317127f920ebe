"""The publishers' admin: statements and reads, each publisher's staff seeing only their titles;
the pools, reader payments and adjustments for Masthead's own staff."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from membership.admin.catalogue import money_format
from membership.admin.records import ReadOnlyAdmin, ReadOnlyInline, request_actor
from publishers.models import (
    Adjustment,
    MonthClose,
    PayoutPool,
    ReadRow,
    Statement,
    StatementLine,
    TitleStaff,
)
from publishers.selectors import publisher_viewer, visible_title_ids
from publishers.statements import adjustment_create


class PublisherScopedAdmin(ReadOnlyAdmin):
    """Visible to publisher staff (their titles' rows only) and to superusers."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return publisher_viewer(user=request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not publisher_viewer(user=request.user):
            return False
        title_ids = visible_title_ids(user=request.user)
        return obj is None or title_ids is None or obj.title_id in title_ids

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        title_ids = visible_title_ids(user=request.user)
        return rows if title_ids is None else rows.filter(title_id__in=title_ids)


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = ("kind", "currency", "qualifying_reads", "engaged_seconds", "readers", "owed", "note")
    readonly_fields = fields

    @admin.display(description="owed")
    def owed(self, line: StatementLine) -> str:
        return money_format(line.amount, line.currency) if line.currency else "-"


@admin.register(Statement)
class StatementAdmin(PublisherScopedAdmin):
    list_display = ("title", "month_label", "qualifying_reads", "hours", "readers", "owed")
    list_filter = ("month", "title")
    search_fields = ("title__name", "title__slug")
    list_select_related = ("title",)
    inlines = (StatementLineInline,)
    fields = (
        "title",
        "month_label",
        "qualifying_reads",
        "engaged_seconds",
        "readers",
        "owed",
        "closed_at",
        "csv",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("lines")

    @admin.display(description="month", ordering="month")
    def month_label(self, statement: Statement) -> str:
        return f"{statement.month:%B %Y}"

    @admin.display(description="engaged hours", ordering="engaged_seconds")
    def hours(self, statement: Statement) -> str:
        return f"{statement.engaged_seconds / 3600:,.1f}"

    @admin.display(description="owed")
    def owed(self, statement: Statement) -> str:
        amounts: dict[str, int] = {}
        for line in statement.lines.all():
            if line.currency:
                amounts[line.currency] = amounts.get(line.currency, 0) + line.amount
        return ", ".join(money_format(v, c) for c, v in sorted(amounts.items())) or "nothing"

    @admin.display(description="download")
    def csv(self, statement: Statement) -> str:
        url = reverse("publishers:statement-csv", kwargs={"pk": statement.pk})
        return format_html('<a href="{}">CSV with every ledger row</a>', url)


@admin.register(ReadRow)
class ReadRowAdmin(PublisherScopedAdmin):
    list_display = ("day", "title", "article", "source", "seconds", "qualified")
    list_filter = ("day", "source", "qualified", "title")
    list_select_related = ("title", "article")
    date_hierarchy = "day"
    show_full_result_count = False
    raw_id_fields = ("user", "article")


@admin.register(TitleStaff)
class TitleStaffAdmin(admin.ModelAdmin):
    """Attach a member of a publisher's staff to their titles: they then see those titles'
    statements and reads, and nothing of any other title."""

    list_display = ("user", "title", "created_at")
    list_filter = ("title",)
    search_fields = ("user__email", "title__name")
    autocomplete_fields = ("user", "title")


@admin.register(MonthClose)
class MonthCloseAdmin(ReadOnlyAdmin):
    list_display = ("month", "closed_at")
    fields = ("month", "closed_at", "rounding")


@admin.register(PayoutPool)
class PayoutPoolAdmin(ReadOnlyAdmin):
    list_display = ("month", "currency", "net", "share", "pool", "allocated_money", "readers")
    list_filter = ("month", "currency")

    @admin.display(description="net revenue")
    def net(self, pool: PayoutPool) -> str:
        return money_format(pool.net_revenue, pool.currency)

    @admin.display(description="pool")
    def pool(self, pool: PayoutPool) -> str:
        return money_format(pool.amount, pool.currency)

    @admin.display(description="allocated")
    def allocated_money(self, pool: PayoutPool) -> str:
        return money_format(pool.allocated, pool.currency)

    @admin.display(description="paying readers")
    def readers(self, pool: PayoutPool) -> int:
        return pool.paying_readers


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    """A correction to a title's pay, added to the next statement closed (closed statements
    never change)."""

    list_display = ("title", "currency", "amount", "reason", "created_at", "line")
    list_filter = ("currency", "title")
    fields = ("title", "currency", "amount", "reason")
    autocomplete_fields = ("title",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and obj.line_id is None

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        created = adjustment_create(
            title=obj.title,
            currency=obj.currency,
            amount=obj.amount,
            reason=obj.reason,
            actor=request_actor(request),
        )
        obj.pk = created.pk
        messages.info(request, "It will appear on the title's next statement.")
