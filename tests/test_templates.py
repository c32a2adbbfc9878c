"""Template syntax never leaks into a page (a `{# #}` comment spanning lines renders)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "route", ["home", "customers:list", "customers:create", "sales:order_list", "sales:receivables"]
)
def test_no_template_syntax_in_pages(login, rep, route):
    html = login(rep).get(reverse(route)).content.decode()
    for marker in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert marker not in html, f"{marker} shows on {route}"
