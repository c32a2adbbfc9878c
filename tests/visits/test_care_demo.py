"""The care demo (visits/demo_care.py, loaded by seed_demo): templates, the holiday
calendar with each year's real dates, communications of the demo customers, past
greetings and bulk messages, birthdays in the coming days; loaded once."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Contact, Customer
from visits import demo_care
from visits.models import Campaign, CareMessage, Communication, Holiday, MessageTemplate
from visits.services import campaigns, care


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_templates_for_every_occasion():
    names = set(MessageTemplate.objects.values_list("name", flat=True))
    assert {demo_care.BIRTHDAY, demo_care.SPRING_FESTIVAL, demo_care.MID_AUTUMN, demo_care.BULK_NEW_PRODUCT} <= names
    assert set(MessageTemplate.objects.values_list("occasion", flat=True)) == {"birthday", "holiday", "bulk"}
    for template in MessageTemplate.objects.all():
        care.placeholders_check(template.body, occasion=template.occasion)


def test_holiday_calendar_has_the_real_dates():
    dates = {(h.name, h.date.isoformat()): h.template.name for h in Holiday.objects.select_related("template")}
    assert dates[("春节", "2026-02-17")] == demo_care.SPRING_FESTIVAL
    assert dates[("春节", "2027-02-06")] == demo_care.SPRING_FESTIVAL
    assert dates[("中秋节", "2026-09-25")] == demo_care.MID_AUTUMN
    assert dates[("中秋节", "2027-09-15")] == demo_care.MID_AUTUMN
    assert ("国庆节", "2026-10-01") in dates and ("国庆节", "2027-10-01") in dates


def test_communications_of_the_demo_customers():
    logged = Communication.objects.filter(message__isnull=True)
    assert logged.count() >= 500
    assert logged.values("customer").distinct().count() >= 0.8 * Customer.objects.count()
    assert set(logged.values_list("kind", flat=True)) == set(Communication.Kind.values)
    # Logged by the customer's owner, within the last three months, never in the future.
    now = timezone.now()
    assert not logged.exclude(user=F("customer__owner")).exists()
    assert not logged.filter(occurred_at__gt=now).exists()
    assert not logged.filter(occurred_at__lt=now - datetime.timedelta(days=92)).exists()


def test_greetings_sent_and_birthdays_ahead():
    assert CareMessage.objects.filter(occasion__startswith="birthday:").exists()
    # Every message sent is in the communication history.
    assert CareMessage.objects.count() == Communication.objects.filter(message__isnull=False).count()
    today = timezone.localdate()
    ahead = sum(len(care.birthday_drafts(today + datetime.timedelta(days=n))) for n in range(8))
    assert ahead >= 12
    assert Contact.objects.filter(opted_out=True).exists()


def test_a_sent_and_a_draft_bulk_message():
    sent = Campaign.objects.get(status=Campaign.Status.SENT)
    assert sent.sent == sent.recipients == sent.messages.count() > 0
    draft = Campaign.objects.get(status=Campaign.Status.DRAFT)
    assert campaigns.campaign_preview(campaign=draft).recipients > 0


def test_loaded_once():
    counts = (Communication.objects.count(), Holiday.objects.count(), CareMessage.objects.count())
    assert demo_care.load_care_demo() is False
    call_command("seed_demo", stdout=io.StringIO())
    assert (Communication.objects.count(), Holiday.objects.count(), CareMessage.objects.count()) == counts
