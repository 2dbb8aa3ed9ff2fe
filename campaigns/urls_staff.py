"""Campaign staff pages, under /<lang>/staff/campaigns/."""

from __future__ import annotations

from django.urls import path

from campaigns import views_reports, views_staff

app_name = "campaigns_staff"

urlpatterns = [
    path("<int:pk>/", views_staff.campaign_detail, name="campaign"),
    path("<int:pk>/preview/", views_staff.campaign_preview, name="preview"),
    path("<int:pk>/progress/", views_staff.campaign_progress_box, name="progress"),
    path("<int:pk>/report/", views_reports.campaign_report_page, name="report"),
    path("<int:pk>/report/export.csv", views_reports.campaign_report_csv, name="report-csv"),
    path("<int:pk>/test/", views_staff.campaign_test_send, name="test-send"),
    path("<int:pk>/send/", views_staff.campaign_send, name="send"),
    path("<int:pk>/schedule/", views_staff.campaign_schedule_view, name="schedule"),
    path("<int:pk>/pause/", views_staff.campaign_pause_view, name="pause"),
    path("<int:pk>/resume/", views_staff.campaign_resume_view, name="resume"),
    path("<int:pk>/cancel/", views_staff.campaign_cancel_view, name="cancel"),
]
