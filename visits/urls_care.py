"""Routes: see visits/urls.py. Communications, care messages sent, message templates,
the holiday calendar and bulk messages."""

from django.urls import path

from .views import care, communications

urlpatterns = [
    path("communications/", communications.communication_list, name="communication_list"),
    path("communications/export/", communications.communication_export, name="communication_export"),
    path("communications/<int:pk>/", communications.communication_detail, name="communication_detail"),
    path("communications/<int:pk>/edit/", communications.communication_edit, name="communication_edit"),
    path("communications/<int:pk>/delete/", communications.communication_delete, name="communication_delete"),
    path(
        "communications/<int:pk>/attachment/",
        communications.communication_attachment,
        name="communication_attachment",
    ),
    path("customers/<int:pk>/communications/new/", communications.communication_create, name="communication_create"),
    path("care/messages/", care.care_message_list, name="care_message_list"),
    path("care/templates/", care.template_list, name="template_list"),
    path("care/templates/new/", care.template_edit, name="template_create"),
    path("care/templates/<int:pk>/edit/", care.template_edit, name="template_edit"),
    path("care/holidays/", care.holiday_list, name="holiday_list"),
    path("care/holidays/new/", care.holiday_edit, name="holiday_create"),
    path("care/holidays/<int:pk>/edit/", care.holiday_edit, name="holiday_edit"),
    path("care/holidays/<int:pk>/delete/", care.holiday_delete, name="holiday_delete"),
    path("campaigns/", care.campaign_list, name="campaign_list"),
    path("campaigns/new/", care.campaign_edit, name="campaign_create"),
    path("campaigns/<int:pk>/", care.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", care.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/send/", care.campaign_send, name="campaign_send"),
]
