"""The group API's routes, under /api/v1/."""

from django.urls import path

from groups.api import GroupAcceptApi, GroupLeaveApi, GroupMemberApi, GroupMembersApi, GroupMineApi

app_name = "groups"
urlpatterns = [
    path("groups/mine/", GroupMineApi.as_view(), name="mine"),
    path("groups/mine/members/", GroupMembersApi.as_view(), name="members"),
    path("groups/mine/members/<row_id:pk>/", GroupMemberApi.as_view(), name="member"),
    path("groups/accept/", GroupAcceptApi.as_view(), name="accept"),
    path("groups/leave/", GroupLeaveApi.as_view(), name="leave"),
]
