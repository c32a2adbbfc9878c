"""Signing in and out, the password change, the landing page, error pages and the
language switch."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.factories import CustomerFactory, DocumentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_cache(settings):
    # Login throttling counts failures in the cache; a cache of this test's own keeps
    # other runs' failed logins (same usernames, same address) from blocking these.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages-auth"}
    }


def test_pages_need_a_signed_in_user(client):
    for url in (reverse("home"), reverse("customers:list"), reverse("password_change")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_login_page_signs_in_and_redirects_home(client, rep):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "rep", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).context["user"] == rep


def test_login_with_a_wrong_password_shows_the_form_again(client, rep):
    response = client.post(reverse("login"), {"username": "rep", "password": "wrong"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert 'class="alert alert-danger"' in response.content.decode()


def test_logout_is_post_only(login, rep):
    client = login(rep)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_password_change(login, rep):
    client = login(rep)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-much-longer-pass-42", "new_password2": "a-much-longer-pass-42"},
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    rep.refresh_from_db()
    assert rep.check_password("a-much-longer-pass-42")
    assert client.get(reverse("password_change_done")).status_code == 200


def test_home_counts_only_visible_customers(login, rep, own_customer, team_customer, other_customer):
    today = timezone.localdate()
    DocumentFactory(customer=own_customer, expiry_date=today - datetime.timedelta(days=1))
    DocumentFactory(customer=other_customer, expiry_date=today - datetime.timedelta(days=1))
    DocumentFactory(customer=other_customer, expiry_date=today + datetime.timedelta(days=5))
    CustomerFactory(owner=rep)
    response = login(rep).get(reverse("home"))
    assert response.status_code == 200
    counts = response.context["counts"]
    # The rep sees own_customer and the new one; other_customer's documents are not counted.
    assert counts == {"customers": 2, "expired": 1, "expiring": 0, "low_completeness": 2}


def test_not_found_page_is_friendly(login, rep, other_customer):
    response = login(rep).get(reverse("customers:detail", args=[other_customer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Page not found" in content
    assert other_customer.name not in content


def test_forbidden_page_is_friendly(login, finance, own_customer):
    response = login(finance).get(reverse("customers:edit", args=[own_customer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_language_switch_renders_english(login, rep):
    client = login(rep)
    before = client.get(reverse("customers:list"))
    assert '<html lang="zh-hans">' in before.content.decode()
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("customers:list")})
    assert response.status_code == 302
    assert response.url == reverse("customers:list")
    after = client.get(reverse("customers:list"))
    content = after.content.decode()
    assert '<html lang="en">' in content
    assert "New customer" in content
