from django.urls import path

from marketing import public_views, views
from marketing.workflow import WORKFLOW

app_name = "marketing"

urlpatterns = [
    path("segments/", views.SegmentListView.as_view(), name="segment_list"),
    path("segments/new/", views.SegmentCreateView.as_view(), name="segment_create"),
    path("segments/count/", views.SegmentCountView.as_view(), name="segment_count"),
    path("segments/<int:pk>/", views.SegmentDetailView.as_view(), name="segment_detail"),
    path("segments/<int:pk>/edit/", views.SegmentUpdateView.as_view(), name="segment_update"),
    path("campaigns/", views.CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.CampaignUpdateView.as_view(), name="campaign_update"),
    path("campaigns/<int:pk>/preview/", views.CampaignPreviewView.as_view(), name="campaign_preview"),
    path("campaigns/<int:pk>/test/", views.CampaignTestSendView.as_view(), name="campaign_test_send"),
    path("campaigns/<int:pk>/results/", views.CampaignResultsView.as_view(), name="campaign_results"),
    path(
        "campaigns/<int:pk>/opportunity/",
        views.CampaignOpportunityCreateView.as_view(),
        name="campaign_opportunity_create",
    ),
    *WORKFLOW.urls(),  # schedule, back to draft, cancel
    # The recipient's links (public).
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("c/<str:token>/<int:index>/", public_views.click, name="click"),
]
