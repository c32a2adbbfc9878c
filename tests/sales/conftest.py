import datetime
from decimal import Decimal

import pytest

from crm.models import User
from sales import services
from sales.models import Order
from tests.factories import ProductFactory, UserFactory


@pytest.fixture
def product(db):
    return ProductFactory(list_price=Decimal("50.00"))


@pytest.fixture
def finance_user(db):
    return UserFactory(username="cashier", role=User.Role.FINANCE)


@pytest.fixture
def make_order(rep, product):
    """make_order(customer, quantity=..., confirm=True) -> a confirmed order of `product`."""

    def _make(customer, quantity="10", on=datetime.date(2026, 3, 1), confirm=True):
        actor = customer.owner  # whoever sells to the customer
        order = services.order_create(
            actor=actor,
            customer=customer,
            order_date=on,
            lines=[services.LineInput(product=product, quantity=Decimal(quantity))],
        )
        if confirm:
            order = services.order_transition(actor=actor, order=order, action="confirm")
        return Order.objects.get(pk=order.pk)

    return _make
