"""Tasks through a real Celery worker on Redis (not eager mode): the nightly run, the
morning care messages and a spreadsheet import's dry run and commit. One worker serves the whole module (a second worker in the
same process would not start cleanly)."""

import datetime
import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from crm.celery import app
from crm.imports import background, engine
from crm.models import ImportJob
from crm.tasks import run_nightly
from customers.models import Customer
from sales import services
from sales.models import CustomerSales
from tests.factories import ContactFactory, ProductFactory
from tests.visits.care_helpers import MEMORY_BACKEND, make_template
from visits import sms
from visits.models import CareMessage, Communication
from visits.tasks import send_care_messages


def _forget_connections():
    """Drop the broker connections the app pooled under the previous settings: a task
    run eagerly earlier in the session acquired a producer for the default broker
    (amqp://localhost), and tasks sent through it would never reach Redis."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="module")
def redis_worker():
    url = settings.REDIS_URL
    assert url, "the worker test needs REDIS_URL"
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    _forget_connections()
    # A clean queue: nothing left over from an earlier run is picked up.
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.update(broker_url=None, result_backend=None, task_always_eager=True)
        _forget_connections()


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


@pytest.mark.django_db(transaction=True)
def test_care_messages_run_in_a_real_worker(redis_worker, settings):
    settings.SMS_BACKEND = MEMORY_BACKEND
    sms.MemoryBackend.outbox.clear()
    make_template(body="{contact}，生日快乐")
    contact = ContactFactory(birthday=datetime.date(1980, 6, 15), mobile="13800000001", name="王建国")

    result = send_care_messages.delay("2026-06-15").get(timeout=30)
    again = send_care_messages.delay("2026-06-15").get(timeout=30)

    assert result["birthday"] == {"sent": 1, "failed": 0, "skipped": 0}
    assert again["birthday"] == {"sent": 0, "failed": 0, "skipped": 1}
    assert sms.MemoryBackend.outbox == [("13800000001", "王建国，生日快乐")]
    message = CareMessage.objects.get(contact=contact)
    assert message.status == CareMessage.Status.SENT and Communication.objects.get(message=message).kind == "sms"
    sms.MemoryBackend.outbox.clear()


def _wait_for(job, statuses, client, progress_url):
    """Poll the progress page, as the browser does, until the worker has moved the job on."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses and not background.is_queued(job):
            return job
        assert client.get(progress_url).status_code in (200, 302)
        time.sleep(0.1)
    raise AssertionError(f"the worker left import #{job.pk} {job.status}")


@pytest.mark.django_db(transaction=True)
def test_import_runs_in_a_real_worker(redis_worker, client, admin_user, tmp_path, monkeypatch):
    monkeypatch.setattr(background, "INLINE_ROWS", 0)  # every file is a large one
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        _import_through_the_worker(client, admin_user)


def _import_through_the_worker(client, admin_user):
    rows = "客户名称,客户类型,行业,省份,城市\r\n甲牧业,养殖场,兽药,山东,临沂\r\n乙牧业,养殖场,兽药,火星,临沂\r\n"
    job = engine.job_create(
        actor=admin_user, kind="customers", file=SimpleUploadedFile("c.csv", rows.encode()), original_name="c.csv"
    )
    client.force_login(admin_user)
    progress = reverse("imports:progress", args=[job.pk])

    # Confirming the mapping queues the dry run; the page follows it to the preview.
    data = {f"column_{i}": name for i, name in enumerate(job.mapping)}
    assert client.post(reverse("imports:mapping", args=[job.pk]), data)["Location"] == progress
    job = _wait_for(job, ("previewed", "failed"), client, progress)
    assert job.status == "previewed" and job.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}

    response = client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all_valid"})
    assert response["Location"] == progress
    job = _wait_for(job, ("done", "failed"), client, progress)
    assert job.status == ImportJob.Status.DONE and job.counts["created"] == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲牧业"]
    assert client.get(progress)["Location"] == reverse("imports:detail", args=[job.pk])
    assert background.progress_of(job) is None
