"""The reader's data pages, under /account/."""

from django.urls import path

from privacy import views

app_name = "privacy"
urlpatterns = [
    path("data/export/", views.export_request_submit, name="export-request"),
    path("data/<int:pk>/download/", views.export_download, name="export-download"),
    path("delete/", views.account_delete_page, name="account-delete"),
    path("deleted/", views.account_deleted_page, name="account-deleted"),
]
