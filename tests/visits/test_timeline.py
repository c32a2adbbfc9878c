"""The customer timeline tab: visits, communications, care messages, orders and history
events merged newest first, filterable by kind, paginated, and the same number of
queries for a short timeline and a long one."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import audit
from crm.models import AuditEvent
from sales import services as sales_services
from tests.factories import ContactFactory, ProductFactory
from visits import timeline
from visits.models import CareMessage, Communication, Visit

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}


def at(days_ago: int, hour: int = 10) -> datetime.datetime:
    local = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)
    return local - datetime.timedelta(days=days_ago)


@pytest.fixture
def product(db):
    return ProductFactory(list_price=Decimal("50.00"))


def fill(customer, rep, product, n: int, start: int = 1):
    """n entries of every kind for the customer, interleaved day by day."""
    contact = ContactFactory(customer=customer, name="王经理")
    for i in range(start, start + n):
        Visit.objects.create(
            customer=customer, rep=rep, visit_date=at(i).date(), checked_in_at=at(i, 9), summary=f"拜访{i}",
            latitude=Decimal("35.104500"), longitude=Decimal("118.356400"),
        )  # fmt: skip
        Communication.objects.create(
            customer=customer, contact=contact, kind="call", occurred_at=at(i, 11), summary=f"电话{i}", user=rep
        )
        message = CareMessage.objects.create(
            customer=customer, contact=contact, channel="sms", occasion=f"campaign:{customer.pk}-{i}",
            recipient="13800000001", body=f"问候{i}", sent_at=at(i, 12),
        )  # fmt: skip
        # The communication the system recorded for the message is shown as the message, once.
        Communication.objects.create(
            customer=customer, contact=contact, kind="sms", occurred_at=at(i, 12), summary=f"问候{i}", message=message
        )
        lines = [sales_services.LineInput(product=product, quantity=Decimal("1"))]
        sales_services.order_create(actor=rep, customer=customer, order_date=at(i).date(), lines=lines)
        audit.record(
            actor=rep, action="update", obj=customer, customer_id=customer.pk, changes={"city": ["a", f"b{i}"]}
        )
    # Every event's time is "now"; spread them over the days like the rest.
    for i, event in enumerate(AuditEvent.objects.filter(customer=customer, object_type="customer").order_by("pk")):
        AuditEvent.objects.filter(pk=event.pk).update(at=at(start + i, 14))


def entries(user, customer, **kwargs):
    return timeline.customer_timeline(user=user, customer=customer, **kwargs)[1]


class TestMerged:
    def test_every_kind_newest_first_and_nothing_twice(self, rep, own_customer, product):
        fill(own_customer, rep, product, 2)
        found = entries(rep, own_customer)
        kinds = [e["kind"] for e in found]
        # Day 1 (newest): change 14:00, care 12:00, call 11:00, visit 9:00, order (the day's start).
        assert kinds[:5] == ["history", "care", "communication", "visit", "order"]
        assert kinds.count("care") == 2 and kinds.count("communication") == 2  # the system's SMS not repeated
        assert kinds.count("history") == 2  # orders' own "created" events are the orders
        times = [e["when"] for e in found]
        assert times == sorted(times, reverse=True)

    def test_filter_by_kind(self, rep, own_customer, product):
        fill(own_customer, rep, product, 2)
        assert {e["kind"] for e in entries(rep, own_customer, kind="visit")} == {"visit"}
        assert [e["obj"].summary for e in entries(rep, own_customer, kind="communication")] == ["电话1", "电话2"]

    def test_pages(self, rep, own_customer, product):
        fill(own_customer, rep, product, 5)  # 25 entries
        page, first = timeline.customer_timeline(user=rep, customer=own_customer)
        assert page.paginator.count == 25 and len(first) == timeline.PAGE_SIZE
        _page, second = timeline.customer_timeline(user=rep, customer=own_customer, page_number=2)
        assert len(second) == 5
        assert not {(e["kind"], e["obj"].pk) for e in first} & {(e["kind"], e["obj"].pk) for e in second}


class TestTab:
    def test_the_tab_shows_the_timeline_without_locations(self, login, rep, own_customer, product):
        fill(own_customer, rep, product, 1)
        url = reverse("customers:detail", args=[own_customer.pk])
        html = login(rep).get(url, {"tab": "timeline"}, headers=ENGLISH).content.decode()
        for text in ("拜访1", "电话1", "问候1", "Log communication"):
            assert text in html
        assert "35.1045" not in html and "118.3564" not in html
        html = login(rep).get(url, {"tab": "timeline", "kind": "care"}).content.decode()
        assert "问候1" in html and "电话1" not in html

    def test_read_only_users_see_it_without_the_log_button(self, login, finance, own_customer):
        Communication.objects.create(customer=own_customer, kind="call", summary="电话一", user=own_customer.owner)
        url = reverse("customers:detail", args=[own_customer.pk])
        html = login(finance).get(url, {"tab": "timeline"}, headers=ENGLISH).content.decode()
        assert "电话一" in html and "Log communication" not in html

    def test_invisible_customer_is_404(self, login, outsider, own_customer):
        url = reverse("customers:detail", args=[own_customer.pk])
        assert login(outsider).get(url, {"tab": "timeline"}).status_code == 404

    @pytest.mark.parametrize("kind", ["", "visit"])
    def test_queries_do_not_grow_with_the_timeline(
        self, login, rep, own_customer, product, kind, django_assert_num_queries
    ):
        url = reverse("customers:detail", args=[own_customer.pk])
        params = {"tab": "timeline", "kind": kind}
        client = login(rep)
        fill(own_customer, rep, product, 3)
        # session, user, the rep's shared customers, customer, can-edit check, count, the
        # page's keys (one UNION ALL), then per kind on the page: visits and their contacts
        # (2), communications, care messages, orders, history events.
        expected = 13 if not kind else 9
        with django_assert_num_queries(expected):
            assert client.get(url, params).status_code == 200
        fill(own_customer, rep, product, 30, start=10)
        with django_assert_num_queries(expected):
            assert client.get(url, params).status_code == 200
