"""Pages of the customer archive, in the "customers" namespace."""

from django.urls import path

from . import views, views_lists

app_name = "customers"

# URL segment of each kind of object that belongs to a customer.
CHILD_SEGMENTS = {
    "contact": "contacts",
    "relation": "relations",
    "document": "documents",
    "livestock": "livestock",
    "brand": "brands",
    "action": "actions",
}

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export/", views_lists.customer_export, name="export"),
    path("contacts/", views_lists.contact_list, name="contact_list"),
    path("contacts/export/", views_lists.contact_export, name="contact_export"),
    path("new/", views.customer_create, name="create"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("handover/", views.handover, name="handover"),
    path("custom-fields/", views.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", views.custom_field_edit, name="custom_field_create"),
    path("custom-fields/<int:pk>/edit/", views.custom_field_edit, name="custom_field_edit"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/verify/<str:fact>/", views.fact_verify, name="fact_verify"),
    path("<int:pk>/documents/<int:child_pk>/file/", views.document_file, name="document_file"),
]

for kind, segment in CHILD_SEGMENTS.items():
    urlpatterns += [
        path(f"<int:pk>/{segment}/new/", views.child_edit, {"kind": kind}, name=f"{kind}_create"),
        path(f"<int:pk>/{segment}/<int:child_pk>/edit/", views.child_edit, {"kind": kind}, name=f"{kind}_edit"),
        path(f"<int:pk>/{segment}/<int:child_pk>/delete/", views.child_delete, {"kind": kind}, name=f"{kind}_delete"),
    ]
    if views.CHILD_KINDS[kind].verifiable:
        urlpatterns.append(
            path(
                f"<int:pk>/{segment}/<int:child_pk>/verify/",
                views.child_verify,
                {"kind": kind},
                name=f"{kind}_verify",
            )
        )
