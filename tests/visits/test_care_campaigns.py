"""Bulk messages (群发): who may send them, the selection through the sender's own
visibility (region, type, tag, owner, main contacts), the preview's counts and sample,
sending once, large selections through Celery, and the pages (allowed, 404, 403, 405,
query counts)."""

import re

import pytest
from django.urls import reverse

from crm.errors import DomainError
from customers.models import Customer
from tests.factories import ContactFactory, CustomerFactory, TagFactory
from visits import sms
from visits.models import Campaign, CareMessage, Communication
from visits.services import campaigns
from visits.services.campaigns import Selection

from .care_helpers import MEMORY_BACKEND, make_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings):
    settings.SMS_BACKEND = MEMORY_BACKEND
    sms.MemoryBackend.outbox.clear()
    yield sms.MemoryBackend.outbox
    sms.MemoryBackend.outbox.clear()


@pytest.fixture
def bulk_template(db):
    return make_template(occasion="bulk", body="{contact}您好，{customer}：新品到货")


@pytest.fixture
def people(own_customer, team_customer, other_customer):
    """The main contact of each cast customer (the other contacts are not main)."""
    return {
        "own": ContactFactory(customer=own_customer, is_primary=True, mobile="13800000001", name="甲"),
        "own_second": ContactFactory(customer=own_customer, is_primary=False, mobile="13800000002"),
        "team": ContactFactory(customer=team_customer, is_primary=True, mobile="13800000003"),
        "other": ContactFactory(customer=other_customer, is_primary=True, mobile="13800000004"),
    }


def draft(actor, template, selection=None, name="新品通知"):
    return campaigns.campaign_save(
        actor=actor, campaign=Campaign(), name=name, template=template, selection=selection or Selection()
    )


def recipient_ids(campaign):
    return set(campaigns.campaign_recipients(campaign).values_list("pk", flat=True))


class TestSelection:
    def test_through_the_senders_visibility(self, people, manager, client_service, bulk_template):
        assert recipient_ids(draft(client_service, bulk_template)) == {
            people["own"].pk,
            people["team"].pk,
            people["other"].pk,
        }
        # A manager reaches the customers of the team's reps only.
        assert recipient_ids(draft(manager, bulk_template)) == {people["own"].pk, people["team"].pk}

    def test_by_region_type_tag_owner_and_every_contact(
        self, people, client_service, bulk_template, rep, region_b, own_customer, team_customer
    ):
        cs = client_service
        assert recipient_ids(draft(cs, bulk_template, Selection(region_id=region_b.pk))) == {people["other"].pk}
        assert recipient_ids(draft(cs, bulk_template, Selection(customer_type="farm"))) == {people["team"].pk}
        tag = TagFactory(name="重点客户")
        own_customer.tags.add(tag)
        assert recipient_ids(draft(cs, bulk_template, Selection(tag_id=tag.pk))) == {people["own"].pk}
        everyone = draft(cs, bulk_template, Selection(owner_id=rep.pk, primary_only=False))
        assert recipient_ids(everyone) == {people["own"].pk, people["own_second"].pk}

    def test_opted_out_unreachable_and_closed_are_left_out(self, client_service, bulk_template):
        reachable = ContactFactory(is_primary=True, mobile="13800000001")
        ContactFactory(is_primary=True, mobile="13800000002", opted_out=True)
        ContactFactory(is_primary=True, mobile="")
        ContactFactory(is_primary=True, mobile="13800000003", customer=CustomerFactory(status=Customer.Status.CLOSED))
        campaign = draft(client_service, bulk_template)
        assert recipient_ids(campaign) == {reachable.pk}
        preview = campaigns.campaign_preview(campaign=campaign)
        assert (preview.recipients, preview.customers, preview.opted_out, preview.no_address) == (1, 1, 1, 1)

    def test_reps_and_finance_do_not_send_bulk_messages(self, rep, finance, bulk_template):
        for user in (rep, finance):
            with pytest.raises(DomainError) as caught:
                draft(user, bulk_template)
            assert caught.value.code == "forbidden"

    def test_a_manager_cannot_select_another_teams_rep(self, manager, outsider, bulk_template):
        with pytest.raises(DomainError) as caught:
            draft(manager, bulk_template, Selection(owner_id=outsider.pk))
        assert caught.value.field == "owner"

    def test_only_active_bulk_templates(self, client_service):
        for template in (make_template(occasion="birthday"), make_template(occasion="bulk", active=False)):
            with pytest.raises(DomainError) as caught:
                draft(client_service, template)
            assert caught.value.field == "template"


class TestSending:
    def test_preview_then_send_once(self, people, client_service, bulk_template, outbox):
        campaign = draft(client_service, bulk_template)
        preview = campaigns.campaign_preview(campaign=campaign)
        assert preview.recipients == 3 and preview.sample.startswith("甲您好，")
        assert preview.sample_to == f"甲 · {people['own'].customer.name}"

        campaign = campaigns.campaign_send(actor=client_service, campaign=campaign)

        assert (campaign.status, campaign.recipients, campaign.sent, campaign.failed) == ("sent", 3, 3, 0)
        assert len(outbox) == 3
        messages = CareMessage.objects.filter(campaign=campaign)
        assert {m.occasion for m in messages} == {f"campaign:{campaign.pk}"}
        assert Communication.objects.filter(message__campaign=campaign, user=None, kind="sms").count() == 3
        with pytest.raises(DomainError, match=re.escape(str(campaigns.ERR_NOT_DRAFT))):
            campaigns.campaign_send(actor=client_service, campaign=campaign)
        with pytest.raises(DomainError):
            campaigns.campaign_save(
                actor=client_service, campaign=campaign, name="x", template=bulk_template, selection=Selection()
            )
        assert len(outbox) == 3

    def test_delivering_again_sends_nobody_twice(self, people, client_service, bulk_template, outbox):
        campaign = campaigns.campaign_send(actor=client_service, campaign=draft(client_service, bulk_template))
        # A retried task finds the campaign sent; even forced back to sending, the claims hold.
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
        assert campaigns.campaign_deliver(campaign_id=campaign.pk) == {"sent": 0, "failed": 0, "skipped": 3}
        assert len(outbox) == 3

    def test_nobody_to_message_is_refused(self, client_service, bulk_template):
        with pytest.raises(DomainError, match=re.escape(str(campaigns.ERR_NO_RECIPIENTS))):
            campaigns.campaign_send(actor=client_service, campaign=draft(client_service, bulk_template))

    def test_a_large_selection_goes_to_celery_after_commit(
        self, people, client_service, bulk_template, outbox, monkeypatch, django_capture_on_commit_callbacks
    ):
        monkeypatch.setattr(campaigns, "INLINE_LIMIT", 2)
        campaign = draft(client_service, bulk_template)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            campaign = campaigns.campaign_send(actor=client_service, campaign=campaign)
        # Nothing is sent before the transaction commits; then the task (eager here) sends.
        assert campaign.status == "sending" and outbox == [] and len(callbacks) == 1
        callbacks[0]()
        campaign.refresh_from_db()
        assert (campaign.status, campaign.sent) == ("sent", 3) and len(outbox) == 3


# -- Pages ----------------------------------------------------------------------------------------


class TestPages:
    def test_the_clerk_previews_and_sends(self, login, people, client_service, bulk_template, outbox):
        client = login(client_service)
        response = client.post(
            reverse("visits:campaign_create"),
            {"name": "新品通知", "template": bulk_template.pk, "customer_type": "", "primary_only": "on"},
        )
        campaign = Campaign.objects.get()
        assert response.status_code == 302 and response["Location"] == campaign.get_absolute_url()
        page = client.get(campaign.get_absolute_url(), headers={"Accept-Language": "en"})
        html = page.content.decode()
        assert 'id="recipient-count">3<' in html and "Send to 3 recipients" in html and "甲您好" in html

        response = client.post(reverse("visits:campaign_send", args=[campaign.pk]))
        assert response.status_code == 302 and len(outbox) == 3
        campaign.refresh_from_db()
        assert campaign.status == "sent"
        assert client.get(reverse("visits:campaign_edit", args=[campaign.pk])).status_code == 302

    def test_a_manager_sees_only_their_campaigns(self, login, manager, other_manager, client_service, bulk_template):
        mine = draft(manager, bulk_template)
        clerks = draft(client_service, bulk_template)
        client = login(manager)
        assert client.get(mine.get_absolute_url()).status_code == 200
        assert client.get(clerks.get_absolute_url()).status_code == 404
        assert client.post(reverse("visits:campaign_send", args=[clerks.pk])).status_code == 404
        assert login(other_manager).get(mine.get_absolute_url()).status_code == 404
        # Client service sees every campaign.
        assert login(client_service).get(mine.get_absolute_url()).status_code == 200

    @pytest.mark.parametrize("role", ["rep", "finance"])
    def test_reps_and_finance_are_refused(self, request, login, role, bulk_template):
        client = login(request.getfixturevalue(role))
        assert client.get(reverse("visits:campaign_list")).status_code == 403
        assert client.get(reverse("visits:campaign_create")).status_code == 403
        data = {"name": "x", "template": bulk_template.pk}
        assert client.post(reverse("visits:campaign_create"), data).status_code == 403
        assert not Campaign.objects.exists()

    def test_wrong_methods(self, login, client_service, bulk_template):
        campaign = draft(client_service, bulk_template)
        client = login(client_service)
        assert client.get(reverse("visits:campaign_send", args=[campaign.pk])).status_code == 405
        assert client.post(campaign.get_absolute_url()).status_code == 405

    def test_the_form_offers_a_manager_only_their_team(self, login, manager, rep, outsider, bulk_template):
        html = login(manager).get(reverse("visits:campaign_create")).content.decode()
        assert f'value="{rep.pk}"' in html and f'value="{outsider.pk}"' not in html
        assert (
            "managers to their team"
            in login(manager).get(reverse("visits:campaign_create"), headers={"Accept-Language": "en"}).content.decode()
        )

    def test_list_and_preview_query_counts(
        self, login, client_service, bulk_template, people, django_assert_num_queries
    ):
        for n in range(3):
            draft(client_service, bulk_template, name=f"草稿{n}")
        client = login(client_service)
        # session, user, count, page of campaigns (with template and creator)
        with django_assert_num_queries(4):
            assert client.get(reverse("visits:campaign_list")).status_code == 200
        campaign = Campaign.objects.first()
        # session, user, campaign, the counts, the sample contact
        with django_assert_num_queries(5):
            assert client.get(campaign.get_absolute_url()).status_code == 200
