"""The permission matrix: every route x every role x every kind of record.

The routes are not listed by hand. They are generated from the URL resolver (every
named pattern of crm.urls, except the Django admin, i18n and static/media) and from
the OpenAPI schema (every path + method). Each must have an entry in ROUTES (pages and
API routes outside the schema) or OPERATIONS (the schema's operations) saying what kind
of route it is; a route or operation without one is a failing test, so no later view
can skip the matrix. An entry whose route no longer exists fails too.

Expected statuses all come from one rule table (SEES, EDITS and the role sets below):
  rep sees and edits own; manager own + team; client service and admin see and edit
  all; finance sees all and writes nothing (403), and is refused (403) the owner's
  relations, personal data its job does not need. Invisible is 404, visible but not
  editable is 403. Verifying is client service's and admin's; handover is managers'
  and admins'; custom field definitions are read by all, changed by admins (their
  pages are admins' only); deleting a customer is an admin's.
  Sales records follow their customer (read, write, create as above); products and
  policies are read by all, changed by admins; payments are recorded by finance and
  admins; a contract is approved by the manager of its customer's team or an admin;
  targets are set by the manager of the rep's team or an admin.
  Communications and care messages follow their customer (messages the system sent are
  read-only); message templates and holidays are read by all, changed by client service
  and admins; bulk messages are sent by client service, admins and managers, and a bulk
  message is seen by its creator and by client service and admins (404 for the rest).
  Visit plans, visits and their photos follow their customer; a manager's team week is
  for managers and admins; visit frequency standards are read by all, changed by admins.

The cast (users, three customers and one object of every kind under each) is built once
for the module inside a transaction; every case runs in a savepoint that is rolled back.
"""

import datetime
import functools
import random
import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from crm import throttle
from crm.models import User
from customers.models import ActionItem, Brand, Contact, CustomField, Livestock, QualificationDocument, Relation
from sales import services as sales_services
from sales.models import AfterSalesRequest, Contract, PolicyItem, SalesPolicy, SalesTarget
from tests.conftest import PASSWORD
from tests.factories import CustomerFactory, ProductFactory, RegionFactory, TeamFactory, UserFactory
from visits.models import (
    Campaign,
    CareMessage,
    Communication,
    CustomerVisits,
    Holiday,
    MessageTemplate,
    Visit,
    VisitFrequency,
    VisitPhoto,
    VisitPlan,
)

ROLES = ["rep", "manager", "client_service", "finance", "admin"]
RECORDS = ["own", "team", "other"]  # owned by rep, by rep's teammate, by a rep of another region

# -- The rule table -------------------------------------------------------------------------

ALL = set(RECORDS)
SEES = {"rep": {"own"}, "manager": {"own", "team"}, "client_service": ALL, "finance": ALL, "admin": ALL}
EDITS = {"rep": {"own"}, "manager": {"own", "team"}, "client_service": ALL, "finance": set(), "admin": ALL}
VERIFIERS = {"client_service", "admin"}
HANDS_OVER = {"manager", "admin"}
ADMINS = {"admin"}
PAYERS = {"finance", "admin"}
# Whose contracts a role approves, and whose reps' targets it sets (by record).
APPROVES = {"manager": {"own", "team"}, "admin": ALL}
SETS_TARGETS = {"manager": {"own", "team"}, "admin": ALL}
CARE_KEEPERS = {"client_service", "admin"}  # message templates and the holiday calendar
BULK_SENDERS = {"manager", "client_service", "admin"}
# Who sees a bulk message created by client service, and one created by the manager.
BULK_SEEN_BY = {"bulk_of_clerk": {"client_service", "admin"}, "bulk_of_manager": {"manager", "client_service", "admin"}}
TEAM_WEEK = {"manager", "admin"}  # the team's week of visits
SEES_PERSONAL = {"rep", "manager", "client_service", "admin"}  # the owner's relations (User.sees_personal_profile)

# Outcomes
ALLOWED, FORBIDDEN, NOT_FOUND, REFUSED = "allowed", "403", "404", "400"
SHOWN, HIDDEN = "shown", "hidden"


def outcome(rule: str, role: str, record: str | None) -> str:
    sees = record in SEES[role]
    edits = record in EDITS[role]
    read_only = not EDITS[role]
    if rule == "read":
        return ALLOWED if sees else NOT_FOUND
    if rule == "write":
        return NOT_FOUND if not sees else ALLOWED if edits else FORBIDDEN
    if rule == "verify":
        return NOT_FOUND if not sees else ALLOWED if edits and role in VERIFIERS else FORBIDDEN
    if rule == "admin_delete":
        return NOT_FOUND if not sees else ALLOWED if role in ADMINS else FORBIDDEN
    if rule == "create":  # a customer for the record's owner, or a child of the record by id
        return FORBIDDEN if read_only else ALLOWED if edits else REFUSED
    if rule == "create_page":
        return FORBIDDEN if read_only else ALLOWED
    if rule == "handover":  # the record handed to another rep
        return FORBIDDEN if role not in HANDS_OVER else ALLOWED if edits else REFUSED
    if rule == "handover_page":
        return ALLOWED if role in HANDS_OVER else FORBIDDEN
    if rule in ("list", "duplicates"):
        return SHOWN if sees else HIDDEN
    if rule in ("personal_read", "personal_list"):  # refused by role before the record is looked up
        return FORBIDDEN if role not in SEES_PERSONAL else outcome(rule.removeprefix("personal_"), role, record)
    if rule in ("config_write", "config_page"):
        return ALLOWED if role in ADMINS else FORBIDDEN
    if rule in ("config_read", "signed_in", "public", "logout"):
        return ALLOWED
    if rule == "approve":  # a pending contract approved (drafted by the customer's owner)
        return NOT_FOUND if not sees else ALLOWED if record in APPROVES.get(role, ()) else FORBIDDEN
    if rule == "payment_create":  # a payment of the record's customer
        return FORBIDDEN if role not in PAYERS else ALLOWED if sees else REFUSED
    if rule == "payment_page":
        return ALLOWED if role in PAYERS else FORBIDDEN
    if rule == "target_write":  # the target of the record's owner (targets are seen as customers are)
        return NOT_FOUND if not sees else ALLOWED if record in SETS_TARGETS.get(role, ()) else FORBIDDEN
    if rule == "care_config":
        return ALLOWED if role in CARE_KEEPERS else FORBIDDEN
    if rule == "bulk_page":
        return ALLOWED if role in BULK_SENDERS else FORBIDDEN
    if rule in BULK_SEEN_BY:
        return ALLOWED if role in BULK_SEEN_BY[rule] else NOT_FOUND
    if rule == "target_create":  # a target for the record's owner
        return FORBIDDEN if role not in SETS_TARGETS else ALLOWED if record in SETS_TARGETS[role] else REFUSED
    if rule == "team_page":
        return ALLOWED if role in TEAM_WEEK else FORBIDDEN
    raise AssertionError(f"no rule {rule!r}")


# Rules whose outcome depends on the record; the others run once per role.
PER_RECORD = {
    "read",
    "write",
    "verify",
    "admin_delete",
    "create",
    "handover",
    "list",
    "duplicates",
    "personal_read",
    "personal_list",
    "approve",
    "payment_create",
    "target_write",
    "target_create",
}
# Rules open to anonymous users; every other route must refuse them.
PUBLIC = {"public"}


@dataclass(frozen=True)
class Check:
    method: str
    rule: str
    target: str | None = None  # what the URL's ids (or the body's customer) point at
    params: tuple = ()  # a page's query string, as (name, value) pairs
    data: tuple = ()  # a page's POST body, as (name, value) pairs


# -- The declarative spec ---------------------------------------------------------------------

SCHEMA = "schema"  # an API route checked through its OPERATIONS

CHILD_KINDS = ["contact", "relation", "document", "livestock", "brand", "action"]
VERIFIABLE_KINDS = ["document", "livestock"]
# Sales records under each customer (their pages take the record's own id), and the
# company-wide records every case shares.
SALES_KINDS = ["order", "open_order", "payment", "allocation", "contract", "pending_contract", "after_sales", "target"]
CARE_KINDS = ["communication", "care_message"]
# Records under a customer whose pages take the record's own id.
VISIT_KINDS = ["plan", "visit", "visit_photo", "visit_status"]
OWN_ID_KINDS = [*SALES_KINDS, *CARE_KINDS, *VISIT_KINDS]
CONFIG_KINDS = [
    "custom_field", "product", "policy", "message_template", "holiday", "campaign", "team_campaign", "visit_frequency",
    "import_job",
]  # fmt: skip

ROUTES: dict[str, list[Check] | str] = {
    "home": [Check("GET", "signed_in")],
    "login": [Check("GET", "public")],
    "logout": [Check("POST", "logout")],
    "password_change": [Check("GET", "signed_in")],
    "password_change_done": [Check("GET", "signed_in")],
    "customers:list": [Check("GET", "list", "customer")],
    "customers:export": [Check("GET", "list", "customer", params=(("format", "csv"),))],
    "customers:contact_list": [Check("GET", "list", "contact")],
    "customers:contact_export": [Check("GET", "list", "contact", params=(("format", "csv"),))],
    "customers:create": [Check("GET", "create_page"), Check("POST", "create_page")],
    "customers:duplicates": [Check("GET", "duplicates", "customer")],
    "customers:handover": [Check("GET", "handover_page"), Check("POST", "handover_page")],
    "customers:custom_fields": [Check("GET", "config_page")],
    "customers:custom_field_create": [Check("GET", "config_page"), Check("POST", "config_page")],
    "customers:custom_field_edit": [
        Check("GET", "config_page", "custom_field"),
        Check("POST", "config_page", "custom_field"),
    ],
    "customers:detail": [
        Check("GET", "read", "customer"),
        Check("GET", "personal_read", "customer", params=(("tab", "relations"),)),
    ],
    "customers:edit": [Check("GET", "write", "customer"), Check("POST", "write", "customer")],
    "customers:delete": [Check("POST", "admin_delete", "customer")],
    "customers:fact_verify": [Check("POST", "verify", "customer")],
    "customers:document_file": [Check("GET", "read", "document")],
    **{
        route: checks
        for kind in CHILD_KINDS
        for route, checks in {
            # Creating a child is writing to the customer named in the URL.
            f"customers:{kind}_create": [Check("GET", "write", "customer"), Check("POST", "write", "customer")],
            f"customers:{kind}_edit": [Check("GET", "write", kind), Check("POST", "write", kind)],
            f"customers:{kind}_delete": [Check("POST", "write", kind)],
        }.items()
    },
    **{f"customers:{kind}_verify": [Check("POST", "verify", kind)] for kind in VERIFIABLE_KINDS},
    # Sales pages: orders and targets ...
    "sales:order_list": [Check("GET", "list", "order")],
    "sales:order_export": [Check("GET", "list", "order", params=(("format", "csv"),))],
    "sales:order_create": [Check("GET", "create_page"), Check("POST", "create_page")],
    "sales:order_price_preview": [Check("GET", "create_page")],
    "sales:order_line_form": [Check("GET", "create_page", params=(("lines-TOTAL_FORMS", "1"),))],
    "sales:order_detail": [Check("GET", "read", "order")],
    "sales:order_edit": [Check("GET", "write", "order"), Check("POST", "write", "order")],
    "sales:order_transition": [Check("POST", "write", "order", data=(("action", "confirm"),))],
    "sales:target_list": [Check("GET", "list", "target")],
    "sales:target_edit": [Check("GET", "target_write", "target"), Check("POST", "target_write", "target")],
    # ... payments and receivables ...
    "sales:payment_list": [Check("GET", "list", "payment")],
    "sales:payment_export": [Check("GET", "list", "payment", params=(("format", "csv"),))],
    "sales:payment_create": [Check("GET", "payment_page"), Check("POST", "payment_page")],
    "sales:payment_customer_options": [Check("GET", "payment_page", params=(("q", "矩阵"),))],
    "sales:payment_open_orders": [Check("GET", "payment_page")],
    "sales:payment_detail": [Check("GET", "read", "payment")],
    "sales:receivables": [Check("GET", "list", "open_order")],
    "sales:receivables_export": [Check("GET", "list", "open_order", params=(("format", "csv"),))],
    # ... and the catalogue, contracts and after-sales.
    "sales:product_list": [Check("GET", "config_read")],
    "sales:product_create": [Check("GET", "config_page"), Check("POST", "config_page")],
    "sales:product_edit": [Check("GET", "config_page", "product"), Check("POST", "config_page", "product")],
    "sales:policy_list": [Check("GET", "config_read")],
    "sales:policy_create": [Check("GET", "config_page"), Check("POST", "config_page")],
    "sales:policy_edit": [Check("GET", "config_page", "policy"), Check("POST", "config_page", "policy")],
    "sales:contract_list": [Check("GET", "list", "contract")],
    "sales:contract_create": [Check("GET", "create_page"), Check("POST", "create_page")],
    "sales:contract_detail": [Check("GET", "read", "contract")],
    "sales:contract_edit": [Check("GET", "write", "contract"), Check("POST", "write", "contract")],
    "sales:contract_transition": [Check("POST", "approve", "pending_contract", data=(("action", "approve"),))],
    "sales:contract_file": [Check("GET", "read", "contract")],
    "sales:contract_print": [Check("GET", "read", "contract")],
    "sales:after_sales_list": [Check("GET", "list", "after_sales")],
    "sales:after_sales_create": [Check("GET", "create_page"), Check("POST", "create_page")],
    "sales:after_sales_edit": [Check("GET", "write", "after_sales"), Check("POST", "write", "after_sales")],
    # Communications, care messages, templates, holidays and bulk messages.
    "visits:communication_list": [Check("GET", "list", "communication")],
    "visits:communication_export": [Check("GET", "list", "communication", params=(("format", "csv"),))],
    "visits:communication_create": [Check("GET", "write", "customer"), Check("POST", "write", "customer")],
    "visits:communication_detail": [Check("GET", "read", "communication")],
    "visits:communication_edit": [Check("GET", "write", "communication"), Check("POST", "write", "communication")],
    "visits:communication_delete": [Check("POST", "write", "communication")],
    "visits:communication_attachment": [Check("GET", "read", "communication")],
    "visits:care_message_list": [Check("GET", "list", "care_message")],
    "visits:template_list": [Check("GET", "config_read")],
    "visits:template_create": [Check("GET", "care_config"), Check("POST", "care_config")],
    "visits:template_edit": [
        Check("GET", "care_config", "message_template"),
        Check("POST", "care_config", "message_template"),
    ],
    "visits:holiday_list": [Check("GET", "config_read")],
    "visits:holiday_create": [Check("GET", "care_config"), Check("POST", "care_config")],
    "visits:holiday_edit": [Check("GET", "care_config", "holiday"), Check("POST", "care_config", "holiday")],
    "visits:holiday_delete": [Check("POST", "care_config", "holiday")],
    "visits:campaign_list": [Check("GET", "bulk_page")],
    "visits:campaign_create": [Check("GET", "bulk_page"), Check("POST", "bulk_page")],
    "visits:campaign_detail": [Check("GET", "bulk_of_manager", "team_campaign")],
    "visits:campaign_edit": [Check("GET", "bulk_of_clerk", "campaign"), Check("POST", "bulk_of_clerk", "campaign")],
    "visits:campaign_send": [Check("POST", "bulk_of_clerk", "campaign")],
    # Visit plans, visits, the calendars and the frequency standards.
    "visits:today": [Check("GET", "signed_in")],
    "visits:week": [Check("GET", "signed_in")],
    "visits:team_week": [Check("GET", "team_page")],
    "visits:overdue": [Check("GET", "list", "visit_status")],
    "visits:plan_list": [Check("GET", "list", "plan")],
    "visits:plan_create": [Check("GET", "create_page"), Check("POST", "create_page")],
    "visits:plan_detail": [Check("GET", "read", "plan")],
    "visits:plan_edit": [Check("GET", "write", "plan"), Check("POST", "write", "plan")],
    "visits:plan_cancel": [Check("POST", "write", "plan", data=(("reason", "矩阵"),))],
    "visits:plan_check_in": [Check("POST", "write", "plan")],
    "visits:visit_list": [Check("GET", "list", "visit")],
    "visits:visit_export": [Check("GET", "list", "visit", params=(("format", "csv"),))],
    "visits:check_in": [Check("GET", "create_page"), Check("POST", "create_page")],
    "visits:visit_detail": [Check("GET", "read", "visit")],
    "visits:visit_edit": [Check("GET", "write", "visit"), Check("POST", "write", "visit")],
    "visits:photo_file": [Check("GET", "read", "visit_photo")],
    "visits:photo_delete": [Check("POST", "write", "visit_photo")],
    "visits:frequency_list": [Check("GET", "config_read")],
    "visits:frequency_create": [Check("GET", "config_page"), Check("POST", "config_page")],
    "visits:frequency_edit": [
        Check("GET", "config_page", "visit_frequency"),
        Check("POST", "config_page", "visit_frequency"),
    ],
    "visits:frequency_delete": [Check("POST", "config_page", "visit_frequency")],
    # Spreadsheet imports: admins only (a checked file with one rejected row).
    "imports:list": [Check("GET", "config_page")],
    "imports:upload": [Check("GET", "config_page"), Check("POST", "config_page")],
    "imports:detail": [Check("GET", "config_page", "import_job")],
    "imports:mapping": [Check("GET", "config_page", "import_job"), Check("POST", "config_page", "import_job")],
    "imports:commit": [Check("POST", "config_page", "import_job", data=(("mode", "all_valid"),))],
    "imports:progress": [Check("GET", "config_page", "import_job")],
    "imports:rejected": [Check("GET", "config_page", "import_job")],
    "imports:undo": [Check("POST", "config_page", "import_job")],
    # The API: outside the schema ...
    "api:api-root": [Check("GET", "signed_in")],
    "api:schema": [Check("GET", "signed_in")],
    "api:docs": [Check("GET", "signed_in")],
    # ... and in it.
    "api:token": SCHEMA,
    "api:customer-list": SCHEMA,
    "api:customer-detail": SCHEMA,
    "api:customer-verify": SCHEMA,
    "api:customer-duplicates": SCHEMA,
    **{
        f"api:{kind}-{suffix}": SCHEMA
        for kind in ("contact", "relation", "document", "livestock")
        for suffix in ("list", "detail")
    },
    "api:document-file": SCHEMA,
    "api:document-verify": SCHEMA,
    "api:livestock-verify": SCHEMA,
    "api:custom-field-list": SCHEMA,
    "api:custom-field-detail": SCHEMA,
    "api:handover-list": SCHEMA,
    **{
        f"api:{kind}-{suffix}": SCHEMA
        for kind in ("product", "policy", "contract", "order", "payment", "allocation", "after-sales", "target")
        for suffix in ("list", "detail")
    },
    "api:contract-transition": SCHEMA,
    "api:contract-file": SCHEMA,
    "api:order-transition": SCHEMA,
    "api:receivable-list": SCHEMA,
    "api:receivable-summary": SCHEMA,
    **{
        f"api:{kind}-{suffix}": SCHEMA
        for kind in ("communication", "message-template", "holiday", "campaign", "care-message")
        for suffix in ("list", "detail")
    },
    "api:communication-attachment": SCHEMA,
    "api:campaign-preview": SCHEMA,
    "api:campaign-send": SCHEMA,
    **{
        f"api:{kind}-{suffix}": SCHEMA
        for kind in ("visit-plan", "visit", "visit-photo", "visit-frequency")
        for suffix in ("list", "detail")
    },
    "api:visit-plan-cancel": SCHEMA,
    "api:visit-check-out": SCHEMA,
    "api:visit-photos": SCHEMA,
    "api:visit-photo-file": SCHEMA,
}

API_CHILDREN = {"contacts": "contact", "relations": "relation", "documents": "document", "livestock": "livestock"}
# Children that are the owner's personal data: read only by roles that see it.
PERSONAL_CHILDREN = {"relation"}

OPERATIONS: dict[tuple[str, str], Check] = {
    ("/api/auth/token/", "POST"): Check("POST", "public"),
    ("/api/customers/", "GET"): Check("GET", "list", "customer"),
    ("/api/customers/", "POST"): Check("POST", "create", "customer"),
    ("/api/customers/{id}/", "GET"): Check("GET", "read", "customer"),
    ("/api/customers/{id}/", "PUT"): Check("PUT", "write", "customer"),
    ("/api/customers/{id}/", "PATCH"): Check("PATCH", "write", "customer"),
    ("/api/customers/{id}/", "DELETE"): Check("DELETE", "admin_delete", "customer"),
    ("/api/customers/{id}/verify/", "POST"): Check("POST", "verify", "customer"),
    ("/api/customers/duplicates/", "GET"): Check("GET", "duplicates", "customer"),
    **{
        key: check
        for segment, kind in API_CHILDREN.items()
        for key, check in {
            (f"/api/{segment}/", "GET"): Check("GET", "personal_list" if kind in PERSONAL_CHILDREN else "list", kind),
            (f"/api/{segment}/", "POST"): Check("POST", "create", kind),
            (f"/api/{segment}/{{id}}/", "GET"): Check(
                "GET", "personal_read" if kind in PERSONAL_CHILDREN else "read", kind
            ),
            (f"/api/{segment}/{{id}}/", "PUT"): Check("PUT", "write", kind),
            (f"/api/{segment}/{{id}}/", "PATCH"): Check("PATCH", "write", kind),
            (f"/api/{segment}/{{id}}/", "DELETE"): Check("DELETE", "write", kind),
        }.items()
    },
    ("/api/documents/{id}/file/", "GET"): Check("GET", "read", "document"),
    ("/api/documents/{id}/verify/", "POST"): Check("POST", "verify", "document"),
    ("/api/livestock/{id}/verify/", "POST"): Check("POST", "verify", "livestock"),
    ("/api/custom-fields/", "GET"): Check("GET", "config_read"),
    ("/api/custom-fields/", "POST"): Check("POST", "config_write"),
    ("/api/custom-fields/{id}/", "GET"): Check("GET", "config_read", "custom_field"),
    ("/api/custom-fields/{id}/", "PUT"): Check("PUT", "config_write", "custom_field"),
    ("/api/custom-fields/{id}/", "PATCH"): Check("PATCH", "config_write", "custom_field"),
    ("/api/handover/", "POST"): Check("POST", "handover", "customer"),
    # Sales: the catalogue ...
    **{
        key: check
        for segment, kind in (("products", "product"), ("policies", "policy"))
        for key, check in {
            (f"/api/{segment}/", "GET"): Check("GET", "config_read"),
            (f"/api/{segment}/", "POST"): Check("POST", "config_write"),
            (f"/api/{segment}/{{id}}/", "GET"): Check("GET", "config_read", kind),
            (f"/api/{segment}/{{id}}/", "PUT"): Check("PUT", "config_write", kind),
            (f"/api/{segment}/{{id}}/", "PATCH"): Check("PATCH", "config_write", kind),
        }.items()
    },
    # ... records that follow their customer ...
    **{
        key: check
        for segment, kind in (("contracts", "contract"), ("orders", "order"), ("after-sales", "after_sales"))
        for key, check in {
            (f"/api/{segment}/", "GET"): Check("GET", "list", kind),
            (f"/api/{segment}/", "POST"): Check("POST", "create", kind),
            (f"/api/{segment}/{{id}}/", "GET"): Check("GET", "read", kind),
            (f"/api/{segment}/{{id}}/", "PATCH"): Check("PATCH", "write", kind),
        }.items()
    },
    ("/api/contracts/{id}/", "PUT"): Check("PUT", "write", "contract"),
    ("/api/after-sales/{id}/", "PUT"): Check("PUT", "write", "after_sales"),
    ("/api/contracts/{id}/transition/", "POST"): Check("POST", "approve", "pending_contract"),
    ("/api/contracts/{id}/file/", "GET"): Check("GET", "read", "contract"),
    ("/api/orders/{id}/transition/", "POST"): Check("POST", "write", "order"),
    # ... payments, which finance records ...
    ("/api/payments/", "GET"): Check("GET", "list", "payment"),
    ("/api/payments/", "POST"): Check("POST", "payment_create", "payment"),
    ("/api/payments/{id}/", "GET"): Check("GET", "read", "payment"),
    ("/api/allocations/", "GET"): Check("GET", "list", "allocation"),
    ("/api/allocations/{id}/", "GET"): Check("GET", "read", "allocation"),
    ("/api/receivables/", "GET"): Check("GET", "list", "open_order"),
    ("/api/receivables/summary/", "GET"): Check("GET", "signed_in"),
    # ... and targets, which managers set for their team.
    ("/api/targets/", "GET"): Check("GET", "list", "target"),
    ("/api/targets/", "POST"): Check("POST", "target_create", "target"),
    ("/api/targets/{id}/", "GET"): Check("GET", "read", "target"),
    ("/api/targets/{id}/", "PUT"): Check("PUT", "target_write", "target"),
    ("/api/targets/{id}/", "PATCH"): Check("PATCH", "target_write", "target"),
    # Communications follow their customer; messages sent are read as their customer is.
    ("/api/communications/", "GET"): Check("GET", "list", "communication"),
    ("/api/communications/", "POST"): Check("POST", "create", "communication"),
    ("/api/communications/{id}/", "GET"): Check("GET", "read", "communication"),
    ("/api/communications/{id}/", "PUT"): Check("PUT", "write", "communication"),
    ("/api/communications/{id}/", "PATCH"): Check("PATCH", "write", "communication"),
    ("/api/communications/{id}/", "DELETE"): Check("DELETE", "write", "communication"),
    ("/api/communications/{id}/attachment/", "GET"): Check("GET", "read", "communication"),
    ("/api/care-messages/", "GET"): Check("GET", "list", "care_message"),
    ("/api/care-messages/{id}/", "GET"): Check("GET", "read", "care_message"),
    # Templates and holidays: read by all, kept by client service and admins.
    **{
        key: check
        for segment, kind in (("message-templates", "message_template"), ("holidays", "holiday"))
        for key, check in {
            (f"/api/{segment}/", "GET"): Check("GET", "config_read"),
            (f"/api/{segment}/", "POST"): Check("POST", "care_config"),
            (f"/api/{segment}/{{id}}/", "GET"): Check("GET", "config_read", kind),
            (f"/api/{segment}/{{id}}/", "PUT"): Check("PUT", "care_config", kind),
            (f"/api/{segment}/{{id}}/", "PATCH"): Check("PATCH", "care_config", kind),
        }.items()
    },
    ("/api/holidays/{id}/", "DELETE"): Check("DELETE", "care_config", "holiday"),
    # Bulk messages: sent by client service, admins and managers; seen by their creator too.
    ("/api/campaigns/", "GET"): Check("GET", "bulk_page"),
    ("/api/campaigns/", "POST"): Check("POST", "bulk_page"),
    ("/api/campaigns/{id}/", "GET"): Check("GET", "bulk_of_manager", "team_campaign"),
    ("/api/campaigns/{id}/", "PUT"): Check("PUT", "bulk_of_clerk", "campaign"),
    ("/api/campaigns/{id}/", "PATCH"): Check("PATCH", "bulk_of_manager", "team_campaign"),
    ("/api/campaigns/{id}/preview/", "GET"): Check("GET", "bulk_of_manager", "team_campaign"),
    ("/api/campaigns/{id}/send/", "POST"): Check("POST", "bulk_of_clerk", "campaign"),
    # Visit plans, visits and photos follow their customer.
    ("/api/visit-plans/", "GET"): Check("GET", "list", "plan"),
    ("/api/visit-plans/", "POST"): Check("POST", "create", "plan"),
    ("/api/visit-plans/{id}/", "GET"): Check("GET", "read", "plan"),
    ("/api/visit-plans/{id}/", "PUT"): Check("PUT", "write", "plan"),
    ("/api/visit-plans/{id}/", "PATCH"): Check("PATCH", "write", "plan"),
    ("/api/visit-plans/{id}/cancel/", "POST"): Check("POST", "write", "plan"),
    ("/api/visits/", "GET"): Check("GET", "list", "visit"),
    ("/api/visits/", "POST"): Check("POST", "create", "visit"),
    ("/api/visits/{id}/", "GET"): Check("GET", "read", "visit"),
    ("/api/visits/{id}/", "PATCH"): Check("PATCH", "write", "visit"),
    ("/api/visits/{id}/check-out/", "POST"): Check("POST", "write", "visit"),
    ("/api/visits/{id}/photos/", "POST"): Check("POST", "write", "visit"),
    ("/api/visit-photos/", "GET"): Check("GET", "list", "visit_photo"),
    ("/api/visit-photos/{id}/", "GET"): Check("GET", "read", "visit_photo"),
    ("/api/visit-photos/{id}/", "DELETE"): Check("DELETE", "write", "visit_photo"),
    ("/api/visit-photos/{id}/file/", "GET"): Check("GET", "read", "visit_photo"),
    # Visit frequency standards: read by all, changed by admins.
    ("/api/visit-frequencies/", "GET"): Check("GET", "config_read"),
    ("/api/visit-frequencies/", "POST"): Check("POST", "config_write"),
    ("/api/visit-frequencies/{id}/", "GET"): Check("GET", "config_read", "visit_frequency"),
    ("/api/visit-frequencies/{id}/", "PUT"): Check("PUT", "config_write", "visit_frequency"),
    ("/api/visit-frequencies/{id}/", "PATCH"): Check("PATCH", "config_write", "visit_frequency"),
    ("/api/visit-frequencies/{id}/", "DELETE"): Check("DELETE", "config_write", "visit_frequency"),
}

# -- What exists: the URL resolver and the schema ---------------------------------------------

SKIPPED_PREFIXES = ("django-admin/", "i18n/", "static/", "media/", "^static/", "^media/")


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            # An unnamed pattern is keyed by its route, so it still needs (and lacks) a spec.
            yield (f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name or route), route


@functools.cache
def url_routes() -> dict[str, str]:
    return dict(_walk(get_resolver("crm.urls").url_patterns))


@functools.cache
def schema_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(
        (path, method.upper()) for path, item in schema["paths"].items() for method in item if method in methods
    )


def _example_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


class TestEveryRouteHasASpec:
    @pytest.mark.parametrize("name", sorted(set(url_routes()) | set(ROUTES)))
    def test_route(self, name):
        assert name in url_routes(), f"ROUTES has an entry for {name}, which no longer exists"
        assert name in ROUTES, f"{name} ({url_routes()[name]}) has no entry in ROUTES: say what kind of route it is"

    @pytest.mark.parametrize("key", sorted(set(schema_operations()) | set(OPERATIONS)), ids=" ".join)
    def test_operation(self, key):
        assert key in schema_operations(), f"OPERATIONS has an entry for {key}, which is not in the schema"
        assert key in OPERATIONS, f"{key} has no entry in OPERATIONS: say what kind of operation it is"
        assert OPERATIONS[key].method == key[1]
        route = resolve(_example_path(key[0])).view_name
        assert ROUTES.get(route) == SCHEMA, f"{key} resolves to {route}, which ROUTES should mark as SCHEMA"

    @pytest.mark.parametrize("name", [name for name, spec in ROUTES.items() if spec == SCHEMA])
    def test_schema_routes_are_in_the_schema(self, name):
        routes = {resolve(_example_path(path)).view_name for path, _method in schema_operations()}
        assert name in routes, f"{name} is marked SCHEMA but no schema operation reaches it"


# -- The cast ---------------------------------------------------------------------------------


@dataclass
class Cast:
    users: dict[str, User]
    targets: dict[str, dict[str, object]]  # record -> target name -> object
    config: dict[str, object]  # company-wide records: custom field, product, policy
    sessions: dict[str, str]  # role -> session key, signed in once for the module


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        team_a = TeamFactory(name="矩阵一组", region=RegionFactory(name="矩阵华东"))
        team_b = TeamFactory(name="矩阵二组", region=RegionFactory(name="矩阵华北"))
        owners = {
            "own": UserFactory(username="m_rep", last_name="李", first_name="明", role=User.Role.REP, team=team_a),
            "team": UserFactory(username="m_mate", last_name="王", first_name="芳", role=User.Role.REP, team=team_a),
            "other": UserFactory(username="m_out", last_name="赵", first_name="强", role=User.Role.REP, team=team_b),
        }
        users = {
            "rep": owners["own"],
            "manager": UserFactory(username="m_manager", role=User.Role.MANAGER, team=team_a),
            "client_service": UserFactory(username="m_clerk", role=User.Role.CLIENT_SERVICE),
            "finance": UserFactory(username="m_finance", role=User.Role.FINANCE),
            "admin": UserFactory(username="m_admin", role=User.Role.ADMIN),
        }
        names = {"own": "临沂康达兽药经营部", "team": "潍坊牧原养殖场", "other": "石家庄宠安动物诊所"}
        targets = {}
        for record, owner in owners.items():
            customer = CustomerFactory(owner=owner, name=names[record], city=f"{record}城", annual_sales=600000)
            document = QualificationDocument(customer=customer, doc_type="gsp", number=f"GSP-{record}")
            document.file.save(f"{record}.pdf", ContentFile(b"%PDF-1.4"), save=False)
            document.save()
            targets[record] = {
                "customer": customer,
                "owner": owner,
                "contact": Contact.objects.create(customer=customer, name=f"联系人{record}"),
                "relation": Relation.objects.create(customer=customer, name=f"亲属{record}", kind="spouse"),
                "document": document,
                "livestock": Livestock.objects.create(
                    customer=customer, species="sow", quantity=100, unit="head", as_of=datetime.date(2024, 1, 1)
                ),
                "brand": Brand.objects.create(customer=customer, name=f"品牌{record}"),
                "action": ActionItem.objects.create(customer=customer, description=f"计划{record}", owner=owner),
            }
        custom_field = CustomField.objects.create(key="matrix_field", label="矩阵字段", kind="text")
        product = ProductFactory(name="矩阵疫苗", list_price=50)
        policy = SalesPolicy.objects.create(
            name="矩阵政策", start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31)
        )
        PolicyItem.objects.create(policy=policy, product=product, special_price=45)
        finance = users["finance"]
        # Sales records belong to a second customer of each owner: the same visibility,
        # and the first customer stays deletable (an order protects its customer).
        sales_names = {"own": "临沂康达兽药二店", "team": "潍坊牧原二场", "other": "石家庄宠安二诊所"}
        for record, owner in owners.items():
            customer = CustomerFactory(owner=owner, name=sales_names[record], city=f"{record}城")
            targets[record].update(_sales_records(customer, owner, finance, product, record))
        sessions = {}
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        config = {"custom_field": custom_field, "product": product, "policy": policy}
        config.update(_care_records(targets, users))
        config.update(_visit_records(targets))
        config["import_job"] = _import_job(users["admin"])
        yield Cast(users=users, targets=targets, config=config, sessions=sessions)
        transaction.set_rollback(True)


def _sales_records(customer, owner, finance, product, record) -> dict:
    """One sales record of every kind for the customer: a draft order, an open (confirmed,
    partly paid) order with its payment and allocation, a draft and a pending contract
    (drafted by the owner, so any manager may approve it), an after-sales request and the
    owner's target for the month."""
    march = datetime.date(2026, 3, 2)
    lines = [sales_services.LineInput(product=product, quantity=2)]
    draft = sales_services.order_create(actor=owner, customer=customer, order_date=march, lines=lines)
    open_order = sales_services.order_create(actor=owner, customer=customer, order_date=march, lines=lines)
    open_order = sales_services.order_transition(actor=owner, order=open_order, action="confirm")
    payment = sales_services.payment_record(actor=finance, customer=customer, date=march, amount=30)
    contracts = []
    for _ in range(2):
        contract = Contract(
            customer=customer, valid_from=datetime.date(2026, 1, 1), valid_to=datetime.date(2026, 12, 31)
        )
        contract.file.save(f"contract-{record}.pdf", ContentFile(b"%PDF-1.4"), save=False)
        line = sales_services.ContractLineInput(product=product, quantity=10, unit_price=40)
        contracts.append(sales_services.contract_save(actor=owner, contract=contract, lines=[line]))
    pending = sales_services.contract_transition(actor=owner, contract=contracts[1], action="submit")
    after_sales = sales_services.after_sales_save(
        actor=owner, request=AfterSalesRequest(customer=customer, order=open_order, product=product, issue="破损")
    )
    target = SalesTarget.objects.create(
        rep=owner, month=datetime.date(2026, 3, 1), order_target=1000, collection_target=500
    )
    return {
        "order": draft,
        "open_order": open_order,
        "payment": payment,
        "allocation": payment.allocations.get(),
        "contract": contracts[0],
        "pending_contract": pending,
        "after_sales": after_sales,
        "target": target,
    }


def _care_records(targets: dict, users: dict) -> dict:
    """Under each record's customer: a main contact with a mobile (so bulk messages have
    someone to send to), a communication with an attachment and a care message. Returns
    the company-wide ones: a bulk template, a holiday, and a draft bulk message created by
    client service and one created by the manager."""
    for record, records in targets.items():
        customer = records["customer"]
        contact = Contact.objects.create(
            customer=customer, name=f"主联系人{record}", mobile="13900000001", is_primary=True
        )
        communication = Communication(customer=customer, contact=contact, kind="call", summary="矩阵电话")
        communication.attachment.save(f"{record}.m4a", ContentFile(b"\x00 ftypM4A"), save=False)
        communication.save()
        message = CareMessage.objects.create(
            customer=customer, contact=contact, channel="sms", occasion="birthday:2026",
            recipient=contact.mobile, body="生日快乐",
        )  # fmt: skip
        records.update(communication=communication, care_message=message)
    template = MessageTemplate.objects.create(name="矩阵群发", occasion="bulk", body="{contact}您好")
    holiday = Holiday.objects.create(name="矩阵节", date=datetime.date(2026, 10, 1))
    campaign = Campaign.objects.create(name="矩阵群发", template=template, created_by=users["client_service"])
    team_campaign = Campaign.objects.create(name="矩阵团队群发", template=template, created_by=users["manager"])
    return {"message_template": template, "holiday": holiday, "campaign": campaign, "team_campaign": team_campaign}


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _visit_records(targets: dict) -> dict:
    """Under each record's second (sales) customer: an open plan for today, a visit in
    progress with a location and a photo, and the customer's visit status, overdue.
    Returns the company-wide frequency standard."""
    today = timezone.localdate()
    for record, records in targets.items():
        customer, owner = records["order"].customer, records["owner"]
        plan = VisitPlan.objects.create(customer=customer, rep=owner, planned_date=today, purpose=f"矩阵拜访{record}")
        visit = Visit.objects.create(
            customer=customer, rep=owner, visit_date=today, latitude="36.1", longitude="117.1", distance_m=80
        )
        photo = VisitPhoto(visit=visit, caption=f"矩阵{record}")
        photo.image.save(f"{record}.jpg", ContentFile(_jpeg()), save=False)
        photo.save()
        status = CustomerVisits.objects.create(
            customer=customer, interval_days=7, next_due_date=today - datetime.timedelta(days=3), refreshed_on=today
        )
        records.update(visit_customer=customer, plan=plan, visit=visit, visit_photo=photo, visit_status=status)
    return {"visit_frequency": VisitFrequency.objects.create(customer_type="farm", interval_days=14)}


def _import_job(admin):
    """A customer spreadsheet, checked by a dry run: one row to create, one rejected."""
    from crm.imports import engine

    rows = "客户名称,客户类型,行业,省份,城市\r\n矩阵牧业,养殖场,兽药,山东,临沂\r\n火星牧业,养殖场,兽药,火星,临沂\r\n"
    job = engine.job_create(
        actor=admin, kind="customers", file=SimpleUploadedFile("矩阵.csv", rows.encode()), original_name="矩阵.csv"
    )
    engine.job_set_mapping(actor=admin, job=job, columns=job.mapping, remember=False)
    return engine.job_dry_run(job=job)


# -- Running one case ---------------------------------------------------------------------------


def _target(cast: Cast, check: Check, record: str | None):
    if check.target in CONFIG_KINDS:
        return cast.config[check.target]
    return cast.targets[record][check.target] if record and check.target else None


def _page_kwargs(name: str, cast: Cast, check: Check, record: str | None) -> dict:
    route = url_routes()[name]
    kwargs = {}
    if check.target in CONFIG_KINDS or (record is not None and check.target in OWN_ID_KINDS):
        if "<int:pk>" in route:
            kwargs["pk"] = _target(cast, check, record).pk
    elif record is not None and "<int:pk>" in route:
        kwargs["pk"] = cast.targets[record]["customer"].pk
    if "<int:rep_id>" in route:
        target = _target(cast, check, record)
        kwargs.update(rep_id=target.rep_id, year=target.month.year, month=target.month.month)
    if "<int:child_pk>" in route:
        kwargs["child_pk"] = _target(cast, check, record).pk
    if "<str:fact>" in route:
        kwargs["fact"] = "annual_sales"
    return kwargs


def _api_body(path: str, check: Check, cast: Cast, role: str, record: str | None) -> dict:
    """A valid body for the operation, built for the record the case is about."""
    target = _target(cast, check, record)
    if path == "/api/auth/token/":
        return {"username": cast.users[role].username, "password": PASSWORD}
    if path == "/api/handover/":
        owner = cast.targets[record]["owner"]
        to_user = (
            cast.targets["team"]["owner"] if owner == cast.targets["own"]["owner"] else cast.targets["own"]["owner"]
        )
        return {"to_user": to_user.pk, "reason": "调整", "customer_ids": [target.pk]}
    if path.startswith("/api/custom-fields/"):
        return {"key": "matrix_field" if target else f"new_{role}", "label": "矩阵字段", "kind": "text"}
    if path.startswith("/api/customers/"):
        if check.rule == "verify":
            return {"fact": "annual_sales"}
        body = {"name": "新客户", "type": "dealer", "industry": "vet_drugs", "province": "37", "city": "菏泽"}
        if check.rule == "create":
            # For the record's owner: a rep's own is implied (reps may not send an owner).
            owner = cast.targets[record]["owner"]
            return body if role == "rep" and owner == cast.users["rep"] else {**body, "owner": owner.pk}
        version = type(target).objects.get(pk=target.pk).version
        return {**body, "version": version} if check.method == "PUT" else {"city": "日照", "version": version}
    if path.startswith(SALES_API):
        return _sales_api_body(path, check, cast, role, record)
    if path.startswith(VISITS_API):
        return _visits_api_body(path, check, cast, record)
    if path.startswith(CARE_API):
        return _care_api_body(path, check, cast, role, record)
    if check.rule == "verify":
        return {}
    customer = cast.targets[record]["customer"]
    body = {
        "contact": {"name": "新联系人"},
        "relation": {"name": "新亲属", "kind": "friend"},
        "document": {"doc_type": "drug_permit", "number": "新证"},
        "livestock": {"species": "layer", "quantity": 5, "unit": "10k_birds", "as_of": "2024-06-01"},
    }[check.target]
    return {**body, "customer": customer.pk} if check.method == "POST" else body


SALES_API = tuple(
    f"/api/{segment}/"
    for segment in ("products", "policies", "contracts", "orders", "payments", "after-sales", "targets")
)
VISITS_API = ("/api/visit-plans/", "/api/visits/", "/api/visit-frequencies/")
# Operations that take a file, sent as multipart.
MULTIPART = {("/api/visits/{id}/photos/", "POST")}


def _visits_api_body(path: str, check: Check, cast: Cast, record: str | None) -> dict:
    """A valid body for a visit plan, visit or frequency standard operation."""
    method = check.method
    later = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    customer = cast.targets[record]["visit_customer"].pk if record else None
    if path.startswith("/api/visit-frequencies/"):
        if method == "PATCH":
            return {"interval_days": 12}
        return {"customer_type": "farm" if method == "PUT" else "dealer", "interval_days": 10}
    if path == "/api/visit-plans/{id}/cancel/":
        return {"reason": "矩阵"}
    if path.startswith("/api/visit-plans/"):
        if method == "POST":
            return {"customer": customer, "planned_date": later, "purpose": "矩阵拜访"}
        if method == "PUT":
            return {"planned_date": later, "level": "technical", "purpose": "矩阵改"}
        return {"purpose": "矩阵改"}
    if path == "/api/visits/{id}/photos/":
        return {"image": SimpleUploadedFile("m.jpg", _jpeg(), content_type="image/jpeg"), "caption": "矩阵"}
    if path == "/api/visits/{id}/check-out/":
        return {}
    if method == "POST":
        return {"customer": customer, "latitude": "36.100100", "longitude": "117.100000", "accuracy_m": 20}
    return {"summary": "矩阵拜访记录"}


CARE_API = tuple(f"/api/{segment}/" for segment in ("communications", "message-templates", "holidays", "campaigns"))


def _care_api_body(path: str, check: Check, cast: Cast, role: str, record: str | None) -> dict:
    """A valid body for a communication or care operation."""
    method = check.method
    if path.startswith("/api/communications/"):
        body = {"kind": "wechat", "summary": "矩阵微信"}
        if method == "POST":
            return {**body, "customer": cast.targets[record]["customer"].pk}
        return body if method == "PUT" else {"summary": "矩阵改"}
    if path.startswith("/api/message-templates/"):
        if method == "PATCH":
            return {"active": True}
        return {"name": f"矩阵模板{role}", "occasion": "bulk", "channel": "sms", "body": "{customer}您好"}
    if path.startswith("/api/holidays/"):
        return {"name": f"矩阵节{role}", "date": "2026-10-02"} if method != "PATCH" else {"name": "矩阵节日"}
    if path == "/api/campaigns/{id}/send/":
        return {}
    return {"name": "矩阵群发", "template": cast.config["message_template"].pk}


def _sales_api_body(path: str, check: Check, cast: Cast, role: str, record: str | None) -> dict:
    """A valid body for a sales operation, for the record the case is about."""
    product = cast.config["product"]
    customer = cast.targets[record]["customer"].pk if record else None  # a new record, on the first customer
    method = check.method
    if path.startswith("/api/products/"):
        if method == "PATCH":
            return {"list_price": "52.00"}
        name = f"矩阵产品{role}" if method == "POST" else product.name
        return {
            "name": name,
            "brand": "矩阵",
            "spec": "1瓶",
            "unit": "瓶",
            "category": "vaccine",
            "industry": "vet_drugs",
            "list_price": "50.00",
        }
    if path.startswith("/api/policies/"):
        if method == "PATCH":
            return {"notes": "矩阵"}
        items = [{"product": product.pk, "special_price": "44.00"}]
        return {"name": "矩阵四月", "start": "2026-04-01", "end": "2026-04-30", "items": items}
    if path == "/api/contracts/{id}/transition/":
        return {"action": "approve", "reason": "矩阵"}
    if path == "/api/orders/{id}/transition/":
        return {"action": "confirm"}
    if path.startswith("/api/contracts/"):
        period = {"valid_from": "2026-01-01", "valid_to": "2026-12-31"}
        lines = [{"product": product.pk, "quantity": "5", "unit_price": "40.00"}]
        return {
            "POST": {"customer": customer, **period, "lines": lines},
            "PUT": {"kind": "one_off", **period},
            "PATCH": {"transport": "汽运"},
        }[method]
    if path.startswith("/api/orders/"):
        lines = [{"product": product.pk, "quantity": "3"}]
        return (
            {"customer": customer, "order_date": "2026-03-03", "lines": lines}
            if method == "POST"
            else {"notes": "矩阵"}
        )
    if path.startswith("/api/payments/"):
        return {"customer": customer, "date": "2026-03-04", "amount": "10.00"}
    if path.startswith("/api/after-sales/"):
        return {
            "POST": {"customer": customer, "issue": "漏液"},
            "PUT": {"issue": "漏液"},
            "PATCH": {"status": "in_progress"},
        }[method]
    amounts = {"order_target": "2000.00", "collection_target": "800.00"}
    if method == "POST":
        return {"rep": cast.targets[record]["owner"].pk, "month": "2026-04-01", **amounts}
    return {"month": "2026-03-01", **amounts} if method == "PUT" else {"order_target": "1500.00"}


# The token endpoint counts failed sign-ins per address in the shared Redis: use our own.
ADDRESS = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
API_ALLOWED = {"GET": {200}, "POST": {200, 201}, "PUT": {200}, "PATCH": {200}, "DELETE": {204}}
STATUS = {FORBIDDEN: {403}, NOT_FOUND: {404}, REFUSED: {400}}


def run_api(cast: Cast, key: tuple[str, str], role: str, record: str | None) -> None:
    path, method = key
    check = OPERATIONS[key]
    expected = outcome(check.rule, role, record)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ADDRESS)
    client.force_authenticate(cast.users[role])
    target = _target(cast, check, record)
    url = path.replace("{id}", str(target.pk)) if "{id}" in path else path
    if check.rule == "duplicates":
        customer = cast.targets[record]["customer"]
        response = client.get(url, {"name": customer.name, "city": customer.city})
        assert response.status_code == 200
        rows = [row for row in response.json() if row["code"] == customer.code]
        assert len(rows) == 1, "every duplicate is named, at least by code and owner"
        assert rows[0]["visible"] is (expected == SHOWN)
        assert (rows[0]["name"] == customer.name) is (expected == SHOWN)
        return
    if expected in (SHOWN, HIDDEN):
        response = client.get(url)
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert (target.pk in ids) is (expected == SHOWN), (
            f"{target} {'missing from' if expected == SHOWN else 'leaks into'} the list"
        )
        return
    send = getattr(client, method.lower())
    if method in ("POST", "PUT", "PATCH"):
        body_format = "multipart" if key in MULTIPART else "json"
        response = send(url, _api_body(path, check, cast, role, record), format=body_format)
    else:
        response = send(url)
    wanted = API_ALLOWED[method] if expected == ALLOWED else STATUS[expected]
    # Reading a file response to its end closes it (and the file) the way the test client expects.
    detail = (b"".join(response.streaming_content) if response.streaming else response.content)[:300]
    detail = detail.decode(errors="replace")
    assert response.status_code in wanted, f"expected {expected} {sorted(wanted)}, got {response.status_code}: {detail}"
    if expected == REFUSED:
        # Refused at the field that names what the user may not touch, never a leak.
        field = (
            "customer_ids"
            if check.rule == "handover"
            else "owner"
            if check.target == "customer"
            else "rep"
            if check.target == "target"
            else "customer"
        )
        assert set(response.json()) == {field}, detail
        if field in ("customer", "rep"):
            assert "does not exist" in response.json()[field][0]


PAGE_ALLOWED = {200, 302}


def _list_marker(cast: Cast, check: Check, record: str) -> str:
    """What a list shows of the record: a sales record's number, a target's rep, else
    its customer's name."""
    target = _target(cast, check, record)
    if check.target == "target":
        return str(target.rep)
    if check.target == "customer":
        return target.name
    return getattr(target, "number", None) or target.customer.name


def run_page(cast: Cast, name: str, check: Check, role: str | None, record: str | None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = cast.sessions[role]
    url = reverse(name, kwargs=_page_kwargs(name, cast, check, record))
    if check.rule == "duplicates":
        customer = cast.targets[record]["customer"]
        response = client.get(url, {"name": customer.name, "city": customer.city})
    elif check.method == "GET":
        response = client.get(url, dict(check.params))
    else:
        response = client.post(url, dict(check.data))
    if role is None:
        if check.rule in PUBLIC:
            assert response.status_code == 200
        else:
            assert response.status_code in (302, 403, 405), response.status_code
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("login"))
        return
    expected = outcome(check.rule, role, record)
    if expected in (SHOWN, HIDDEN):
        assert response.status_code == 200
        html = (b"".join(response.streaming_content) if response.streaming else response.content).decode()
        customer = cast.targets[record]["customer"]
        marker = _list_marker(cast, check, record)
        assert (marker in html) is (expected == SHOWN), f"{marker} {'missing' if expected == SHOWN else 'leaks'}"
        if check.rule == "duplicates":
            assert customer.code in html, "an invisible duplicate is still named by its code"
        return
    # A form error re-renders (200), a valid POST redirects (302): both mean "allowed".
    wanted = PAGE_ALLOWED if expected in (ALLOWED, REFUSED) else STATUS[expected]
    assert response.status_code in wanted, f"expected {expected} {sorted(wanted)}, got {response.status_code}"


# -- The cases --------------------------------------------------------------------------------


def _cases():
    cases = []
    for name, spec in sorted(ROUTES.items()):
        if spec == SCHEMA:
            continue
        for check in spec:
            for role in ROLES:
                for record in RECORDS if check.rule in PER_RECORD else [None]:
                    cases.append(
                        pytest.param(
                            "route", name, check, role, record, id=f"{name} {check.method}|{role}|{record or '-'}"
                        )
                    )
    for key, check in sorted(OPERATIONS.items()):
        for role in ROLES:
            for record in RECORDS if check.rule in PER_RECORD else [None]:
                cases.append(
                    pytest.param("operation", key, check, role, record, id=f"{key[1]} {key[0]}|{role}|{record or '-'}")
                )
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize("source, key, check, role, record", _cases())
def test_matrix(cast, source, key, check, role, record):
    if source == "route":
        if key.startswith("api:"):
            run_api_route(cast, key, check, role)
        else:
            run_page(cast, key, check, role, record)
    else:
        run_api(cast, key, role, record)


def run_api_route(cast: Cast, name: str, check: Check, role: str | None) -> None:
    client = APIClient()
    if role is not None:
        client.force_authenticate(cast.users[role])
    response = client.get(reverse(name))
    if role is None and check.rule not in PUBLIC:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 200


def _anonymous_cases():
    cases = []
    for name, spec in sorted(ROUTES.items()):
        if spec == SCHEMA:
            continue
        for check in spec:
            record = "own" if check.rule in PER_RECORD or check.target else None
            cases.append(pytest.param(name, check, record, id=f"{name} {check.method}"))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize("name, check, record", _anonymous_cases())
def test_anonymous_route(cast, name, check, record):
    """Signed out, every route but the public ones sends to the sign-in page (or refuses)."""
    if name.startswith("api:"):
        run_api_route(cast, name, check, None)
    else:
        run_page(cast, name, check, None, record)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(OPERATIONS), ids=" ".join)
def test_anonymous_operation(cast, key):
    path, method = key
    check = OPERATIONS[key]
    target = _target(cast, check, "own")
    url = path.replace("{id}", str(target.pk)) if "{id}" in path else path
    if check.rule in PUBLIC:
        # The token endpoint: wrong credentials are a 400 (and count against the throttle).
        username = f"nobody-{ADDRESS}"
        response = APIClient(REMOTE_ADDR=ADDRESS).post(url, {"username": username, "password": "wrong"})
        cache.delete_many(throttle._keys(username, ADDRESS))
        assert response.status_code == 400
    else:
        response = APIClient(REMOTE_ADDR=ADDRESS).generic(method, url)
        assert response.status_code in (401, 403)
