"""The staff dashboard in the admin: business figures as SVG charts with the numbers beside."""

from datetime import date

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from membership.admin.catalogue import money_format
from publishers.charts import bar_chart, line_chart
from publishers.figures import figures_all, reads_by_title
from publishers.selectors import visible_title_ids


def _as_of(request: HttpRequest) -> date:
    """The day asked for (``?on=YYYY-MM-DD``), today when absent or not a date."""
    try:
        return date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return timezone.now().date()


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every figure for Masthead's staff; a publisher's staff see their titles' reads only."""
    on = _as_of(request)
    title_ids = visible_title_ids(user=request.user)
    publisher_only = not request.user.is_superuser and bool(title_ids)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "on": on,
        "qualify_seconds": settings.READ_QUALIFY_SECONDS,
    }
    if publisher_only:
        reads = reads_by_title(on=on, title_ids=title_ids)
        context.update(publisher_only=True, figures={"reads": reads})
    else:
        figures = figures_all(on=on)
        reads = figures["reads"]
        context.update(
            figures=figures,
            mrr_chart=line_chart(
                label="MRR, last 90 days",
                series={c: [v for _, v in points] for c, points in figures["mrr"].items()},
            ),
            mrr_now=[
                (c.upper(), money_format(points[-1][1], c), money_format(points[0][1], c))
                for c, points in figures["mrr"].items()
            ],
            trials_chart=bar_chart(
                label="Trials started per week",
                bars=[(f"{c.week:%d %b}", c.started) for c in figures["cohorts"]],
            ),
            churn_chart=bar_chart(
                label="Monthly churn, percent",
                bars=[(f"{c.month:%b %Y}", round(c.rate * 100, 1)) for c in figures["churn"]],
            ),
        )
    context["reads_chart"] = bar_chart(
        label="Qualifying reads per title, last 30 days",
        bars=[(r.title, r.qualifying_reads) for r in reads],
    )
    return render(request, "admin/publishers/dashboard.html", context)
