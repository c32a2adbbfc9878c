import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from crm.errors import DomainError
from crm.models import AuditEvent
from sales import services
from sales.models import Allocation, Contract, Order, Payment, PolicyItem, SalesPolicy
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


class TestOrders:
    def test_total_is_summed_by_the_database_and_due_date_from_the_customers_term(self, rep, own_customer, product):
        own_customer.payment_term_days = 45
        own_customer.save()
        order = services.order_create(
            actor=rep,
            customer=own_customer,
            order_date=datetime.date(2026, 3, 1),
            lines=[
                services.LineInput(product=product, quantity=D("3")),
                services.LineInput(product=product, quantity=D("1.5")),
            ],
        )
        assert order.total == D("225.00")
        order = services.order_transition(actor=rep, order=order, action="confirm")
        assert order.due_date == datetime.date(2026, 4, 15)
        assert AuditEvent.objects.filter(customer=own_customer, object_type="order").count() == 2

    def test_policy_price_applies_to_eligible_customers_on_the_order_date(self, rep, own_customer, product):
        policy = SalesPolicy.objects.create(
            name="三月特价", start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31), customer_types=["dealer"]
        )
        PolicyItem.objects.create(policy=policy, product=product, special_price=D("42.00"))
        march = services.order_create(
            actor=rep,
            customer=own_customer,
            order_date=datetime.date(2026, 3, 10),
            lines=[services.LineInput(product, D("2"))],
        )
        april = services.order_create(
            actor=rep,
            customer=own_customer,
            order_date=datetime.date(2026, 4, 1),
            lines=[services.LineInput(product, D("2"))],
        )
        line = march.lines.get()
        assert (line.unit_price, line.policy) == (D("42.00"), policy)
        assert march.total == D("84.00")
        assert april.lines.get().policy is None and april.total == D("100.00")

    def test_a_farm_is_not_eligible_for_a_dealer_policy(self, rep, teammate, product):
        farm = CustomerFactory(owner=rep, type="farm")
        policy = SalesPolicy.objects.create(
            name="经销商折扣",
            start=datetime.date(2026, 1, 1),
            end=datetime.date(2026, 12, 31),
            customer_types=["dealer"],
        )
        PolicyItem.objects.create(policy=policy, product=product, discount_percent=D("10"))
        order = services.order_create(
            actor=rep, customer=farm, order_date=datetime.date(2026, 5, 1), lines=[services.LineInput(product, D("1"))]
        )
        assert order.total == D("50.00")

    def test_an_order_needs_lines_with_positive_quantities(self, rep, own_customer, product):
        with pytest.raises(DomainError) as exc:
            services.order_create(actor=rep, customer=own_customer, order_date=datetime.date(2026, 3, 1), lines=[])
        assert exc.value.field == "lines"
        with pytest.raises(DomainError):
            services.order_create(
                actor=rep,
                customer=own_customer,
                order_date=datetime.date(2026, 3, 1),
                lines=[services.LineInput(product, D("0"))],
            )
        assert not Order.objects.exists()

    def test_finance_and_strangers_cannot_create_orders(self, finance, rep, other_customer, own_customer, product):
        line = [services.LineInput(product, D("1"))]
        with pytest.raises(DomainError):
            services.order_create(
                actor=finance, customer=own_customer, order_date=datetime.date(2026, 3, 1), lines=line
            )
        with pytest.raises(DomainError) as exc:
            services.order_create(actor=rep, customer=other_customer, order_date=datetime.date(2026, 3, 1), lines=line)
        assert exc.value.field == "customer" and not Order.objects.exists()

    def test_a_confirmed_order_cannot_be_confirmed_again(self, rep, own_customer, make_order):
        order = make_order(own_customer)
        with pytest.raises(DomainError):
            services.order_transition(actor=rep, order=order, action="confirm")


class TestPayments:
    def test_oldest_first_partial_and_prepayment(self, finance_user, own_customer, make_order):
        old = make_order(own_customer, "10", on=datetime.date(2026, 1, 5))  # 500
        new = make_order(own_customer, "4", on=datetime.date(2026, 2, 5))  # 200
        payment = services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 1), amount=D("600")
        )
        old.refresh_from_db(), new.refresh_from_db()
        assert (old.paid_amount, new.paid_amount, payment.unallocated) == (D("500"), D("100"), D("0"))
        extra = services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 2), amount=D("300")
        )
        new.refresh_from_db()
        assert new.paid_amount == D("200") and extra.unallocated == D("200")

    def test_prepayment_is_used_by_the_next_order(self, rep, finance_user, own_customer, make_order):
        prepaid = services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 1), amount=D("120")
        )
        assert prepaid.unallocated == D("120")
        order = make_order(own_customer, "2")  # 100
        prepaid.refresh_from_db()
        assert order.paid_amount == D("100") and prepaid.unallocated == D("20")

    def test_chosen_orders_are_paid_in_the_chosen_order(self, finance_user, own_customer, make_order):
        old = make_order(own_customer, "10", on=datetime.date(2026, 1, 5))
        new = make_order(own_customer, "4", on=datetime.date(2026, 2, 5))
        services.payment_record(
            actor=finance_user,
            customer=own_customer,
            date=datetime.date(2026, 3, 1),
            amount=D("250"),
            order_ids=[new.pk, old.pk],
        )
        old.refresh_from_db(), new.refresh_from_db()
        assert (new.paid_amount, old.paid_amount) == (D("200"), D("50"))

    def test_another_customers_order_is_refused_by_number(self, finance_user, own_customer, team_customer, make_order):
        foreign = make_order(team_customer)
        with pytest.raises(DomainError) as exc:
            services.payment_record(
                actor=finance_user,
                customer=own_customer,
                date=datetime.date(2026, 3, 1),
                amount=D("10"),
                order_ids=[foreign.pk],
            )
        assert foreign.number in str(exc.value.message) and not Payment.objects.exists()

    def test_only_finance_or_admin_record_payments(self, rep, own_customer):
        with pytest.raises(DomainError):
            services.payment_record(actor=rep, customer=own_customer, date=datetime.date(2026, 3, 1), amount=D("10"))

    def test_cancelling_an_order_returns_its_money_as_prepayment(self, rep, finance_user, own_customer, make_order):
        order = make_order(own_customer, "2")
        payment = services.payment_record(
            actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 1), amount=D("100")
        )
        services.order_transition(actor=rep, order=order, action="cancel")
        payment.refresh_from_db(), order.refresh_from_db()
        assert payment.unallocated == D("100") and order.paid_amount == D("0") and order.outstanding == D("0")
        assert not Allocation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_never_pay_the_same_order_twice(rep, own_customer, product):
    """Two transactions on PostgreSQL allocate to the same open order at the same time:
    the second waits for the first's row lock and then sees the order paid."""
    from crm.models import User

    finance_user = User.objects.create_user("cashier2", password="x", role=User.Role.FINANCE)
    order = services.order_create(
        actor=rep,
        customer=own_customer,
        order_date=datetime.date(2026, 3, 1),
        lines=[services.LineInput(product, D("10"))],
    )
    services.order_transition(actor=rep, order=order, action="confirm")
    first_inside = threading.Event()
    results, errors = {}, []

    def first():
        try:
            from django.db import transaction

            with transaction.atomic():
                results["first"] = services.payment_record(
                    actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 2), amount=D("500")
                )
                first_inside.set()
                time.sleep(0.8)  # hold the order's row lock while the second payment arrives
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            first_inside.set()
            connection.close()

    def second():
        try:
            first_inside.wait(5)
            started = time.monotonic()
            results["second"] = services.payment_record(
                actor=finance_user, customer=own_customer, date=datetime.date(2026, 3, 2), amount=D("500")
            )
            results["waited"] = time.monotonic() - started
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    order.refresh_from_db()
    assert order.paid_amount == D("500.00") == order.total
    assert Allocation.objects.filter(order=order).count() == 1
    assert Payment.objects.get(pk=results["second"].pk).unallocated == D("500.00")
    assert results["waited"] > 0.3  # it really waited for the first transaction's lock


class TestContracts:
    def _draft(self, rep, customer, product):
        contract = Contract(
            customer=customer,
            kind=Contract.Kind.FRAMEWORK,
            valid_from=datetime.date(2026, 1, 1),
            valid_to=datetime.date(2026, 12, 31),
            payment_term_days=60,
        )
        return services.contract_save(
            actor=rep, contract=contract, lines=[services.ContractLineInput(product, D("100"), D("45.00"))]
        )

    def test_draft_submit_approve_by_the_customers_manager(self, rep, manager, own_customer, product):
        contract = self._draft(rep, own_customer, product)
        assert contract.number.startswith("HT") and contract.lines.get().amount == D("4500.00")
        services.contract_transition(actor=rep, contract=contract, action="submit")
        contract = services.contract_transition(actor=manager, contract=contract, action="approve")
        assert contract.status == Contract.Status.ACTIVE and contract.approved_by == manager

    def test_another_teams_manager_cannot_approve(self, rep, other_manager, own_customer, product):
        contract = self._draft(rep, own_customer, product)
        services.contract_transition(actor=rep, contract=contract, action="submit")
        with pytest.raises(DomainError):
            services.contract_transition(actor=other_manager, contract=contract, action="approve")

    def test_order_under_a_contract_takes_its_payment_term(self, rep, manager, own_customer, product):
        contract = self._draft(rep, own_customer, product)
        services.contract_transition(actor=rep, contract=contract, action="submit")
        services.contract_transition(actor=manager, contract=contract, action="approve")
        order = services.order_create(
            actor=rep,
            customer=own_customer,
            order_date=datetime.date(2026, 6, 1),
            lines=[services.LineInput(product, D("1"))],
            contract=contract,
        )
        order = services.order_transition(actor=rep, order=order, action="confirm")
        assert order.due_date == datetime.date(2026, 7, 31)

    def test_nightly_expiry_is_idempotent(self, rep, manager, own_customer, product):
        contract = self._draft(rep, own_customer, product)
        services.contract_transition(actor=rep, contract=contract, action="submit")
        services.contract_transition(actor=manager, contract=contract, action="approve")
        assert services.contracts_expire(today=datetime.date(2027, 1, 1)) == 1
        assert services.contracts_expire(today=datetime.date(2027, 1, 1)) == 0
        contract.refresh_from_db()
        assert contract.status == Contract.Status.EXPIRED
