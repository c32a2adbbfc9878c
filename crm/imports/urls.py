"""The import pages, in the "imports" namespace (admins only)."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping_confirm, name="mapping"),
    path("<int:pk>/commit/", views.commit, name="commit"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/rejected/", views.rejected_download, name="rejected"),
    path("<int:pk>/undo/", views.undo, name="undo"),
]
