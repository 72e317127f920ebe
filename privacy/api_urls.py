"""The reader's data API's routes, under /api/v1/."""

from django.urls import path

from privacy.api import AccountDeleteApi, DataExportApi

app_name = "privacy-api"
urlpatterns = [
    path("me/export/", DataExportApi.as_view(), name="export"),
    path("me/delete/", AccountDeleteApi.as_view(), name="delete"),
]
