"""The reader's pages, at the root of the site."""

from django.urls import path

from membership.urls import RowIdConverter  # noqa: F401  (registers the row_id converter)
from web import views

app_name = "web"
urlpatterns = [
    path("", views.home_page, name="home"),
    path("titles/<slug:slug>/", views.title_page, name="title"),
    path("articles/<row_id:pk>/", views.article_page, name="article"),
    path("pricing/", views.pricing_page, name="pricing"),
    path("account/", views.account_page, name="account"),
    path("trial/", views.trial_start_submit, name="trial-start"),
    # Placeholders until billing (M3) provides Checkout and the Customer Portal.
    path("billing/subscribe/", views.billing_unavailable, name="subscribe"),
    path("billing/manage/", views.billing_unavailable, name="manage-billing"),
]
