"""Communication records (沟通记录): logging one against a customer (with a contact of
that customer and an attachment), the list overall and per customer with filters,
its export, edit and delete, the attachment served privately, and who may do what:
allowed, 404 for the invisible, 403 for the read-only and for system messages, 405."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from crm.errors import DomainError
from crm.models import AuditEvent
from tests.factories import ContactFactory
from visits.models import CareMessage, Communication
from visits.services import communications as services

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}
LIST = reverse("visits:communication_list")


def log(customer, user=None, **extra):
    """A communication logged through the service by the customer's owner."""
    values = {"kind": "call", "summary": f"电话沟通{customer.name}的进货计划", "occurred_at": timezone.now()}
    values.update(extra)
    return services.communication_save(actor=user or customer.owner, record=Communication(customer=customer, **values))


def form_data(**extra):
    data = {
        "kind": "call",
        "direction": "outbound",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "contact": "",
        "subject": "",
        "summary": "客户计划下月补货阿莫西林50袋",
    }
    data.update(extra)
    return data


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


class TestService:
    def test_logged_and_recorded_in_history(self, rep, own_customer):
        contact = ContactFactory(customer=own_customer)
        record = log(own_customer, contact=contact)
        assert record.user == rep and record.message is None
        event = AuditEvent.objects.get(object_type="communication", object_id=record.pk)
        assert (event.action, event.customer_id, event.actor) == ("create", own_customer.pk, rep)

    def test_a_contact_of_another_customer_is_refused(self, own_customer, team_customer):
        with pytest.raises(DomainError) as caught:
            log(own_customer, contact=ContactFactory(customer=team_customer))
        assert caught.value.field == "contact"

    def test_the_future_is_refused(self, own_customer):
        with pytest.raises(DomainError) as caught:
            log(own_customer, occurred_at=timezone.now() + datetime.timedelta(days=1))
        assert caught.value.field == "occurred_at"

    def test_system_messages_are_not_changed(self, rep, own_customer):
        contact = ContactFactory(customer=own_customer)
        message = CareMessage.objects.create(
            customer=own_customer, contact=contact, channel="sms", occasion="birthday:2026",
            recipient=contact.mobile, body="生日快乐",
        )  # fmt: skip
        record = Communication.objects.create(customer=own_customer, kind="sms", summary="生日快乐", message=message)
        record.summary = "改了"
        with pytest.raises(DomainError):
            services.communication_save(actor=rep, record=record)
        with pytest.raises(DomainError):
            services.communication_delete(actor=rep, record=record)


class TestLogging:
    def test_the_rep_logs_a_call_with_a_recording(self, login, rep, own_customer, media):
        contact = ContactFactory(customer=own_customer, name="王经理")
        recording = SimpleUploadedFile("通话录音.m4a", b"\x00\x00 ftypM4A", content_type="audio/mp4")
        response = login(rep).post(
            reverse("visits:communication_create", args=[own_customer.pk]),
            form_data(contact=contact.pk, attachment=recording),
        )
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('customers:detail', args=[own_customer.pk])}?tab=timeline"
        record = Communication.objects.get()
        assert (record.user, record.contact, record.kind) == (rep, contact, "call")
        assert record.attachment.name.startswith("communications/") and record.attachment.name.endswith(".m4a")

    def test_only_the_customers_contacts_are_offered(self, login, rep, own_customer, team_customer):
        mine = ContactFactory(customer=own_customer, name="本店联系人")
        ContactFactory(customer=team_customer, name="别家联系人")
        html = login(rep).get(reverse("visits:communication_create", args=[own_customer.pk])).content.decode()
        assert mine.name in html and "别家联系人" not in html

    def test_a_wrong_attachment_is_refused(self, login, rep, own_customer, media):
        script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
        response = login(rep).post(
            reverse("visits:communication_create", args=[own_customer.pk]), form_data(attachment=script)
        )
        assert response.status_code == 200 and not Communication.objects.exists()

    def test_who_may_log(self, login, manager, finance, outsider, own_customer, team_customer):
        url = reverse("visits:communication_create", args=[team_customer.pk])
        assert login(manager).post(url, form_data()).status_code == 302
        assert login(finance).get(url).status_code == 403
        assert login(outsider).get(url).status_code == 404
        assert Communication.objects.count() == 1


class TestList:
    def test_shows_what_the_user_sees(self, login, rep, manager, own_customer, team_customer, other_customer):
        for customer in (own_customer, team_customer, other_customer):
            log(customer)
        html = login(rep).get(LIST).content.decode()
        assert own_customer.name in html and team_customer.name not in html and other_customer.name not in html
        html = login(manager).get(LIST).content.decode()
        assert team_customer.name in html and other_customer.name not in html

    def test_one_customers_list_and_filters(self, login, rep, own_customer):
        log(own_customer, kind="wechat", summary="微信发价格表")
        log(own_customer, kind="call", summary="电话催款", occurred_at=timezone.now() - datetime.timedelta(days=40))
        client = login(rep)
        html = client.get(LIST, {"customer": own_customer.pk}, headers=ENGLISH).content.decode()
        assert "Log communication" in html and "微信发价格表" in html and "电话催款" in html
        html = client.get(LIST, {"kind": "wechat"}).content.decode()
        assert "微信发价格表" in html and "电话催款" not in html
        since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
        html = client.get(LIST, {"date_from": since}).content.decode()
        assert "微信发价格表" in html and "电话催款" not in html

    def test_one_invisible_customers_list_is_404(self, login, rep, other_customer):
        assert login(rep).get(LIST, {"customer": other_customer.pk}).status_code == 404

    def test_query_count_does_not_grow(self, login, rep, own_customer, django_assert_num_queries):
        client = login(rep)
        log(own_customer, contact=ContactFactory(customer=own_customer))
        # session, user, the rep's shared customers, count, page (customer, contact, user joined)
        with django_assert_num_queries(5):
            client.get(LIST)
        for _ in range(12):
            log(own_customer, contact=ContactFactory(customer=own_customer))
        with django_assert_num_queries(5):
            client.get(LIST)

    def test_export_follows_the_filters(self, login, rep, own_customer, team_customer, django_assert_num_queries):
        log(own_customer, kind="wechat", summary="=HYPERLINK(1)")
        log(own_customer, kind="call", summary="电话")
        log(team_customer, kind="wechat", summary="别人的客户")
        client = login(rep)
        response = client.get(reverse("visits:communication_export"), {"kind": "wechat"}, headers=ENGLISH)
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert rows[0][:4] == ["Time", "Customer code", "Customer", "Kind"]
        assert [row[2] for row in rows[1:]] == [own_customer.name]
        assert rows[1][3] == "WeChat" and rows[1][7] == "'=HYPERLINK(1)"
        assert client.get(reverse("visits:communication_export"), {"format": "pdf"}).status_code == 404


class TestOneRecord:
    def test_detail_edit_delete(self, login, rep, own_customer):
        record = log(own_customer)
        client = login(rep)
        assert client.get(reverse("visits:communication_detail", args=[record.pk])).status_code == 200
        url = reverse("visits:communication_edit", args=[record.pk])
        assert client.post(url, form_data(summary="改过的纪要")).status_code == 302
        record.refresh_from_db()
        assert record.summary == "改过的纪要"
        assert AuditEvent.objects.filter(object_type="communication", action="update").exists()
        delete = reverse("visits:communication_delete", args=[record.pk])
        assert client.get(delete).status_code == 405
        assert client.post(delete).status_code == 302
        assert not Communication.objects.exists()

    def test_404_for_the_invisible_and_403_for_the_read_only(self, login, outsider, finance, own_customer):
        record = log(own_customer)
        for name in ("communication_detail", "communication_edit", "communication_attachment"):
            assert login(outsider).get(reverse(f"visits:{name}", args=[record.pk])).status_code == 404
        assert login(outsider).post(reverse("visits:communication_delete", args=[record.pk])).status_code == 404
        client = login(finance)
        assert client.get(reverse("visits:communication_detail", args=[record.pk])).status_code == 200
        assert client.get(reverse("visits:communication_edit", args=[record.pk])).status_code == 403
        assert client.post(reverse("visits:communication_delete", args=[record.pk])).status_code == 403

    def test_a_system_message_is_read_only(self, login, rep, own_customer):
        contact = ContactFactory(customer=own_customer)
        message = CareMessage.objects.create(
            customer=own_customer, contact=contact, channel="sms", occasion="birthday:2026",
            recipient=contact.mobile, body="生日快乐",
        )  # fmt: skip
        record = Communication.objects.create(customer=own_customer, kind="sms", summary="生日快乐", message=message)
        client = login(rep)
        assert client.get(reverse("visits:communication_detail", args=[record.pk])).status_code == 200
        assert client.get(reverse("visits:communication_edit", args=[record.pk])).status_code == 403
        assert client.post(reverse("visits:communication_delete", args=[record.pk])).status_code == 403

    def test_the_attachment_is_served_privately(self, login, rep, own_customer, media):
        record = log(own_customer)
        assert login(rep).get(reverse("visits:communication_attachment", args=[record.pk])).status_code == 404
        record.attachment.save("传真.pdf", io.BytesIO(b"%PDF-1.4 fax"), save=True)
        response = login(rep).get(reverse("visits:communication_attachment", args=[record.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 fax"
        assert response["Cache-Control"] == "private, no-store"
