"""The reader API's routes, under /api/v1/."""

from django.urls import path

from core.converters import RowIdConverter  # noqa: F401  (registers the row_id converter)
from membership.api import (
    ArticleDetailApi,
    ArticleListApi,
    PlanListApi,
    TitleDetailApi,
    TitleListApi,
    TrialStartApi,
)
from membership.credits_api import ArticleUnlockApi
from membership.devices_api import DeviceCreateApi
from membership.gift_link_api import GiftLinkCreateApi, MyGiftLinkListApi
from membership.support_api import AccessExplainApi

app_name = "membership"
urlpatterns = [
    path("titles/", TitleListApi.as_view(), name="title-list"),
    path("titles/<slug:slug>/", TitleDetailApi.as_view(), name="title-detail"),
    path("articles/", ArticleListApi.as_view(), name="article-list"),
    path("articles/<row_id:pk>/", ArticleDetailApi.as_view(), name="article-detail"),
    path("articles/<row_id:pk>/gift-links/", GiftLinkCreateApi.as_view(), name="gift-link-create"),
    path("me/gift-links/", MyGiftLinkListApi.as_view(), name="me-gift-links"),
    path("articles/<row_id:pk>/unlock/", ArticleUnlockApi.as_view(), name="article-unlock"),
    path("plans/", PlanListApi.as_view(), name="plan-list"),
    path("devices/", DeviceCreateApi.as_view(), name="device-create"),
    path("me/trial/", TrialStartApi.as_view(), name="me-trial"),
    path("support/access/", AccessExplainApi.as_view(), name="support-access"),
]
