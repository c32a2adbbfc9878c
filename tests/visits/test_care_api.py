"""The communication and care API: visibility, writes through the services, filters,
the attachment, template placeholders, the holiday calendar, bulk messages (preview and
send) and the messages sent; list endpoints cost the same queries for few rows or many."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import ContactFactory
from visits import sms
from visits.models import Campaign, CareMessage, Communication, Holiday

from .care_helpers import MEMORY_BACKEND, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def _client(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return client

    return _client


def call(customer, **extra):
    return Communication.objects.create(
        customer=customer, kind="call", summary=f"电话{customer.name}", user=customer.owner, **extra
    )


class TestCommunications:
    def test_list_is_scoped_and_filtered(self, api, rep, own_customer, team_customer):
        call(own_customer)
        Communication.objects.create(customer=own_customer, kind="wechat", summary="微信", user=own_customer.owner)
        call(team_customer)
        rows = api(rep).get("/api/communications/").json()["results"]
        assert {r["customer"] for r in rows} == {own_customer.pk}
        rows = api(rep).get("/api/communications/", {"kind": "wechat"}).json()["results"]
        assert [r["summary"] for r in rows] == ["微信"]

    def test_list_queries_do_not_grow(self, api, client_service, own_customer, django_assert_num_queries):
        client = api(client_service)
        call(own_customer)
        # count, page (customer, contact, user joined)
        with django_assert_num_queries(2):
            client.get("/api/communications/")
        for _ in range(10):
            call(own_customer, contact=ContactFactory(customer=own_customer))
        with django_assert_num_queries(2):
            client.get("/api/communications/")

    def test_create_with_an_attachment(self, api, rep, own_customer, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        contact = ContactFactory(customer=own_customer)
        body = {
            "customer": own_customer.pk,
            "contact": contact.pk,
            "kind": "fax",
            "direction": "inbound",
            "occurred_at": timezone.now().isoformat(),
            "summary": "客户传真来GSP证书",
            "attachment": SimpleUploadedFile("gsp.pdf", b"%PDF-1.4"),
        }
        response = api(rep).post("/api/communications/", body, format="multipart")
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["user"]["id"] == rep.pk and data["contact_name"] == contact.name
        download = api(rep).get(data["attachment_url"])
        assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4"

    def test_refusals(self, api, rep, finance, own_customer, team_customer, other_customer):
        body = {"customer": own_customer.pk, "kind": "call", "summary": "电话"}
        assert api(finance).post("/api/communications/", body, format="json").status_code == 403
        response = api(rep).post("/api/communications/", {**body, "customer": other_customer.pk}, format="json")
        assert response.status_code == 400 and "does not exist" in response.json()["customer"][0]
        # A contact the rep cannot see does not exist; one of another customer is refused.
        for contact in (ContactFactory(customer=other_customer), ContactFactory(customer=team_customer)):
            response = api(rep).post("/api/communications/", {**body, "contact": contact.pk}, format="json")
            assert response.status_code == 400 and set(response.json()) == {"contact"}
        rep_second = ContactFactory(customer=own_customer)
        response = api(rep).post("/api/communications/", {**body, "contact": rep_second.pk}, format="json")
        assert response.status_code == 201
        assert api(rep).get(f"/api/communications/{call(team_customer).pk}/").status_code == 404

    def test_system_messages_are_read_only(self, api, rep, own_customer):
        contact = ContactFactory(customer=own_customer)
        message = CareMessage.objects.create(
            customer=own_customer, contact=contact, channel="sms", occasion="birthday:2026",
            recipient=contact.mobile, body="生日快乐",
        )  # fmt: skip
        record = Communication.objects.create(customer=own_customer, kind="sms", summary="生日快乐", message=message)
        client = api(rep)
        assert client.get(f"/api/communications/{record.pk}/").json()["message"] == message.pk
        assert client.patch(f"/api/communications/{record.pk}/", {"summary": "x"}, format="json").status_code == 403
        assert client.delete(f"/api/communications/{record.pk}/").status_code == 403
        record = call(own_customer)
        assert client.patch(f"/api/communications/{record.pk}/", {"summary": "改"}, format="json").status_code == 200
        assert client.delete(f"/api/communications/{record.pk}/").status_code == 204


class TestTemplatesAndHolidays:
    def test_unknown_placeholders_are_named(self, api, client_service):
        body = {"name": "生日", "occasion": "birthday", "channel": "sms", "body": "{contact}{firm}生日快乐"}
        response = api(client_service).post("/api/message-templates/", body, format="json")
        assert response.status_code == 400 and "{firm}" in response.json()["body"][0]
        body["body"] = "{contact}生日快乐"
        assert api(client_service).post("/api/message-templates/", body, format="json").status_code == 201

    def test_everyone_reads_client_service_writes(self, api, rep, admin_user):
        template = make_template()
        assert api(rep).get("/api/message-templates/").json()["results"][0]["id"] == template.pk
        assert (
            api(rep).patch(f"/api/message-templates/{template.pk}/", {"active": False}, format="json").status_code
            == 403
        )
        response = api(admin_user).patch(f"/api/message-templates/{template.pk}/", {"active": False}, format="json")
        assert response.status_code == 200 and response.json()["active"] is False

    def test_holiday_calendar(self, api, client_service, rep):
        template = make_template(occasion="holiday", body="{holiday}")
        client = api(client_service)
        response = client.post(
            "/api/holidays/", {"name": "中秋节", "date": "2026-09-25", "template": template.pk}, format="json"
        )
        assert response.status_code == 201 and response.json()["template"]["name"] == template.name
        Holiday.objects.create(name="中秋节", date=datetime.date(2027, 9, 15))
        rows = api(rep).get("/api/holidays/", {"year": 2027}).json()["results"]
        assert [r["date"] for r in rows] == ["2027-09-15"]
        bulk = make_template(occasion="bulk", body="{customer}")
        response = client.post(
            "/api/holidays/", {"name": "国庆", "date": "2026-10-01", "template": bulk.pk}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"template"}
        holiday_id = rows[0]["id"]
        assert api(rep).delete(f"/api/holidays/{holiday_id}/").status_code == 403
        assert client.delete(f"/api/holidays/{holiday_id}/").status_code == 204


class TestCampaigns:
    @pytest.fixture
    def bulk(self, db):
        return make_template(occasion="bulk", body="{contact}您好，{customer}新品到货")

    def test_preview_and_send(self, api, client_service, own_customer, other_customer, bulk, settings):
        settings.SMS_BACKEND = MEMORY_BACKEND
        sms.MemoryBackend.outbox.clear()
        for customer in (own_customer, other_customer):
            ContactFactory(customer=customer, is_primary=True, mobile="13800000001")
        client = api(client_service)
        response = client.post("/api/campaigns/", {"name": "新品", "template": bulk.pk}, format="json")
        assert response.status_code == 201, response.content
        campaign_id = response.json()["id"]
        preview = client.get(f"/api/campaigns/{campaign_id}/preview/").json()
        assert preview["recipients"] == 2 and "新品到货" in preview["sample"]
        response = client.post(f"/api/campaigns/{campaign_id}/send/")
        assert response.status_code == 200 and response.json()["status"] == "sent" and response.json()["sent"] == 2
        assert len(sms.MemoryBackend.outbox) == 2
        assert client.post(f"/api/campaigns/{campaign_id}/send/").status_code == 400
        sms.MemoryBackend.outbox.clear()

    def test_who_may(self, api, rep, manager, client_service, bulk, outsider):
        assert api(rep).get("/api/campaigns/").status_code == 403
        assert api(rep).post("/api/campaigns/", {"name": "x", "template": bulk.pk}, format="json").status_code == 403
        clerks = api(client_service).post("/api/campaigns/", {"name": "x", "template": bulk.pk}, format="json").json()
        assert api(manager).get(f"/api/campaigns/{clerks['id']}/").status_code == 404
        assert api(manager).post(f"/api/campaigns/{clerks['id']}/send/").status_code == 404
        response = api(manager).post(
            "/api/campaigns/", {"name": "x", "template": bulk.pk, "owner": outsider.pk}, format="json"
        )
        assert response.status_code == 400 and set(response.json()) == {"owner"}
        assert Campaign.objects.count() == 1


class TestCareMessages:
    def test_scoped_and_filtered(self, api, rep, own_customer, team_customer, django_assert_num_queries):
        for customer, status in ((own_customer, "sent"), (own_customer, "failed"), (team_customer, "sent")):
            contact = ContactFactory(customer=customer)
            CareMessage.objects.create(
                customer=customer, contact=contact, channel="sms", occasion=f"birthday:{contact.pk}",
                recipient=contact.mobile, body="生日快乐", status=status,
            )  # fmt: skip
        client = api(rep)
        # the rep's shared customers, count, page
        with django_assert_num_queries(3):
            rows = client.get("/api/care-messages/").json()["results"]
        assert {r["customer"] for r in rows} == {own_customer.pk} and len(rows) == 2
        rows = client.get("/api/care-messages/", {"status": "failed"}).json()["results"]
        assert [r["status"] for r in rows] == ["failed"]
        assert client.post("/api/care-messages/", {}, format="json").status_code == 405
