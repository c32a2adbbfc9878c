import pytest

from crm.pagination import CappedPaginator
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


class SmallCap(CappedPaginator):
    cap = 5


def test_count_stops_at_the_cap_and_says_so(rep):
    for _ in range(7):
        CustomerFactory(owner=rep)
    paginator = SmallCap(Customer.objects.all(), 2)
    assert paginator.count == 5 and paginator.capped
    assert paginator.num_pages == 3


def test_exact_count_below_the_cap(rep):
    for _ in range(4):
        CustomerFactory(owner=rep)
    paginator = SmallCap(Customer.objects.all(), 2)
    assert paginator.count == 4 and not paginator.capped


def test_list_page_marks_a_capped_count(rep, login, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for _ in range(4):
        CustomerFactory(owner=rep)
    response = login(rep).get("/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["page"].paginator.capped
