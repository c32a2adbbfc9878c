"""The archive's pages: who may see and change what (allowed, 404 for the invisible,
403 for the read-only, 405 for the wrong method), bounded queries, search and filters,
the customer form, child objects, handover and custom fields."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent
from customers import services
from customers.models import (
    ActionItem,
    Brand,
    Contact,
    Customer,
    CustomField,
    FactVerification,
    Handover,
    Livestock,
    QualificationDocument,
    Relation,
)
from tests.factories import ContactFactory, CustomerFactory, DocumentFactory, RelationFactory, valid_credit_code

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def detail_url(customer, tab=None):
    url = reverse("customers:detail", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


def customer_post_data(**extra):
    data = {
        "name": "菏泽丰收兽药店",
        "type": Customer.Type.DEALER,
        "industry": Customer.Industry.VET_DRUGS,
        "province": "37",
        "city": "菏泽",
        "status": Customer.Status.ACTIVE,
    }
    data.update(extra)
    return data


def form_data_of(customer, **changes):
    """What the edit page would post back unchanged, plus `changes`."""
    data = {
        "version": customer.version,
        "name": customer.name,
        "type": customer.type,
        "industry": customer.industry,
        "province": customer.province,
        "city": customer.city,
        "status": customer.status,
        "owner": customer.owner_id,
    }
    data.update(changes)
    return data


# -- List -----------------------------------------------------------------------------------


class TestList:
    def test_shows_only_visible_customers(self, login, rep, own_customer, team_customer, other_customer):
        response = login(rep).get(reverse("customers:list"))
        assert response.status_code == 200
        assert [c.pk for c in response.context["page"]] == [own_customer.pk]
        assert other_customer.name not in response.content.decode()

    def test_manager_sees_the_team(self, login, manager, own_customer, team_customer, other_customer):
        response = login(manager).get(reverse("customers:list"))
        assert {c.pk for c in response.context["page"]} == {own_customer.pk, team_customer.pk}

    def test_wrong_method(self, login, rep):
        assert login(rep).post(reverse("customers:list")).status_code == 405

    @pytest.mark.parametrize("count", [5, 30])
    def test_query_count_does_not_grow_with_rows(self, login, rep, client_service, django_assert_num_queries, count):
        for customer in CustomerFactory.create_batch(count, owner=rep):
            DocumentFactory(customer=customer, expiry_date=TODAY() + datetime.timedelta(days=3))
        client = login(client_service)
        # 1 session, 2 user, 3 custom-field definitions (FilterSet), 4 count (paginator),
        # 5 the page of customers with owner and both document-warning flags,
        # 6 owner choices and 7 tag choices of the filter form.
        with django_assert_num_queries(7):
            response = client.get(reverse("customers:list"))
        assert response.status_code == 200
        assert len(response.context["page"]) == min(count, 25)
        assert all(c.has_expiring_docs for c in response.context["page"])

    def test_document_warning_flags(self, login, rep):
        expired = CustomerFactory(owner=rep)
        DocumentFactory(customer=expired, expiry_date=TODAY() - datetime.timedelta(days=1))
        expiring = CustomerFactory(owner=rep)
        DocumentFactory(customer=expiring, expiry_date=TODAY() + datetime.timedelta(days=10))
        fine = CustomerFactory(owner=rep)
        DocumentFactory(customer=fine, expiry_date=TODAY() + datetime.timedelta(days=400))
        page = {c.pk: c for c in login(rep).get(reverse("customers:list")).context["page"]}
        assert (page[expired.pk].has_expired_docs, page[expired.pk].has_expiring_docs) == (True, False)
        assert (page[expiring.pk].has_expired_docs, page[expiring.pk].has_expiring_docs) == (False, True)
        assert (page[fine.pk].has_expired_docs, page[fine.pk].has_expiring_docs) == (False, False)

    def test_paginates_by_25(self, login, rep):
        CustomerFactory.create_batch(27, owner=rep)
        client = login(rep)
        assert len(client.get(reverse("customers:list")).context["page"]) == 25
        assert len(client.get(reverse("customers:list"), {"page": 2}).context["page"]) == 2

    def test_search_by_contact_name(self, login, rep, own_customer):
        other = CustomerFactory(owner=rep, name="另一家兽药店")
        ContactFactory(customer=own_customer, name="张建国")
        services.refresh_derived([own_customer.pk])
        response = login(rep).get(reverse("customers:list"), {"q": "建国"})
        assert [c.pk for c in response.context["page"]] == [own_customer.pk]
        assert other.name not in response.content.decode()

    def test_filter_by_province(self, login, client_service, own_customer, other_customer):
        response = login(client_service).get(reverse("customers:list"), {"province": "13"})
        assert [c.pk for c in response.context["page"]] == [other_customer.pk]

    def test_filter_by_completeness(self, login, rep, own_customer):
        complete = CustomerFactory(owner=rep)
        Customer.objects.filter(pk=complete.pk).update(completeness=80)
        response = login(rep).get(reverse("customers:list"), {"completeness": "high"})
        assert [c.pk for c in response.context["page"]] == [complete.pk]

    def test_filter_by_expiring_qualification(self, login, rep, own_customer):
        expiring = CustomerFactory(owner=rep)
        DocumentFactory(customer=expiring, expiry_date=TODAY() + datetime.timedelta(days=20))
        DocumentFactory(customer=own_customer, expiry_date=TODAY() + datetime.timedelta(days=400))
        response = login(rep).get(reverse("customers:list"), {"qualification": "expiring"})
        assert [c.pk for c in response.context["page"]] == [expiring.pk]

    def test_filter_by_custom_field(self, login, rep, own_customer):
        CustomField.objects.create(key="channel", label="渠道", kind=CustomField.Kind.CHOICE, choices=["直销", "分销"])
        direct = CustomerFactory(owner=rep, custom_fields={"channel": "直销"})
        CustomerFactory(owner=rep, custom_fields={"channel": "分销"})
        response = login(rep).get(reverse("customers:list"), {"cf_channel": "直销"})
        assert [c.pk for c in response.context["page"]] == [direct.pk]
        assert 'name="cf_channel"' in response.content.decode()

    def test_sorting_by_name(self, login, rep):
        CustomerFactory(owner=rep, name="B 公司")
        CustomerFactory(owner=rep, name="A 公司")
        response = login(rep).get(reverse("customers:list"), {"ordering": "name"})
        assert [c.name for c in response.context["page"]] == ["A 公司", "B 公司"]


# -- Detail -----------------------------------------------------------------------------------


TABS = ["profile", "contacts", "relations", "documents", "plan", "history"]


class TestDetail:
    @pytest.mark.parametrize("tab", TABS)
    def test_each_tab_renders_for_the_owner(self, login, rep, own_customer, tab):
        response = login(rep).get(detail_url(own_customer, tab))
        assert response.status_code == 200
        assert response.context["tab"] == tab

    def test_invisible_customer_is_404(self, login, rep, other_customer, team_customer):
        client = login(rep)
        assert client.get(detail_url(other_customer)).status_code == 404
        assert client.get(detail_url(team_customer)).status_code == 404

    def test_finance_reads_without_edit_buttons(self, login, finance, own_customer):
        response = login(finance).get(detail_url(own_customer))
        assert response.status_code == 200
        assert reverse("customers:edit", args=[own_customer.pk]) not in response.content.decode()

    def test_owner_sees_edit_button(self, login, rep, own_customer):
        response = login(rep).get(detail_url(own_customer))
        assert reverse("customers:edit", args=[own_customer.pk]) in response.content.decode()

    @pytest.mark.parametrize("tab", TABS)
    def test_tab_query_count_does_not_grow(self, login, rep, teammate, own_customer, tab):
        client = login(rep)

        def add_records():
            ContactFactory(customer=own_customer)
            RelationFactory(customer=own_customer)
            DocumentFactory(customer=own_customer, expiry_date=TODAY() + datetime.timedelta(days=10))
            services.child_save(
                actor=rep,
                obj=Livestock(customer=own_customer, species="sow", quantity=100, unit="head", as_of=TODAY()),
            )
            services.child_save(actor=rep, obj=Brand(customer=own_customer, name="瑞普"))
            services.child_save(actor=rep, obj=ActionItem(customer=own_customer, description="拜访", owner=teammate))
            own_customer.refresh_from_db()
            services.customer_update(
                actor=rep,
                customer_id=own_customer.pk,
                data={"address": f"地址{Contact.objects.count()}"},
                expected_version=None,
            )

        add_records()
        with CaptureQueriesContext(connection) as few:
            assert client.get(detail_url(own_customer, tab)).status_code == 200
        for _ in range(4):
            add_records()
        with CaptureQueriesContext(connection) as many:
            assert client.get(detail_url(own_customer, tab)).status_code == 200
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]

    def test_history_shows_who_field_old_and_new_by_verbose_name(self, login, rep, client_service, own_customer):
        services.customer_update(
            actor=client_service, customer_id=own_customer.pk, data={"city": "日照"}, expected_version=None
        )
        response = login(rep).get(detail_url(own_customer, "history"), HTTP_ACCEPT_LANGUAGE="en")
        content = response.content.decode()
        row = response.context["history_rows"][0]
        assert row["event"].actor == client_service
        assert (str(row["changes"][0][0]), row["changes"][0][1], row["changes"][0][2]) == ("city", "临沂", "日照")
        assert "临沂 → 日照" in content
        assert str(client_service) in content

    def test_history_is_paginated(self, login, rep, own_customer):
        for n in range(30):
            services.customer_update(
                actor=rep, customer_id=own_customer.pk, data={"address": f"地址{n}"}, expected_version=None
            )
        client = login(rep)
        assert len(client.get(detail_url(own_customer, "history")).context["history_rows"]) == 25
        second = client.get(detail_url(own_customer, "history") + "&page=2").context["history_rows"]
        assert len(second) == 5

    def test_documents_tab_badges(self, login, rep, own_customer):
        DocumentFactory(customer=own_customer, expiry_date=TODAY() - datetime.timedelta(days=3))
        DocumentFactory(
            customer=own_customer,
            doc_type=QualificationDocument.Type.DRUG_PERMIT,
            expiry_date=TODAY() + datetime.timedelta(days=150),
        )
        content = login(rep).get(detail_url(own_customer, "documents"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'badge text-bg-danger">Expired' in content
        # The drug permit is flagged from six months ahead.
        assert "Expires in 150 days" in content


# -- Create and edit ----------------------------------------------------------------------------


class TestCreate:
    def test_rep_creates_and_owns(self, login, rep):
        client = login(rep)
        form = client.get(reverse("customers:create")).context["form"]
        assert "owner" not in form.fields
        response = client.post(
            reverse("customers:create"),
            customer_post_data(phone="+86 138-1234-5678", credit_code=" " + valid_credit_code(42).lower()),
        )
        assert response.status_code == 302
        customer = Customer.objects.get(name="菏泽丰收兽药店")
        assert response.url == customer.get_absolute_url()
        assert (customer.owner, customer.phone, customer.credit_code) == (rep, "13812345678", valid_credit_code(42))
        assert AuditEvent.objects.filter(customer=customer, action=AuditEvent.Action.CREATE, actor=rep).exists()

    def test_bad_credit_code_shows_the_field_error(self, login, client_service, rep):
        good = valid_credit_code(42)
        typo = good[:17] + ("0" if good[17] != "0" else "1")
        response = login(client_service).post(
            reverse("customers:create"),
            customer_post_data(owner=rep.pk, credit_code=typo),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        assert "credit_code" in response.context["form"].errors
        content = response.content.decode()
        assert "check character" in content
        # The message sits right after the input, which Bootstrap marks invalid.
        assert re.search(r'<input[^>]*name="credit_code"[^>]*is-invalid[^>]*><div class="invalid-feedback"', content)
        assert not Customer.objects.filter(name="菏泽丰收兽药店").exists()

    def test_manager_chooses_among_team_reps(self, login, manager, rep, teammate, outsider):
        form = login(manager).get(reverse("customers:create")).context["form"]
        assert set(form.fields["owner"].queryset) == {rep, teammate}

    def test_sources_and_custom_fields_are_stored(self, login, rep):
        CustomField.objects.create(key="pig_farms", label="猪场数", kind=CustomField.Kind.NUMBER)
        response = login(rep).post(
            reverse("customers:create"),
            customer_post_data(annual_sales="600000", source_annual_sales="rep_estimate", cf_pig_farms="12"),
        )
        assert response.status_code == 302
        customer = Customer.objects.get(name="菏泽丰收兽药店")
        assert customer.custom_fields == {"pig_farms": 12}
        assert FactVerification.objects.get(customer=customer, fact="annual_sales").source == "rep_estimate"

    def test_finance_may_not_create(self, login, finance):
        assert login(finance).get(reverse("customers:create")).status_code == 403

    def test_wrong_method(self, login, rep):
        assert login(rep).put(reverse("customers:create")).status_code == 405

    def test_duplicates_partial(self, login, rep, own_customer, other_customer):
        Customer.objects.filter(pk=other_customer.pk).update(credit_code=valid_credit_code(7))
        client = login(rep)
        mine = client.get(reverse("customers:duplicates"), {"name": own_customer.name, "city": own_customer.city})
        assert own_customer.get_absolute_url() in mine.content.decode()
        hidden = client.get(reverse("customers:duplicates"), {"credit_code": valid_credit_code(7).lower()})
        content = hidden.content.decode()
        # The invisible customer is named only by code and owner.
        assert other_customer.code in content
        assert str(other_customer.owner) in content
        assert other_customer.name not in content
        assert other_customer.get_absolute_url() not in content
        assert client.get(reverse("customers:duplicates"), {"name": "无此客户", "city": "无"}).content.strip() == b""


class TestEdit:
    def test_owner_edits(self, login, rep, own_customer):
        response = login(rep).post(
            reverse("customers:edit", args=[own_customer.pk]), form_data_of(own_customer, city="日照")
        )
        assert response.status_code == 302
        own_customer.refresh_from_db()
        assert (own_customer.city, own_customer.version) == ("日照", 2)

    def test_invisible_is_404(self, login, rep, other_customer):
        assert login(rep).get(reverse("customers:edit", args=[other_customer.pk])).status_code == 404

    def test_finance_gets_403(self, login, finance, own_customer):
        client = login(finance)
        assert client.get(reverse("customers:edit", args=[own_customer.pk])).status_code == 403
        response = client.post(
            reverse("customers:edit", args=[own_customer.pk]), form_data_of(own_customer, city="日照")
        )
        assert response.status_code == 403
        own_customer.refresh_from_db()
        assert own_customer.city == "临沂"

    def test_wrong_method(self, login, rep, own_customer):
        assert login(rep).delete(reverse("customers:edit", args=[own_customer.pk])).status_code == 405

    def test_stale_version_shows_the_conflict(self, login, rep, client_service, own_customer):
        client = login(rep)
        stale = client.get(reverse("customers:edit", args=[own_customer.pk])).context["form"]["version"].value()
        services.customer_update(
            actor=client_service, customer_id=own_customer.pk, data={"address": "临沂市兰山区"}, expected_version=None
        )
        response = client.post(
            reverse("customers:edit", args=[own_customer.pk]),
            form_data_of(own_customer, version=stale, city="日照"),
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 200
        content = response.content.decode()
        assert 'id="edit-conflict"' in content
        assert "Someone else saved this customer" in content
        assert "address" in response.context["conflict"].fields
        # The form now shows their version, with the new version to save against.
        assert response.context["form"]["address"].value() == "临沂市兰山区"
        assert response.context["form"]["version"].value() == 2
        own_customer.refresh_from_db()
        assert own_customer.city == "临沂"


class TestDeleteAndVerify:
    def test_admin_deletes(self, login, admin_user, own_customer):
        response = login(admin_user).post(reverse("customers:delete", args=[own_customer.pk]))
        assert response.status_code == 302
        assert not Customer.objects.filter(pk=own_customer.pk).exists()

    def test_others_may_not_delete(self, login, client_service, rep, own_customer, other_customer):
        assert login(client_service).post(reverse("customers:delete", args=[own_customer.pk])).status_code == 403
        assert login(rep).post(reverse("customers:delete", args=[other_customer.pk])).status_code == 404
        assert Customer.objects.filter(pk=own_customer.pk).exists()

    def test_delete_is_post_only(self, login, admin_user, own_customer):
        assert login(admin_user).get(reverse("customers:delete", args=[own_customer.pk])).status_code == 405

    def test_client_service_verifies_a_fact(self, login, client_service, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(annual_sales=500000)
        url = reverse("customers:fact_verify", args=[own_customer.pk, "annual_sales"])
        response = login(client_service).post(url)
        assert response.status_code == 302
        check = FactVerification.objects.get(customer=own_customer, fact="annual_sales")
        assert check.verified_by == client_service

    def test_verify_permissions(self, login, rep, finance, own_customer, other_customer):
        url = reverse("customers:fact_verify", args=[own_customer.pk, "annual_sales"])
        assert login(rep).post(url).status_code == 403
        assert login(rep).get(url).status_code == 405
        assert login(rep).post(reverse("customers:fact_verify", args=[other_customer.pk, "staff"])).status_code == 404
        assert login(finance).post(url).status_code == 403


# -- Objects that belong to a customer -------------------------------------------------------


class TestChildren:
    def test_rep_adds_edits_and_deletes_a_contact(self, login, rep, own_customer):
        client = login(rep)
        create = reverse("customers:contact_create", args=[own_customer.pk])
        assert client.get(create).status_code == 200
        response = client.post(create, {"name": "张建国", "role": "purchaser", "mobile": "139 1234 5678"})
        assert response.status_code == 302
        assert response.url == detail_url(own_customer, "contacts")
        contact = Contact.objects.get(customer=own_customer)
        assert contact.mobile == "13912345678"
        edit = reverse("customers:contact_edit", args=[own_customer.pk, contact.pk])
        assert client.post(edit, {"name": "张建国", "role": "boss", "mobile": "13912345678"}).status_code == 302
        contact.refresh_from_db()
        assert contact.role == "boss"
        assert client.get(reverse("customers:contact_delete", args=[own_customer.pk, contact.pk])).status_code == 405
        assert client.post(reverse("customers:contact_delete", args=[own_customer.pk, contact.pk])).status_code == 302
        assert not Contact.objects.filter(pk=contact.pk).exists()
        assert AuditEvent.objects.filter(customer=own_customer, object_type="contact").count() == 3

    def test_invisible_customer_is_404(self, login, rep, other_customer):
        contact = ContactFactory(customer=other_customer)
        client = login(rep)
        assert client.get(reverse("customers:contact_create", args=[other_customer.pk])).status_code == 404
        assert client.post(reverse("customers:contact_delete", args=[other_customer.pk, contact.pk])).status_code == 404

    def test_child_of_another_customer_is_404(self, login, rep, own_customer, other_customer):
        contact = ContactFactory(customer=other_customer)
        url = reverse("customers:contact_edit", args=[own_customer.pk, contact.pk])
        assert login(rep).get(url).status_code == 404

    def test_finance_gets_403(self, login, finance, own_customer):
        relation = RelationFactory(customer=own_customer)
        client = login(finance)
        assert client.get(reverse("customers:relation_create", args=[own_customer.pk])).status_code == 403
        assert client.post(reverse("customers:relation_delete", args=[own_customer.pk, relation.pk])).status_code == 403
        assert Relation.objects.filter(pk=relation.pk).exists()

    @pytest.mark.parametrize(
        ("kind", "data", "model"),
        [
            ("relation", {"name": "王丽", "kind": "spouse"}, Relation),
            (
                "livestock",
                {"species": "sow", "kind": "on_hand", "quantity": "1200", "unit": "head", "as_of": "2025-01-01"},
                Livestock,
            ),
            ("brand", {"name": "瑞普", "product_line": "vaccine"}, Brand),
            ("document", {"doc_type": "gsp", "number": "GSP-1", "expiry_date": "2030-01-01"}, QualificationDocument),
        ],
    )
    def test_each_kind_can_be_created(self, login, rep, own_customer, kind, data, model):
        response = login(rep).post(reverse(f"customers:{kind}_create", args=[own_customer.pk]), data)
        assert response.status_code == 302, response.context["form"].errors
        assert model.objects.filter(customer=own_customer).count() == 1

    def test_action_item_done_is_stamped(self, login, rep, own_customer):
        client = login(rep)
        url = reverse("customers:action_create", args=[own_customer.pk])
        response = client.post(
            url, {"description": "年度计划", "owner": rep.pk, "due_date": "2030-01-01", "done": "on"}
        )
        assert response.status_code == 302
        item = ActionItem.objects.get(customer=own_customer)
        assert item.done and item.done_at is not None

    def test_document_upload_and_file_only_for_those_who_see_it(
        self, login, rep, outsider, own_customer, settings, tmp_path
    ):
        settings.MEDIA_ROOT = tmp_path
        client = login(rep)
        upload = SimpleUploadedFile("licence.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        response = client.post(
            reverse("customers:document_create", args=[own_customer.pk]),
            {"doc_type": "business_licence", "number": "N1", "file": upload},
        )
        assert response.status_code == 302
        document = QualificationDocument.objects.get(customer=own_customer)
        url = reverse("customers:document_file", args=[own_customer.pk, document.pk])
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
        assert login(outsider).get(url).status_code == 404

    def test_document_upload_rejects_other_file_types(self, login, rep, own_customer):
        upload = SimpleUploadedFile("x.html", b"<script>", content_type="text/html")
        response = login(rep).post(
            reverse("customers:document_create", args=[own_customer.pk]), {"doc_type": "gsp", "file": upload}
        )
        assert response.status_code == 200
        assert "file" in response.context["form"].errors

    def test_document_verify(self, login, client_service, rep, own_customer):
        document = DocumentFactory(customer=own_customer)
        url = reverse("customers:document_verify", args=[own_customer.pk, document.pk])
        assert login(rep).post(url).status_code == 403
        assert login(client_service).get(url).status_code == 405
        assert login(client_service).post(url).status_code == 302
        document.refresh_from_db()
        assert document.verified_by == client_service


# -- Handover -----------------------------------------------------------------------------------


class TestHandover:
    def test_manager_hands_over_chosen_customers(self, login, manager, rep, teammate, own_customer):
        kept = CustomerFactory(owner=rep)
        client = login(manager)
        assert client.get(reverse("customers:handover")).status_code == 200
        response = client.post(
            reverse("customers:handover"),
            {"from_user": rep.pk, "to_user": teammate.pk, "customers": [own_customer.pk], "reason": "李明调往山西"},
        )
        assert response.status_code == 302
        own_customer.refresh_from_db()
        kept.refresh_from_db()
        assert (own_customer.owner, kept.owner) == (teammate, rep)
        handover = Handover.objects.get()
        assert (handover.from_user, handover.to_user, handover.customer_count) == (rep, teammate, 1)

    def test_all_customers_of_the_from_rep(self, login, admin_user, rep, teammate, own_customer):
        second = CustomerFactory(owner=rep)
        response = login(admin_user).post(
            reverse("customers:handover"), {"from_user": rep.pk, "to_user": teammate.pk, "reason": "离职"}
        )
        assert response.status_code == 302
        assert set(Customer.objects.filter(owner=teammate)) == {own_customer, second}

    def test_htmx_lists_the_from_reps_customers(self, login, manager, rep, teammate, own_customer, team_customer):
        response = login(manager).get(reverse("customers:handover"), {"from_user": rep.pk}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        content = response.content.decode()
        assert f'value="{own_customer.pk}"' in content
        assert f'value="{team_customer.pk}"' not in content
        assert "<html" not in content

    def test_missing_reason_is_shown(self, login, manager, rep, teammate, own_customer):
        response = login(manager).post(reverse("customers:handover"), {"from_user": rep.pk, "to_user": teammate.pk})
        assert response.status_code == 200
        assert "reason" in response.context["form"].errors

    def test_outside_team_target_is_refused(self, login, manager, rep, outsider, own_customer):
        response = login(manager).post(
            reverse("customers:handover"), {"from_user": rep.pk, "to_user": outsider.pk, "reason": "x"}
        )
        assert response.status_code == 200
        assert "to_user" in response.context["form"].errors
        own_customer.refresh_from_db()
        assert own_customer.owner == rep

    @pytest.mark.parametrize("role", ["rep", "client_service", "finance"])
    def test_others_get_403(self, login, request, role):
        user = request.getfixturevalue(role)
        assert login(user).get(reverse("customers:handover")).status_code == 403

    def test_wrong_method(self, login, manager):
        assert login(manager).put(reverse("customers:handover")).status_code == 405


# -- Custom fields ------------------------------------------------------------------------------


class TestCustomFields:
    def test_admin_creates_and_edits(self, login, admin_user):
        client = login(admin_user)
        assert client.get(reverse("customers:custom_fields")).status_code == 200
        response = client.post(
            reverse("customers:custom_field_create"),
            {
                "key": "channel",
                "label": "渠道",
                "kind": "choice",
                "choices": "直销\n分销\n\n直销",
                "position": 1,
                "active": "on",
            },
        )
        assert response.status_code == 302
        definition = CustomField.objects.get(key="channel")
        assert definition.choices == ["直销", "分销"]
        edit = reverse("customers:custom_field_edit", args=[definition.pk])
        response = client.post(
            edit, {"key": "renamed", "label": "销售渠道", "kind": "choice", "choices": "直销", "position": 2}
        )
        assert response.status_code == 302
        definition.refresh_from_db()
        # The key is fixed once values are stored under it.
        assert (definition.key, definition.label, definition.active) == ("channel", "销售渠道", False)

    def test_choice_field_needs_options(self, login, admin_user):
        response = login(admin_user).post(
            reverse("customers:custom_field_create"), {"key": "x", "label": "X", "kind": "multi", "position": 0}
        )
        assert response.status_code == 200
        assert "choices" in response.context["form"].errors

    @pytest.mark.parametrize("role", ["rep", "manager", "client_service", "finance"])
    def test_others_get_403(self, login, request, role):
        user = request.getfixturevalue(role)
        client = login(user)
        assert client.get(reverse("customers:custom_fields")).status_code == 403
        assert client.post(reverse("customers:custom_field_create"), {"key": "x"}).status_code == 403

    def test_unknown_is_404_and_wrong_method_405(self, login, admin_user):
        client = login(admin_user)
        assert client.get(reverse("customers:custom_field_edit", args=[999])).status_code == 404
        assert client.post(reverse("customers:custom_fields")).status_code == 405
