"""Django admin for the archive (plain; writes with history go through the pages and
the API, which call the services)."""

from django.contrib import admin

from .models import (
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
    Tag,
)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "province", "city", "owner", "status", "completeness"]
    list_filter = ["type", "industry", "status", "province"]
    search_fields = ["code", "name", "credit_code", "phone"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "created_by"]
    readonly_fields = ["completeness", "version", "created_at", "updated_at"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "role", "mobile"]
    search_fields = ["name", "mobile", "customer__name"]
    raw_id_fields = ["customer"]


@admin.register(QualificationDocument)
class QualificationDocumentAdmin(admin.ModelAdmin):
    list_display = ["customer", "doc_type", "number", "expiry_date", "verified_at"]
    list_filter = ["doc_type"]
    raw_id_fields = ["customer", "verified_by"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["label", "key", "kind", "required", "position", "active"]


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin):
    list_display = ["at", "from_user", "to_user", "customer_count", "actor"]
    raw_id_fields = ["from_user", "to_user", "actor"]


for model in (Relation, Livestock, Brand, ActionItem, FactVerification):
    admin.site.register(model, raw_id_fields=["customer"])
admin.site.register(Tag)
