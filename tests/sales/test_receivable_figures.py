"""The stored receivables (CustomerReceivable) against the live figures of the orders.

After every kind of write (confirming, shipping, completing and cancelling orders,
payments allocated oldest first or to chosen orders, prepayments used by a new order),
after the calendar moves, and when writes run at the same moment as each other or as
the nightly run, what is stored per customer must be exactly what summing its orders
gives; and the receivables page must show the same whether it reads the stored rows or
falls back to the orders.
"""

import datetime
import random
import re
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm import nightly
from sales import metrics, receivables, services
from sales.models import CustomerReceivable, CustomerSales, Order
from tests.factories import CustomerFactory

D = Decimal
DAY = datetime.timedelta(days=1)
KEYS = [key for key, _label in receivables.BUCKETS]
RECEIVABLES = reverse("sales:receivables")
# The CSRF token (in forms and htmx headers) is masked afresh on each response.
CSRF = re.compile(r"\b[A-Za-z0-9]{64}\b")


def today() -> datetime.date:
    return timezone.localdate()


def assert_stored_equals_live(on: datetime.date) -> None:
    """Per customer and in total, in all and for each age: stored == summed from the orders."""
    orders, stored = Order.objects.all(), CustomerReceivable.objects.all()
    assert receivables.stored_is_current(on)
    for bucket in [None, *KEYS]:
        live_orders = orders if bucket is None else receivables.in_bucket(orders, bucket, on)
        live_rows = {row["customer_id"]: row for row in receivables.by_customer(live_orders, on)}
        stored_rows = {row["customer_id"]: row for row in receivables.stored_by_customer(stored, bucket)}
        assert stored_rows == live_rows, bucket
        summary = receivables.stored_summary(stored, bucket)
        assert summary["totals"] == receivables.totals(live_orders, on), bucket
        # The collection rates to date: the same whatever the age chosen.
        periods = receivables.to_date(on)
        rates = receivables.collection_rates(orders, [periods["month"], periods["year"]])
        assert [summary["rates"]["month"], summary["rates"]["year"]] == rates, bucket
    for figures in stored:
        for name, period in receivables.to_date(on).items():
            due = Order.objects.open().filter(customer_id=figures.customer_id, due_date__range=period)
            assert (getattr(figures, f"{name}_due"), getattr(figures, f"{name}_paid")) == (
                sum((o.total for o in due), D("0.00")),
                sum((o.paid_amount for o in due), D("0.00")),
            )
    # The customer list's figures come from the same refresh.
    for figures in CustomerSales.objects.all():
        owed = receivables.totals(Order.objects.filter(customer_id=figures.customer_id), on)
        assert (figures.receivable, figures.overdue) == (owed["outstanding"], owed["overdue"])


def pay(finance, customer, amount, orders=None):
    return services.payment_record(
        actor=finance,
        customer=customer,
        date=today(),
        amount=D(amount),
        order_ids=[o.pk for o in orders] if orders else None,
    )


def ordered_days_ago(days: int) -> datetime.date:
    return today() - days * DAY


# -- Each kind of write ------------------------------------------------------------------------


@pytest.mark.django_db
class TestEachWrite:
    def test_a_draft_owes_nothing_and_confirming_stores_the_order(self, own_customer, make_order):
        draft = make_order(own_customer, "3", on=ordered_days_ago(40), confirm=False)
        assert not CustomerReceivable.objects.filter(owed__gt=0).exists()
        services.order_transition(actor=own_customer.owner, order=draft, action="confirm")
        figures = CustomerReceivable.objects.get(customer=own_customer)
        assert (figures.owed, figures.owed_1_30, figures.as_of) == (D("150.00"), D("150.00"), today())
        assert_stored_equals_live(today())

    def test_orders_of_every_age_shipping_and_completing(self, own_customer, team_customer, make_order):
        for days in (0, 20, 35, 65, 95, 130, 200):
            make_order(own_customer, "2", on=ordered_days_ago(days))
        shipped = make_order(team_customer, "5", on=ordered_days_ago(75))
        shipped = services.order_transition(actor=team_customer.owner, order=shipped, action="ship")
        assert_stored_equals_live(today())
        services.order_transition(actor=team_customer.owner, order=shipped, action="complete")
        assert_stored_equals_live(today())

    def test_payments_oldest_first_partly_and_beyond_what_is_owed(self, finance, own_customer, make_order):
        for days in (10, 50, 100):
            make_order(own_customer, "4", on=ordered_days_ago(days))  # 200 each
        pay(finance, own_customer, "250")  # the 100-day order, then 50 of the 50-day one
        assert_stored_equals_live(today())
        assert CustomerReceivable.objects.get(customer=own_customer).owed_over_90 == D("0.00")
        pay(finance, own_customer, "500")  # everything, 150 left as prepayment
        assert CustomerReceivable.objects.get(customer=own_customer).owed == D("0.00")
        assert_stored_equals_live(today())

    def test_payment_allocated_to_chosen_orders(self, finance, own_customer, make_order):
        old = make_order(own_customer, "4", on=ordered_days_ago(130))
        new = make_order(own_customer, "4", on=ordered_days_ago(5))
        pay(finance, own_customer, "150", orders=[new])
        figures = CustomerReceivable.objects.get(customer=own_customer)
        assert (figures.owed_not_due, figures.owed_over_90) == (D("50.00"), D("200.00"))
        pay(finance, own_customer, "300", orders=[old, new])
        assert_stored_equals_live(today())
        assert old.pk and new.pk

    def test_a_new_order_uses_the_prepayment(self, finance, own_customer, make_order):
        pay(finance, own_customer, "120")
        make_order(own_customer, "4", on=ordered_days_ago(75))  # 200 due 45 days ago, 120 of it prepaid
        assert CustomerReceivable.objects.get(customer=own_customer).owed_31_60 == D("80.00")
        assert_stored_equals_live(today())

    def test_cancelling_gives_the_payments_back_as_prepayment(self, finance, own_customer, make_order):
        cancelled = make_order(own_customer, "4", on=ordered_days_ago(95))  # 61-90
        kept = make_order(own_customer, "2", on=ordered_days_ago(10))
        pay(finance, own_customer, "150", orders=[cancelled])
        services.order_transition(actor=own_customer.owner, order=cancelled, action="cancel")
        figures = CustomerReceivable.objects.get(customer=own_customer)
        assert (figures.owed, figures.owed_61_90) == (D("100.00"), D("0.00"))
        assert_stored_equals_live(today())
        assert kept.pk

    def test_a_random_run_of_writes(self, finance, rep, teammate, make_order):
        """Forty writes of every kind on a few customers, compared after each one."""
        rng = random.Random(15)
        customers = [CustomerFactory(owner=owner) for owner in (rep, rep, teammate)]
        for _step in range(40):
            customer = rng.choice(customers)
            open_orders = list(Order.objects.filter(customer=customer, status__in=Order.RECEIVABLE_STATUSES))
            action = rng.choice(["order", "order", "pay", "pay_chosen", "cancel", "ship"])
            if action == "order" or not open_orders:
                make_order(customer, str(rng.randint(1, 9)), on=ordered_days_ago(rng.randint(-10, 150)))
            elif action == "pay":
                pay(finance, customer, str(rng.randint(20, 700)))
            elif action == "pay_chosen":
                unpaid = [o for o in open_orders if o.paid_amount < o.total]
                if unpaid:
                    pay(finance, customer, str(rng.randint(20, 400)), orders=rng.sample(unpaid, min(2, len(unpaid))))
            else:
                order = rng.choice(open_orders)
                if action == "cancel" and order.status == Order.Status.CONFIRMED:
                    services.order_transition(actor=customer.owner, order=order, action="cancel")
                elif action == "ship" and order.status == Order.Status.CONFIRMED:
                    services.order_transition(actor=customer.owner, order=order, action="ship")
            assert_stored_equals_live(today())


# -- The calendar --------------------------------------------------------------------------------


@pytest.mark.django_db
class TestTheCalendar:
    @pytest.fixture
    def ages(self, own_customer, team_customer, make_order):
        # Due (30-day term) 1 day before today and on today: about to change age.
        for days in (31, 30, 60, 61, 90, 91, 120, 0):
            make_order(own_customer, "1", on=ordered_days_ago(days))
        make_order(team_customer, "3", on=ordered_days_ago(29))

    def test_the_stored_ages_hold_only_on_their_day(self, ages):
        assert_stored_equals_live(today())
        tomorrow = today() + DAY
        assert not receivables.stored_is_current(tomorrow)
        # Tomorrow's ages differ from today's: reading today's rows tomorrow would be wrong.
        live = receivables.totals(Order.objects.all(), tomorrow)
        assert live != receivables.stored_summary(CustomerReceivable.objects.all())["totals"]

    @pytest.mark.parametrize("days", [1, 30, 31, 60, 61, 91, 365])
    def test_the_nightly_run_moves_every_age(self, ages, days):
        later = today() + days * DAY
        nightly.run(today=later)
        assert_stored_equals_live(later)

    @pytest.mark.parametrize("shift", [-1, 1])
    def test_one_row_of_another_day_is_enough_to_not_be_current(self, own_customer, ages, shift):
        CustomerReceivable.objects.filter(customer=own_customer).update(as_of=today() + shift * DAY)
        assert not receivables.stored_is_current(today())

    def test_the_nightly_run_twice_gives_the_same_rows(self, ages):
        nightly.run(today=today() + 10 * DAY)
        rows = list(CustomerReceivable.objects.order_by("pk").values())
        nightly.run(today=today() + 10 * DAY)
        assert list(CustomerReceivable.objects.order_by("pk").values()) == rows


# -- The page reads the stored rows, or the orders -------------------------------------------


@pytest.fixture
def ledger(finance, own_customer, team_customer, other_customer, make_order):
    make_order(own_customer, "10", on=ordered_days_ago(75))
    make_order(own_customer, "10", on=ordered_days_ago(5))
    make_order(team_customer, "4", on=ordered_days_ago(40))
    make_order(other_customer, "6", on=ordered_days_ago(130))
    pay(finance, own_customer, "120")


PAGES = [
    {},
    {"bucket": "31_60"},
    {"view": "customers"},
    {"view": "customers", "ordering": "overdue"},
    {"view": "customers", "bucket": "1_30"},
    {"view": "customers", "bucket": "not_due"},
    {"period_from": "2000-01-01"},  # not the year to date: that rate is summed from the orders
]


@pytest.mark.django_db
class TestThePage:
    def read(self, client, params) -> tuple[str, bool]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(RECEIVABLES, params)
        assert response.status_code == 200
        stored = any("sales_customerreceivable" in q["sql"] and "SUM" in q["sql"] for q in queries.captured_queries)
        return CSRF.sub("", response.content.decode()), stored

    @pytest.mark.parametrize("params", PAGES)
    @pytest.mark.parametrize("who", ["finance", "manager", "rep"])
    def test_stored_or_summed_the_page_is_the_same(self, request, login, ledger, who, params):
        client = login(request.getfixturevalue(who))
        from_stored, stored = self.read(client, params)
        assert stored
        # As after midnight, before the nightly run: the rows are of another day and
        # (to show they are not read) wrong.
        CustomerReceivable.objects.update(
            as_of=today() - DAY,
            owed=F("owed") + 1,
            owed_not_due=F("owed_not_due") + 1,
            month_due=F("month_due") + 7,
            year_due=F("year_due") + 7,
        )
        from_orders, stored = self.read(client, params)
        assert not stored
        assert from_orders == from_stored


# -- At the same moment ---------------------------------------------------------------------------


def _in_thread(target):
    """Run `target` on its own database connection; returns (thread, errors)."""
    errors = []

    def run():
        try:
            target()
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _wait_until_blocked(pid_holder: list) -> None:
    """Until the other thread's backend waits on a lock."""
    for _ in range(200):
        if pid_holder:
            with connection.cursor() as cursor:
                cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid_holder[0]])
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                return
        time.sleep(0.05)
    raise AssertionError("the other transaction never waited")


def _pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
class TestAtTheSameMoment:
    def test_two_payments_of_one_customer(self, finance, own_customer, make_order):
        """The second payment's refresh waits for the first to commit, and reads it."""
        first_order = make_order(own_customer, "4", on=ordered_days_ago(50))
        second_order = make_order(own_customer, "4", on=ordered_days_ago(10))
        paid, release, second_pid = threading.Event(), threading.Event(), []

        def first():
            with transaction.atomic():
                pay(finance, own_customer, "150", orders=[first_order])
                paid.set()
                release.wait(10)

        def second():
            second_pid.append(_pid())
            pay(finance, own_customer, "60", orders=[second_order])

        one, first_errors = _in_thread(first)
        assert paid.wait(10)
        two, second_errors = _in_thread(second)
        _wait_until_blocked(second_pid)
        release.set()
        one.join(10)
        two.join(10)
        assert first_errors == second_errors == []
        assert CustomerReceivable.objects.get(customer=own_customer).owed == D("190.00")
        assert_stored_equals_live(today())

    def test_the_nightly_run_leaves_a_newer_refresh_alone(self, finance, own_customer, team_customer, make_order):
        """The nightly run reads the orders before a payment commits and reaches the
        customer's row after: the payment's figures are the ones kept."""
        make_order(own_customer, "4", on=ordered_days_ago(50))
        make_order(team_customer, "2", on=ordered_days_ago(95))
        paid, release, nightly_pid = threading.Event(), threading.Event(), []

        def payment():
            with transaction.atomic():
                pay(finance, own_customer, "150")
                paid.set()
                release.wait(10)

        def run_nightly():
            nightly_pid.append(_pid())
            nightly.run(today=today())

        one, payment_errors = _in_thread(payment)
        assert paid.wait(10)
        two, nightly_errors = _in_thread(run_nightly)
        _wait_until_blocked(nightly_pid)
        release.set()
        one.join(10)
        two.join(10)
        assert payment_errors == nightly_errors == []
        assert CustomerReceivable.objects.get(customer=own_customer).owed == D("50.00")
        assert_stored_equals_live(today())

    def test_refresh_runs_inside_the_callers_transaction(self, own_customer, make_order):
        make_order(own_customer, "4", on=ordered_days_ago(50))
        with pytest.raises(RuntimeError), transaction.atomic():
            metrics.refresh(today=today() + DAY, customer_ids=[own_customer.pk])
            raise RuntimeError
        assert CustomerReceivable.objects.get(customer=own_customer).as_of == today()
