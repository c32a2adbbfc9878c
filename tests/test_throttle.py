"""Login throttling against the real cache (Redis, per tests/settings.py)."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory

from crm import throttle
from crm.forms import LoginForm

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_cache_is_the_real_redis():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("probe", 41)
    cache.incr("probe")
    assert cache.get("probe") == 42


def _form(username, password):
    request = RequestFactory().post("/login/", REMOTE_ADDR="10.1.2.3")
    return LoginForm(request, data={"username": username, "password": password})


def test_five_failures_block_even_the_right_password(rep):
    for _ in range(throttle.MAX_FAILURES):
        assert not _form("rep", "wrong").is_valid()
    form = _form("rep", "secret-pass-123")
    assert not form.is_valid()
    assert form.non_field_errors()[0] == str(throttle_message())


def test_success_resets_the_count(rep):
    for _ in range(throttle.MAX_FAILURES - 1):
        _form("rep", "wrong").is_valid()
    assert _form("rep", "secret-pass-123").is_valid()
    assert _form("rep", "wrong").is_valid() is False
    assert _form("rep", "secret-pass-123").is_valid()


def throttle_message():
    from crm.forms import ERR_THROTTLED

    return ERR_THROTTLED
