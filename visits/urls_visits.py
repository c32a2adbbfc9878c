"""Routes: see visits/urls.py."""

from django.urls import path

from .views import calendar, frequencies, plans, visits

urlpatterns = [
    path("today/", calendar.today, name="today"),
    path("week/", calendar.week, name="week"),
    path("team/", calendar.team_week, name="team_week"),
    path("overdue/", calendar.overdue, name="overdue"),
    path("plans/", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/cancel/", plans.plan_cancel, name="plan_cancel"),
    path("plans/<int:pk>/check-in/", plans.plan_check_in, name="plan_check_in"),
    path("", visits.visit_list, name="visit_list"),
    path("export/", visits.visit_export, name="visit_export"),
    path("check-in/", visits.check_in, name="check_in"),
    path("<int:pk>/", visits.visit_detail, name="visit_detail"),
    path("<int:pk>/edit/", visits.visit_edit, name="visit_edit"),
    path("photos/<int:pk>/", visits.photo_file, name="photo_file"),
    path("photos/<int:pk>/delete/", visits.photo_delete, name="photo_delete"),
    path("frequencies/", frequencies.frequency_list, name="frequency_list"),
    path("frequencies/new/", frequencies.frequency_edit, name="frequency_create"),
    path("frequencies/<int:pk>/", frequencies.frequency_edit, name="frequency_edit"),
    path("frequencies/<int:pk>/delete/", frequencies.frequency_delete, name="frequency_delete"),
]
