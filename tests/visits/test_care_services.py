"""Care messages: templates and placeholders, the daily job's birthday and holiday
greetings (who is greeted, who is skipped, 29 February), every message recorded as a
care message and a communication, failures, and "never twice": the job run twice, and
run by two workers at once on real PostgreSQL transactions."""

import datetime
import io
import logging
import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from crm.errors import DomainError
from crm.models import AuditEvent
from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory
from visits import sms
from visits.models import CareMessage, Communication, Holiday, MessageTemplate
from visits.services import care

from .care_helpers import MEMORY_BACKEND, REFUSING_BACKEND, make_template

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 6, 15)


@pytest.fixture
def outbox(settings):
    settings.SMS_BACKEND = MEMORY_BACKEND
    sms.MemoryBackend.outbox.clear()
    yield sms.MemoryBackend.outbox
    sms.MemoryBackend.outbox.clear()


def born(month, day, year=1980, **extra):
    return ContactFactory(birthday=datetime.date(year, month, day), **extra)


# -- Templates and placeholders ----------------------------------------------------------------


class TestPlaceholders:
    def test_unknown_placeholders_are_named(self):
        with pytest.raises(DomainError) as caught:
            care.placeholders_check("{contact}您好，{cusomer}祝{name}快乐{contact}", occasion="birthday")
        message = str(caught.value.message)
        assert "{cusomer}" in message and "{name}" in message and "{contact}、" not in message
        assert caught.value.field == "body"

    def test_holiday_only_in_holiday_templates(self):
        care.placeholders_check("{contact}，{holiday}快乐", occasion="holiday")
        with pytest.raises(DomainError, match="holiday"):
            care.placeholders_check("{contact}，{holiday}快乐", occasion="bulk")

    def test_the_service_refuses_a_bad_subject_at_its_field(self, client_service):
        template = MessageTemplate(name="邮件", occasion="birthday", channel="email", subject="{who}", body="{contact}")
        with pytest.raises(DomainError) as caught:
            care.message_template_save(actor=client_service, template=template)
        assert caught.value.field == "subject" and "{who}" in str(caught.value.message)
        assert not MessageTemplate.objects.exists()

    def test_only_client_service_and_admins_keep_templates(self, rep, manager, admin_user):
        for user in (rep, manager):
            with pytest.raises(DomainError):
                care.message_template_save(
                    actor=user, template=MessageTemplate(name="x", occasion="bulk", body="{customer}")
                )
        saved = care.message_template_save(
            actor=admin_user, template=MessageTemplate(name="x", occasion="bulk", body="{customer}")
        )
        event = AuditEvent.objects.get(object_type="messagetemplate", object_id=saved.pk)
        assert event.actor == admin_user and event.action == "create"

    def test_render_fills_every_placeholder(self):
        text = care.render(
            "{contact}：{date}{holiday}，{customer}问候", customer="康达", contact="王建国", day=DAY, holiday="端午节"
        )
        assert text == "王建国：6月15日端午节，康达问候"
        assert care.sms_parts("字" * 70) == 1 and care.sms_parts("字" * 71) == 2 and care.sms_parts("字" * 135) == 3


class TestHolidayCalendar:
    def test_a_holiday_takes_only_a_holiday_template(self, client_service):
        bulk = make_template(occasion="bulk", body="{customer}")
        with pytest.raises(DomainError) as caught:
            care.holiday_save(
                actor=client_service, holiday=Holiday(name="国庆节", date=datetime.date(2026, 10, 1), template=bulk)
            )
        assert caught.value.field == "template"


# -- Birthdays ----------------------------------------------------------------------------------


class TestBirthdays:
    def test_contacts_born_on_the_day_are_greeted_once_each(self, outbox):
        template = make_template()
        greeted = born(6, 15, year=1975, mobile="13800000001", name="王建国")
        born(6, 15, year=1990, mobile="13800000002")
        born(6, 16, mobile="13800000003")  # tomorrow
        ContactFactory(birthday=None, mobile="13800000004")

        result = care.care_messages_send(day=DAY)

        assert result["birthday"] == {"sent": 2, "failed": 0, "skipped": 0}
        assert sorted(to for to, _text in outbox) == ["13800000001", "13800000002"]
        message = CareMessage.objects.get(contact=greeted)
        assert message.occasion == "birthday:2026" and message.status == CareMessage.Status.SENT
        assert message.body == f"王建国您好，{greeted.customer.name}祝您生日快乐！" and message.template == template
        # Recorded as a communication of the customer, sent by nobody in particular.
        record = Communication.objects.get(message=message)
        assert (record.customer_id, record.contact_id) == (greeted.customer_id, greeted.pk)
        assert record.kind == "sms" and record.direction == "outbound" and record.user is None
        assert record.summary == message.body

    def test_opted_out_unreachable_and_closed_are_skipped(self, outbox):
        make_template()
        born(6, 15, mobile="13800000001", opted_out=True)
        born(6, 15, mobile="")
        closed = CustomerFactory(status=Customer.Status.CLOSED)
        born(6, 15, mobile="13800000003", customer=closed)
        care.care_messages_send(day=DAY)
        assert outbox == [] and not CareMessage.objects.exists()

    def test_by_email_when_there_is_no_mobile(self, outbox):
        make_template(channel="sms")
        make_template(channel="email", subject="{contact}，生日快乐", body="{contact}：{date}生日快乐")
        by_sms = born(6, 15, mobile="13800000001", email="a@example.com")
        by_mail = born(6, 15, mobile="", email="b@example.com", name="李娜")
        born(6, 15, mobile="", email="")

        care.care_messages_send(day=DAY)

        assert [to for to, _text in outbox] == [by_sms.mobile]
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["b@example.com"]
        assert mail.outbox[0].subject == "李娜，生日快乐" and mail.outbox[0].body == "李娜：6月15日生日快乐"
        assert Communication.objects.get(contact=by_mail).kind == "email"

    def test_29_february_birthdays_on_28_february_of_common_years(self, outbox):
        make_template()
        leapling = born(2, 29, year=1988, mobile="13800000001")
        born(2, 28, year=1980, mobile="13800000002")

        care.care_messages_send(day=datetime.date(2027, 2, 28))
        assert sorted(to for to, _ in outbox) == ["13800000001", "13800000002"]

        outbox.clear()
        care.care_messages_send(day=datetime.date(2028, 2, 28))  # a leap year: the 29th comes
        assert [to for to, _ in outbox] == ["13800000002"]
        care.care_messages_send(day=datetime.date(2028, 2, 29))
        assert [to for to, _ in outbox] == ["13800000002", "13800000001"]
        assert CareMessage.objects.filter(contact=leapling).count() == 2  # 2027 and 2028

    def test_no_active_template_sends_nothing(self, outbox):
        make_template(active=False)
        born(6, 15, mobile="13800000001")
        assert care.care_messages_send(day=DAY)["birthday"] == {"sent": 0, "failed": 0, "skipped": 0}


# -- Holidays -------------------------------------------------------------------------------------


class TestHolidays:
    def test_main_contacts_get_the_holidays_template(self, outbox):
        template = make_template(occasion="holiday", body="{contact}您好！{holiday}快乐，{date}")
        holiday = Holiday.objects.create(name="端午节", date=DAY, template=template)
        Holiday.objects.create(name="无模板", date=DAY)
        Holiday.objects.create(name="明天", date=DAY + datetime.timedelta(days=1), template=template)
        main = ContactFactory(is_primary=True, mobile="13800000001", name="张三")
        ContactFactory(customer=main.customer, is_primary=False, mobile="13800000002")
        ContactFactory(is_primary=True, mobile="13800000003", opted_out=True)

        result = care.care_messages_send(day=DAY)

        assert result["holiday"] == {"sent": 1, "failed": 0, "skipped": 0}
        assert outbox == [("13800000001", "张三您好！端午节快乐，6月15日")]
        assert CareMessage.objects.get().occasion == f"holiday:{holiday.pk}"

    def test_an_inactive_template_sends_nothing(self, outbox):
        template = make_template(occasion="holiday", body="{holiday}", active=False)
        Holiday.objects.create(name="端午节", date=DAY, template=template)
        ContactFactory(is_primary=True, mobile="13800000001")
        care.care_messages_send(day=DAY)
        assert outbox == []


# -- Never twice; failures -------------------------------------------------------------------------


class TestOnce:
    def test_the_job_run_twice_sends_once(self, outbox):
        make_template()
        template = make_template(occasion="holiday", body="{holiday}")
        Holiday.objects.create(name="端午节", date=DAY, template=template)
        born(6, 15, mobile="13800000001", is_primary=True)

        first = care.care_messages_send(day=DAY)
        second = care.care_messages_send(day=DAY)

        assert first == {
            "birthday": {"sent": 1, "failed": 0, "skipped": 0},
            "holiday": {"sent": 1, "failed": 0, "skipped": 0},
        }
        assert second == {
            "birthday": {"sent": 0, "failed": 0, "skipped": 1},
            "holiday": {"sent": 0, "failed": 0, "skipped": 1},
        }
        assert len(outbox) == 2 and CareMessage.objects.count() == 2 and Communication.objects.count() == 2

    def test_a_message_claimed_by_a_run_that_died_is_not_sent_again(self, outbox):
        make_template()
        contact = born(6, 15, mobile="13800000001")
        # What a run leaves when it stops between claiming and recording.
        CareMessage.objects.create(
            customer=contact.customer, contact=contact, channel="sms", occasion="birthday:2026",
            recipient=contact.mobile, body="…", status=CareMessage.Status.PENDING,
        )  # fmt: skip
        assert care.care_messages_send(day=DAY)["birthday"]["skipped"] == 1
        assert outbox == []

    def test_failures_are_recorded_and_not_retried(self, settings, outbox):
        settings.SMS_BACKEND = REFUSING_BACKEND
        make_template()
        ok = born(6, 15, mobile="13800000001")
        refused = born(6, 15, mobile="13800000010")
        timed_out = born(6, 15, mobile="13800000019")

        result = care.care_messages_send(day=DAY)

        assert result["birthday"] == {"sent": 1, "failed": 2, "skipped": 0}
        assert outbox == [(ok.mobile, CareMessage.objects.get(contact=ok).body)]
        failed = {m.contact_id: m for m in CareMessage.objects.filter(status=CareMessage.Status.FAILED)}
        assert "block list" in failed[refused.pk].error and "timed out" in failed[timed_out.pk].error
        # Only what went out is in the communication history.
        assert list(Communication.objects.values_list("contact_id", flat=True)) == [ok.pk]
        # A refused number may still have been delivered: the job does not try again.
        assert care.care_messages_send(day=DAY)["birthday"] == {"sent": 0, "failed": 0, "skipped": 3}


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_greeting_once(settings, outbox):
    """Two runs of the job in two threads, each with its own PostgreSQL connection and
    transactions, started together: every contact is greeted exactly once."""
    settings.SMS_BACKEND = "tests.visits.test_care_services.SlowBackend"
    make_template()
    contacts = [born(6, 15, mobile=f"1380000{n:04d}") for n in range(40)]
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(care.care_messages_send(day=DAY)["birthday"])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r["sent"] for r in results) == 40 and sum(r["skipped"] for r in results) == 40
    assert sorted(to for to, _ in outbox) == sorted(c.mobile for c in contacts)
    assert CareMessage.objects.count() == 40 and Communication.objects.count() == 40


class SlowBackend(sms.MemoryBackend):
    """Delivers like the memory backend, but each send takes a moment, so the two runs overlap."""

    def send(self, to, text):
        threading.Event().wait(0.005)
        return super().send(to, text)


# -- The command and the log backend ------------------------------------------------------------------


def test_the_command_sends_for_the_date(outbox):
    make_template()
    born(6, 15, mobile="13800000001")
    out = io.StringIO()
    call_command("send_care_messages", "--date", "2026-06-15", stdout=out)
    assert "birthday (2026-06-15): failed 0, sent 1, skipped 0" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_care_messages", "--date", "15.06.2026")


def test_the_default_sms_backend_writes_to_the_log(settings, caplog):
    settings.SMS_BACKEND = "visits.sms.LogBackend"
    with caplog.at_level(logging.INFO, logger="visits.sms"):
        result = sms.get_backend().send("13800000001", "您好")
    assert result.ok and result.reference.startswith("log-")
    assert "13800000001" in caplog.text and "您好" in caplog.text
