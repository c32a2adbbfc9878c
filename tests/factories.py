"""factory_boy factories for the archive, producing valid data (real credit codes,
mobile numbers, provinces)."""

import itertools
from decimal import Decimal

import factory

from crm.models import Region, Team, User
from customers.models import Contact, Customer, QualificationDocument, Relation, Tag
from customers.validators import credit_code_check_char

_codes = itertools.count(1)


def valid_credit_code(n: int) -> str:
    """A credit code with a correct GB 32100-2015 check character."""
    body = f"91370100{n:09d}"
    return body + credit_code_check_char(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"大区{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"销售{n}组")
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    last_name = "张"
    first_name = factory.Sequence(lambda n: f"员工{n}")
    role = User.Role.REP
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"标签{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    """Saved directly (no audit event); tests of writes go through services."""

    class Meta:
        model = Customer

    code = factory.LazyFunction(lambda: f"T{next(_codes):07d}")
    name = factory.Sequence(lambda n: f"测试牧业{n}有限公司")
    type = Customer.Type.DEALER
    industry = Customer.Industry.VET_DRUGS
    province = "37"
    city = "济南"
    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from customers.services import refresh_derived

        obj = super()._create(model_class, *args, **kwargs)
        refresh_derived([obj.pk])
        obj.refresh_from_db()
        return obj


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    role = Contact.Role.PURCHASER
    mobile = factory.Sequence(lambda n: f"139{n:08d}")


class RelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relation

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"亲属{n}")
    kind = Relation.Kind.SPOUSE


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualificationDocument

    customer = factory.SubFactory(CustomerFactory)
    doc_type = QualificationDocument.Type.BUSINESS_LICENCE
    number = factory.Sequence(lambda n: f"证{n:06d}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sales.Product"

    name = factory.Sequence(lambda n: f"阿莫西林可溶性粉{n}")
    brand = "华牧"
    spec = "100g/袋"
    unit = "袋"
    category = "antibiotic"
    industry = "vet_drugs"
    list_price = Decimal("50.00")
    approval_number = factory.Sequence(lambda n: f"兽药字(2024){n:06d}")
