"""`seed_demo` loads a realistic demo once, and always prints the logins."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from crm import demo
from crm.models import AuditEvent, Team, User
from customers.models import (
    Contact,
    Customer,
    CustomField,
    FactVerification,
    Livestock,
    QualificationDocument,
    Relation,
)
from customers.validators import validate_credit_code, validate_mobile


def run_seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_seed()
        transaction.set_rollback(True)


# django_db also makes pytest-django create the test database before `seeded` runs.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_people_teams_and_roles(seeded):
    assert User.objects.filter(role=User.Role.REP).count() == 6
    assert User.objects.filter(role=User.Role.MANAGER).count() == 2
    assert User.objects.filter(role=User.Role.CLIENT_SERVICE).count() == 1
    assert User.objects.filter(role=User.Role.FINANCE).count() == 1
    admin = User.objects.get(username=demo.DEMO_ADMIN)
    assert admin.role == User.Role.ADMIN and admin.is_staff and admin.is_superuser
    assert admin.check_password(demo.PASSWORD)
    assert User.objects.get(username="north_rep2").check_password(demo.PASSWORD)
    for team in Team.objects.all():
        assert team.members.filter(role=User.Role.REP).count() == 3
        assert team.members.filter(role=User.Role.MANAGER).count() == 1
    assert Team.objects.values("region").distinct().count() == 2


def test_customers_are_many_varied_and_valid(seeded):
    customers = Customer.objects.all()
    assert customers.count() >= 300
    assert set(customers.values_list("type", flat=True)) == set(Customer.Type.values)
    assert set(customers.values_list("industry", flat=True)) == set(Customer.Industry.values)
    assert customers.values("province").distinct().count() >= 10
    # Each rep owns customers, in their own region's provinces only.
    for rep in User.objects.filter(role=User.Role.REP).select_related("team__region"):
        provinces = set(customers.filter(owner=rep).values_list("province", flat=True))
        assert provinces and provinces <= set(demo.DEMO_REGIONS[rep.team.region.name])
    for customer in customers.exclude(credit_code=None):
        validate_credit_code(customer.credit_code)
        assert customer.credit_code[0] == "9" and customer.credit_code[1] in "123"
        assert customer.credit_code[2:4] == customer.province
    for mobile in Contact.objects.exclude(mobile="").values_list("mobile", flat=True):
        validate_mobile(mobile)
    # Search text and completeness were computed, with customers in every band.
    assert not customers.filter(search_text="").exists()
    assert customers.filter(search_text__contains="兽药").count() >= 20
    bands = {c.completeness_band() for c in customers.only("completeness")}
    assert bands == {"low", "medium", "high"}


def test_archives_are_filled_like_real_ones(seeded):
    assert Contact.objects.count() >= Customer.objects.count()
    assert Contact.objects.filter(birthday__isnull=False).count() > 100
    assert Relation.objects.filter(kind=Relation.Kind.AUTHORITY).exclude(occupation="").exists()
    assert Relation.objects.filter(kind=Relation.Kind.SPOUSE).exists()
    documents = QualificationDocument.objects
    assert documents.expired().exists()
    assert documents.expiring().exists()
    assert documents.count() > 2 * (documents.expired().count() + documents.expiring().count())
    permit = documents.filter(doc_type=QualificationDocument.Type.DRUG_PERMIT).first()
    assert permit.number.startswith("兽药经营证字") and len(permit.number) == len("兽药经营证字") + 9
    assert documents.filter(doc_type=QualificationDocument.Type.GSP).exists()
    # Livestock has a dated history: several readings per customer and species.
    farm = Livestock.objects.filter(customer__type=Customer.Type.FARM).first()
    assert Livestock.objects.filter(customer=farm.customer, species=farm.species).count() >= 2
    assert FactVerification.objects.filter(verified_by__username="clerk").exists()
    assert FactVerification.objects.exclude(source="").exists()
    assert Customer.objects.exclude(plan_goal="").exists() and Customer.objects.exclude(strengths="").exists()
    assert {f.key for f in CustomField.objects.all()} == {"main_species", "vaccine_purchase"}
    assert Customer.objects.filter(custom_fields__has_key="main_species").count() > 50
    assert Customer.objects.filter(tags__name="重点客户").exists()


def test_history_is_not_empty(seeded):
    created = AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, reason=demo.DEMO_REASON, object_type="customer"
    )
    assert created.count() == Customer.objects.count()
    updates = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE)
    assert updates.count() >= 5
    assert all(event.changes for event in updates)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.HANDOVER).exists()


def test_second_run_adds_nothing_and_both_print_logins(seeded):
    counts = (Customer.objects.count(), Contact.objects.count(), AuditEvent.objects.count(), User.objects.count())
    again = run_seed()
    assert counts == (
        Customer.objects.count(),
        Contact.objects.count(),
        AuditEvent.objects.count(),
        User.objects.count(),
    )
    assert "already loaded" in again and "already loaded" not in seeded
    for output in (seeded, again):
        for username in ("admin", "clerk", "finance", "east_manager", "north_rep3"):
            assert username in output
        assert demo.PASSWORD in output
        assert "华东一组" in output


def test_demo_data_passes_model_validation(seeded):
    errors = []
    for customer in Customer.objects.all()[:120]:
        try:
            customer.full_clean(exclude=["owner", "code"])
        except ValidationError as exc:
            errors.append((customer.name, exc.message_dict))
    assert errors == []
