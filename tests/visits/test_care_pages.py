"""The care pages: message templates and the holiday calendar (read by everyone, kept by
client service and admins), and the list of messages sent (as the customers are seen)."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import ContactFactory
from visits.models import CareMessage, Holiday, MessageTemplate

from .care_helpers import make_template

pytestmark = pytest.mark.django_db
ENGLISH = {"Accept-Language": "en"}


class TestTemplates:
    def test_client_service_creates_a_template(self, login, client_service):
        response = login(client_service).post(
            reverse("visits:template_create"),
            {
                "name": "生日",
                "occasion": "birthday",
                "channel": "sms",
                "subject": "",
                "body": "{contact}生日快乐",
                "active": "on",
            },
        )
        assert response.status_code == 302
        assert MessageTemplate.objects.get().body == "{contact}生日快乐"

    def test_an_unknown_placeholder_is_shown_at_the_text(self, login, client_service):
        response = login(client_service).post(
            reverse("visits:template_create"),
            {"name": "生日", "occasion": "birthday", "channel": "sms", "body": "{contact}，{company}生日快乐"},
            headers=ENGLISH,
        )
        assert response.status_code == 200 and not MessageTemplate.objects.exists()
        html = response.content.decode()
        assert 'id="id_body_error"' in html and "Unknown placeholders: {company}" in html

    def test_the_saved_template_reads_with_sample_names(self, login, admin_user):
        template = make_template(body="{contact}您好，{customer}祝您生日快乐")
        html = login(admin_user).get(reverse("visits:template_edit", args=[template.pk])).content.decode()
        assert "王建国您好，临沂康达兽药经营部祝您生日快乐" in html

    @pytest.mark.parametrize("role", ["rep", "manager", "finance"])
    def test_others_read_but_do_not_change(self, request, login, role):
        template = make_template()
        client = login(request.getfixturevalue(role))
        assert client.get(reverse("visits:template_list")).status_code == 200
        assert client.get(reverse("visits:template_create")).status_code == 403
        assert client.post(reverse("visits:template_edit", args=[template.pk]), {"name": "x"}).status_code == 403

    def test_missing_template_is_404_and_list_queries(self, login, client_service, django_assert_num_queries):
        client = login(client_service)
        assert client.get(reverse("visits:template_edit", args=[999])).status_code == 404
        for n in range(4):
            make_template(name=f"模板{n}")
        # session, user, templates
        with django_assert_num_queries(3):
            assert client.get(reverse("visits:template_list")).status_code == 200


class TestHolidays:
    def test_the_calendar_by_year(self, login, rep):
        template = make_template(occasion="holiday", body="{holiday}快乐", name="春节问候")
        Holiday.objects.create(name="春节", date=datetime.date(2027, 2, 6), template=template)
        Holiday.objects.create(name="中秋节", date=datetime.date(2026, 9, 25))
        html = login(rep).get(reverse("visits:holiday_list"), headers=ENGLISH).content.decode()
        assert html.index("2026") < html.index("中秋节") < html.index("2027") < html.index("春节问候")
        assert "New holiday" not in html  # a rep reads the calendar

    def test_client_service_adds_edits_and_deletes(self, login, client_service):
        template = make_template(occasion="holiday", body="{holiday}")
        client = login(client_service)
        data = {"name": "春节", "date": "2026-02-17", "template": template.pk}
        assert client.post(reverse("visits:holiday_create"), data).status_code == 302
        holiday = Holiday.objects.get()
        assert (holiday.date, holiday.template) == (datetime.date(2026, 2, 17), template)
        # The same holiday twice on the same date is refused by the form.
        assert client.post(reverse("visits:holiday_create"), data).status_code == 200
        data["date"] = "2026-02-18"
        assert client.post(reverse("visits:holiday_edit", args=[holiday.pk]), data).status_code == 302
        assert client.get(reverse("visits:holiday_delete", args=[holiday.pk])).status_code == 405
        assert client.post(reverse("visits:holiday_delete", args=[holiday.pk])).status_code == 302
        assert not Holiday.objects.exists()

    def test_only_holiday_templates_are_offered(self, login, client_service):
        make_template(occasion="holiday", body="{holiday}", name="节日问候")
        make_template(occasion="bulk", body="{customer}", name="新品群发模板")
        html = login(client_service).get(reverse("visits:holiday_create")).content.decode()
        assert "节日问候" in html and "新品群发模板" not in html

    @pytest.mark.parametrize("role", ["rep", "manager", "finance"])
    def test_others_do_not_change_it(self, request, login, role):
        holiday = Holiday.objects.create(name="春节", date=datetime.date(2026, 2, 17))
        client = login(request.getfixturevalue(role))
        assert client.get(reverse("visits:holiday_create")).status_code == 403
        assert client.post(reverse("visits:holiday_delete", args=[holiday.pk])).status_code == 403
        assert Holiday.objects.exists()


class TestMessagesSent:
    def _message(self, customer, **extra):
        contact = ContactFactory(customer=customer)
        return CareMessage.objects.create(
            customer=customer, contact=contact, channel="sms", occasion=f"birthday:2026-{contact.pk}",
            recipient=contact.mobile, body=f"给{customer.name}的祝福", **extra,
        )  # fmt: skip

    def test_as_the_customers_are_seen(self, login, rep, manager, own_customer, team_customer, other_customer):
        for customer in (own_customer, team_customer, other_customer):
            self._message(customer)
        html = login(rep).get(reverse("visits:care_message_list")).content.decode()
        assert own_customer.name in html and team_customer.name not in html and other_customer.name not in html
        html = login(manager).get(reverse("visits:care_message_list")).content.decode()
        assert team_customer.name in html and other_customer.name not in html

    def test_filters(self, login, client_service, own_customer, team_customer):
        self._message(own_customer, status=CareMessage.Status.FAILED, error="号码停机")
        self._message(team_customer)
        client = login(client_service)
        html = client.get(reverse("visits:care_message_list"), {"status": "failed"}).content.decode()
        assert own_customer.name in html and "号码停机" in html and team_customer.name not in html
        html = client.get(reverse("visits:care_message_list"), {"occasion": "campaign"}).content.decode()
        assert own_customer.name not in html

    def test_query_count_does_not_grow(self, login, client_service, own_customer, django_assert_num_queries):
        client = login(client_service)
        for _ in range(2):
            self._message(own_customer)
        # session, user, count, page (with customer, contact, campaign)
        with django_assert_num_queries(4):
            client.get(reverse("visits:care_message_list"))
        for _ in range(10):
            self._message(own_customer)
        with django_assert_num_queries(4):
            client.get(reverse("visits:care_message_list"))
