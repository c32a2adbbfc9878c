"""Template syntax never leaks into a page (a `{# #}` comment spanning lines renders)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "route",
    [
        "home",
        "customers:list",
        "customers:create",
        "sales:order_list",
        "sales:receivables",
        "visits:communication_list",
        "visits:care_message_list",
        "visits:template_list",
        "visits:holiday_list",
        "visits:today",
        "visits:week",
        "visits:plan_list",
        "visits:plan_create",
        "visits:visit_list",
        "visits:check_in",
        "visits:overdue",
        "visits:frequency_list",
    ],
)
def test_no_template_syntax_in_pages(login, rep, route):
    html = login(rep).get(reverse(route)).content.decode()
    for marker in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert marker not in html, f"{marker} shows on {route}"
