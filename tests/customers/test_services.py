import pytest
from django.utils import translation

from crm.errors import DomainError, EditConflict
from crm.models import AuditEvent, User
from customers import services
from customers.models import Contact, Customer, CustomerShare, FactVerification
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def new_customer_data(owner, **extra):
    return {
        "name": "菏泽丰收兽药店",
        "type": Customer.Type.DEALER,
        "industry": Customer.Industry.VET_DRUGS,
        "province": "37",
        "city": "菏泽",
        "owner": owner,
        **extra,
    }


class TestVisibility:
    def test_rep_sees_own_and_shared_only(self, rep, own_customer, team_customer, other_customer):
        assert set(Customer.objects.visible_to(rep)) == {own_customer}
        CustomerShare.objects.create(customer=other_customer, user=rep)
        rep = User.objects.get(pk=rep.pk)  # shares are read once per request's user
        assert set(Customer.objects.visible_to(rep)) == {own_customer, other_customer}
        assert set(Contact.objects.visible_to(rep).values_list("customer", flat=True)) <= {
            own_customer.pk,
            other_customer.pk,
        }

    def test_manager_sees_team(self, manager, own_customer, team_customer, other_customer):
        assert set(Customer.objects.visible_to(manager)) == {own_customer, team_customer}

    def test_back_office_sees_all_but_finance_edits_none(
        self, client_service, finance, admin_user, own_customer, other_customer
    ):
        for user in (client_service, finance, admin_user):
            assert Customer.objects.visible_to(user).count() == 2
        assert Customer.objects.editable_by(client_service).count() == 2
        assert Customer.objects.editable_by(finance).count() == 0

    def test_related_objects_follow_the_customer(self, rep, own_customer, other_customer):
        mine = ContactFactory(customer=own_customer)
        ContactFactory(customer=other_customer)
        assert list(Contact.objects.visible_to(rep)) == [mine]


class TestCreateAndUpdate:
    def test_create_assigns_code_records_history_and_scores(self, rep):
        customer = services.customer_create(actor=rep, data=new_customer_data(rep, annual_sales=300000))
        assert customer.code.startswith("KH")
        event = AuditEvent.objects.get(customer=customer)
        assert event.action == "create" and event.actor == rep
        assert event.changes["name"] == [None, "菏泽丰收兽药店"]
        assert 0 < customer.completeness < 100

    def test_update_records_old_and_new_values(self, rep, own_customer):
        services.customer_update(
            actor=rep, customer_id=own_customer.pk, data={"city": "日照"}, expected_version=own_customer.version
        )
        event = AuditEvent.objects.filter(customer=own_customer, action="update").get()
        assert event.changes == {"city": ["临沂", "日照"]}

    def test_custom_values_are_recorded_one_by_one(self, rep, own_customer):
        services.customer_update(
            actor=rep,
            customer_id=own_customer.pk,
            data={"custom_fields": {"main_species": "生猪", "vaccine_budget": 5}},
            expected_version=1,
        )
        services.customer_update(
            actor=rep, customer_id=own_customer.pk, data={"custom_fields": {"main_species": "蛋鸡"}}, expected_version=2
        )
        last = AuditEvent.objects.filter(customer=own_customer, action="update").first()
        assert last.changes == {
            "custom_fields.main_species": ["生猪", "蛋鸡"],
            "custom_fields.vaccine_budget": [5, None],
        }

    def test_second_save_on_a_stale_version_names_the_changed_fields(self, rep, manager, own_customer):
        loaded_version = own_customer.version
        services.customer_update(
            actor=manager, customer_id=own_customer.pk, data={"address": "兰山区1号"}, expected_version=loaded_version
        )
        # The fields are named by their labels, in the active language.
        with pytest.raises(EditConflict) as exc, translation.override("en"):
            services.customer_update(
                actor=rep, customer_id=own_customer.pk, data={"city": "日照"}, expected_version=loaded_version
            )
        assert exc.value.fields == ["address"]
        own_customer.refresh_from_db()
        assert own_customer.city == "临沂" and own_customer.address == "兰山区1号"

    def test_changed_fact_loses_its_verification(self, rep, client_service, own_customer):
        services.customer_update(
            actor=rep, customer_id=own_customer.pk, data={"annual_sales": 800000}, expected_version=1
        )
        services.fact_verify(
            actor=client_service, customer=Customer.objects.get(pk=own_customer.pk), fact="annual_sales"
        )
        verified = Customer.objects.get(pk=own_customer.pk).completeness
        services.customer_update(
            actor=rep, customer_id=own_customer.pk, data={"annual_sales": 900000}, expected_version=2
        )
        check = FactVerification.objects.get(customer=own_customer, fact="annual_sales")
        assert check.verified_at is None
        assert Customer.objects.get(pk=own_customer.pk).completeness < verified

    def test_contact_change_is_searchable_and_recorded(self, rep, own_customer):
        services.child_save(actor=rep, obj=Contact(customer=own_customer, name="欧阳振华", mobile="13955556666"))
        assert list(Customer.objects.search("欧阳")) == [own_customer]
        assert list(Customer.objects.search("13955556666")) == [own_customer]
        assert AuditEvent.objects.filter(customer=own_customer, object_type="contact", action="create").exists()

    def test_duplicates_by_credit_code_mobile_and_name_city(self, rep, other_customer):
        Customer.objects.filter(pk=other_customer.pk).update(credit_code="91350100M000100Y43", phone="13800001111")
        assert list(services.duplicates_of(credit_code="91350100M000100Y43")) == [other_customer]
        assert list(services.duplicates_of(phone="13800001111")) == [other_customer]
        assert list(services.duplicates_of(name="石家庄宠安动物诊所", city="石家庄")) == [other_customer]
        assert list(services.duplicates_of(name="石家庄宠安动物诊所", city="保定")) == []


class TestSearch:
    def test_two_character_fragment_and_longer_text(self, rep):
        a = CustomerFactory(owner=rep, name="沂蒙牧业有限公司")
        CustomerFactory(owner=rep, name="临沂兽药批发部")
        assert list(Customer.objects.search("牧业")) == [a]
        assert list(Customer.objects.search("沂蒙牧业有限")) == [a]
        # Both bigrams present but not adjacent: no match.
        assert Customer.objects.search("牧有").count() == 0

    def test_single_characters_digits_and_characters_beyond_the_bmp(self, rep):
        # 𠀀 is outside the BMP (two UTF-16 code units, one character to PostgreSQL).
        a = CustomerFactory(owner=rep, name="𠀀鿿记农资店", phone="13800001234")
        b = CustomerFactory(owner=rep, name="丰收兽药店", phone="13900005678")
        c = CustomerFactory(owner=rep, name="一品农资", phone="13700009999")
        assert list(Customer.objects.search("鿿")) == [a]
        assert list(Customer.objects.search("𠀀鿿记")) == [a]
        assert list(Customer.objects.search("丰收")) == [b]
        assert list(Customer.objects.search("1234")) == [a]
        assert set(Customer.objects.search("店")) == {a, b}
        assert set(Customer.objects.search("农资")) == {a, c}
        assert list(Customer.objects.search("\U00024e00")) == []
        assert list(Customer.objects.search("一品")) == [c]

    def test_a_single_ascii_character_is_looked_for_in_the_text_not_the_index(self, rep):
        a = CustomerFactory(owner=rep, name="康达兽药", code="KH000123", phone="13800001234")
        b = CustomerFactory(owner=rep, name="丰收兽药", code="ZD000456", phone="13900005678")
        assert not any(len(token) == 1 and token.isascii() for token in Customer.objects.get(pk=a.pk).search_tokens)
        assert set(Customer.objects.search("7")) == {b}
        assert set(Customer.objects.search("K")) == {a}
        assert set(Customer.objects.search("z 兽")) == {b}
        assert set(Customer.objects.search("0")) == {a, b}
        assert list(Customer.objects.search("x")) == []


class TestHandover:
    def test_manager_hands_all_of_a_reps_customers_to_a_teammate(self, manager, rep, teammate, own_customer):
        services.customer_handover(actor=manager, to_user=teammate, reason="离职交接", from_user=rep)
        assert list(Customer.objects.visible_to(teammate).filter(pk=own_customer.pk)) == [own_customer]
        assert not Customer.objects.visible_to(rep).exists()
        event = AuditEvent.objects.get(customer=own_customer, action="handover")
        assert event.reason == "离职交接" and event.actor == manager

    def test_manager_cannot_hand_over_another_teams_customer(self, manager, teammate, other_customer):
        with pytest.raises(DomainError):
            services.customer_handover(actor=manager, to_user=teammate, reason="调整", customer_ids=[other_customer.pk])
        assert Customer.objects.get(pk=other_customer.pk).owner_id == other_customer.owner_id

    def test_rep_cannot_hand_over(self, rep, teammate, own_customer):
        with pytest.raises(DomainError):
            services.customer_handover(actor=rep, to_user=teammate, reason="x", customer_ids=[own_customer.pk])

    def test_handover_needs_a_reason(self, manager, teammate, own_customer):
        with pytest.raises(DomainError) as exc:
            services.customer_handover(actor=manager, to_user=teammate, reason=" ", customer_ids=[own_customer.pk])
        assert exc.value.field == "reason"


def test_deleting_the_creator_leaves_the_customer_without_one():
    # The database does not check created_by (customers/0009): the ORM clears it.
    creator = User.objects.create(username="creator", role=User.Role.CLIENT_SERVICE)
    customer = CustomerFactory(created_by=creator)
    creator.delete()
    customer.refresh_from_db()
    assert customer.created_by_id is None


def test_completeness_counts_filled_facts_zeros_included_and_verified_facts_twice():
    facts, verifiable = Customer.EXPECTED_FACTS, Customer.VERIFIABLE_FACTS
    total = len(facts) + 2 + len(verifiable)
    assert services.completeness_of({}, set(), False, False) == 0
    # Blank text, None and an empty list are missing; a zero is a fact.
    values = {facts[0]: "", facts[1]: None, facts[2]: [], verifiable[0]: 0, verifiable[1]: 5}
    assert services.completeness_of(values, set(), False, False) == round(100 * 2 / total)
    assert services.completeness_of(values, set(), True, True) == round(100 * 4 / total)
    # A verified fact counts once more, unless it is blank.
    verified = {verifiable[0], verifiable[2]}
    assert services.completeness_of(values, verified, True, True) == round(100 * 5 / total)
    everything = dict.fromkeys(facts, "x")
    assert services.completeness_of(everything, set(verifiable), True, True) == 100
