"""The nightly task through a real Celery worker on Redis (not eager mode)."""

import datetime
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from crm.celery import app
from crm.tasks import run_nightly
from sales import services
from sales.models import CustomerSales
from tests.factories import ProductFactory


@pytest.fixture
def redis_worker():
    url = settings.REDIS_URL
    assert url, "the worker test needs REDIS_URL"
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    # A clean queue: nothing left over from an earlier run is picked up.
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.update(broker_url=None, result_backend=None, task_always_eager=True)


@pytest.mark.django_db(transaction=True)
def test_nightly_task_runs_in_a_real_worker(redis_worker, rep, own_customer):
    product = ProductFactory(list_price=Decimal("50.00"))
    order = services.order_create(
        actor=rep,
        customer=own_customer,
        order_date=datetime.date(2026, 6, 1),
        lines=[services.LineInput(product=product, quantity=Decimal("4"))],
    )
    services.order_transition(actor=rep, order=order, action="confirm")
    CustomerSales.objects.all().delete()

    result = run_nightly.delay("2026-06-30").get(timeout=30)

    assert result["sales_metrics"] >= 1
    figures = CustomerSales.objects.get(customer=own_customer)
    assert figures.amount_12m == Decimal("200.00") and figures.refreshed_on == datetime.date(2026, 6, 30)
