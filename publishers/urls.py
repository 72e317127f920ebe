"""The publishers' routes, under /api/v1/."""

from django.urls import path

from core.converters import RowIdConverter  # noqa: F401  (registers the row_id converter)
from publishers.api import ReadReportApi, StatementCsvApi, StatementDetailApi, StatementListApi

app_name = "publishers"
urlpatterns = [
    path("articles/<row_id:pk>/reads/", ReadReportApi.as_view(), name="article-reads"),
    path("publishers/statements/", StatementListApi.as_view(), name="statement-list"),
    path(
        "publishers/statements/<row_id:pk>/", StatementDetailApi.as_view(), name="statement-detail"
    ),
    path("publishers/statements/<row_id:pk>/csv/", StatementCsvApi.as_view(), name="statement-csv"),
]
