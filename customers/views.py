"""Pages of the customer archive: list, detail with tabs, the customer form, the six
kinds of objects that belong to a customer (one generic pair of views driven by
CHILD_KINDS), duplicate warnings, handover and the custom-field definitions.

Every view fetches through `visible_to` (an invisible customer is a 404) and checks
`editable_by` before a write (a visible but read-only customer is a 403); writing is
left to customers.services.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm import audit
from crm.errors import DomainError, EditConflict, add_domain_error
from crm.http import private_file_response
from crm.pagination import CappedPaginator
from sales import selectors as sales_selectors
from visits import timeline as visits_timeline

from . import custom_fields, services
from .filters import CustomerFilter
from .forms import (
    ActionItemForm,
    BrandForm,
    ContactForm,
    CustomerForm,
    CustomFieldForm,
    DocumentForm,
    HandoverForm,
    LivestockForm,
    RelationForm,
)
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
    customer_history,
    history_changes,
    history_field_label,
)
from .validators import normalize_credit_code, normalize_mobile

PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 25

TABS = [
    ("profile", gettext_lazy("Profile")),
    ("contacts", gettext_lazy("Contacts")),
    ("relations", gettext_lazy("Relations")),
    ("documents", gettext_lazy("Documents")),
    ("plan", gettext_lazy("Plan")),
    ("sales", gettext_lazy("Sales")),
    ("timeline", gettext_lazy("Timeline")),
    ("history", gettext_lazy("History")),
]
# Tabs that show only the owner's personal data: for users who `sees_personal_profile`.
PERSONAL_TABS = {"relations"}


@dataclass(frozen=True)
class ChildKind:
    model: type
    form: type
    tab: str
    verifiable: bool = False


CHILD_KINDS = {
    "contact": ChildKind(Contact, ContactForm, "contacts"),
    "relation": ChildKind(Relation, RelationForm, "relations"),
    "document": ChildKind(QualificationDocument, DocumentForm, "documents", verifiable=True),
    "livestock": ChildKind(Livestock, LivestockForm, "profile", verifiable=True),
    "brand": ChildKind(Brand, BrandForm, "profile"),
    "action": ChildKind(ActionItem, ActionItemForm, "plan"),
}


# -- Access -------------------------------------------------------------------------------


def get_customer_for_user(user, pk: int, *, write: bool = False) -> Customer:
    """The customer if `user` sees it (else 404); with write=True, 403 unless they may edit it.

    The result carries `can_edit`, so pages show edit buttons only to those who may use them.
    """
    customer = get_object_or_404(
        Customer.objects.visible_to(user).select_related("owner", "owner__team", "visit_status"), pk=pk
    )
    customer.can_edit = Customer.objects.editable_by(user).filter(pk=pk).exists()
    if write and not customer.can_edit:
        raise PermissionDenied
    return customer


def customer_from_query(request, *, write: bool = False) -> Customer | None:
    """The customer a page was opened for (`?customer=<id>`, from the customer's page),
    through the same rule as `get_customer_for_user`; None when there is none."""
    raw = request.GET.get("customer", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return get_customer_for_user(request.user, int(raw), write=write)


def _tabs_for(user) -> list[tuple]:
    return [(key, label) for key, label in TABS if key not in PERSONAL_TABS or user.sees_personal_profile]


def _require_tab(user, tab: str) -> None:
    """403 for a tab (or a record shown on it) holding personal data the user may not see."""
    if tab in PERSONAL_TABS and not user.sees_personal_profile:
        raise PermissionDenied


def can_verify(user) -> bool:
    """Client service and admins check what reps report; nobody verifies their own guesses."""
    return user.edits_all_customers


def _tab_url(customer_pk: int, tab: str) -> str:
    url = reverse("customers:detail", args=[customer_pk])
    return url if tab == "profile" else f"{url}?tab={tab}"


# -- List and detail ----------------------------------------------------------------------


def with_document_warnings(queryset):
    """Flags for the list's warning badge, computed by the database for the whole page."""
    documents = QualificationDocument.objects.filter(customer=OuterRef("pk"))
    return queryset.annotate(
        has_expired_docs=Exists(documents.expired()),
        has_expiring_docs=Exists(documents.expiring()),
    )


def customer_filterset(request) -> CustomerFilter:
    """The customer list's FilterSet on what the user sees, bound to the query string:
    the list page and its export (customers.views_lists) both read `.qs` from here."""
    customers = with_document_warnings(Customer.objects.visible_to(request.user).select_related("owner"))
    return CustomerFilter(request.GET, queryset=customers, request=request)


@login_required
@require_GET
def customer_list(request):
    filterset = customer_filterset(request)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/list.html",
        {
            "filterset": filterset,
            "filter_fields": _filter_fields(filterset.form),
            "page": page,
            "filtered": any(v for k, v in request.GET.items() if k not in ("page", "ordering")),
            "can_create": request.user.writes_archive,
        },
    )


# The search box sits above the panel; the completeness bands cover the raw range.
HIDDEN_FILTERS = {"q", "completeness_min", "completeness_max"}


def _filter_fields(form) -> list:
    """The filter panel's fields; a custom field with a range shows "from" and "to"."""
    fields = []
    for name in form.fields:
        custom = name.startswith(custom_fields.FORM_PREFIX)
        if name in HIDDEN_FILTERS or (custom and f"{name}_min" in form.fields):
            continue
        bound = form[name]
        if custom and name.endswith(("_min", "_max")):
            label = _("%(label)s (from)") if name.endswith("_min") else _("%(label)s (to)")
            bound.label = label % {"label": bound.label}
        fields.append(bound)
    return fields


def _display(customer: Customer, name: str):
    field = Customer._meta.get_field(name)
    value = getattr(customer, name)
    if value in (None, ""):
        return ""
    if field.choices:
        return getattr(customer, f"get_{name}_display")()
    if field.get_internal_type() == "DecimalField":
        return intcomma(value.normalize() if value == value.to_integral() else value)
    return value


def _rows(customer: Customer, names: list[str]) -> list[tuple]:
    return [(Customer._meta.get_field(n).verbose_name, _display(customer, n)) for n in names]


def _owner_rows(user, customer: Customer) -> list[tuple]:
    """The owner as a person, without the facts listed with their sources and without
    what the user may not see."""
    hidden = Customer.hidden_fields_for(user)
    return _rows(customer, [f for f in Customer.BOSS_FIELDS if f not in Customer.VERIFIABLE_FACTS and f not in hidden])


PROFILE_HEADER_FIELDS = {"name", "province", "owner", "tags"}


def _profile_context(request, customer: Customer) -> dict:
    checks = {c.fact: c for c in FactVerification.objects.filter(customer=customer).select_related("verified_by")}
    hidden = Customer.hidden_fields_for(request.user)
    facts = [
        {
            "name": fact,
            "label": Customer._meta.get_field(fact).verbose_name,
            "value": _display(customer, fact),
            "check": checks.get(fact),
        }
        for fact in Customer.VERIFIABLE_FACTS
        if fact not in hidden
    ]
    # Latest reading per species and kind first, older readings as its history.
    livestock: dict[tuple, dict] = {}
    for reading in Livestock.objects.filter(customer=customer).select_related("verified_by"):
        group = livestock.setdefault((reading.species, reading.kind), {"latest": reading, "history": []})
        if group["latest"] is not reading:
            group["history"].append(reading)
    stored = customer.custom_fields or {}
    custom = [(d.label, custom_fields.display_value(d, stored.get(d.key))) for d in custom_fields.active_definitions()]
    return {
        # The header shows name, province, owner and tags; facts with a source have their own list.
        "company_rows": _rows(customer, [f for f in Customer.COMPANY_FIELDS if f not in PROFILE_HEADER_FIELDS]),
        "strength_rows": _rows(customer, [f for f in Customer.STRENGTH_FIELDS if f not in Customer.VERIFIABLE_FACTS]),
        "boss_rows": _owner_rows(request.user, customer),
        "facts": facts,
        "livestock_groups": list(livestock.values()),
        "brands": list(Brand.objects.filter(customer=customer)),
        "tags": list(customer.tags.all()),
        "custom_values": custom,
    }


def _history_value(model, name: str, value) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_history_value(None, '', v)}" for k, v in value.items())
    try:
        field = model._meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _history_context(request, customer: Customer) -> dict:
    events = customer_history(request.user, customer).select_related("actor")
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    custom_labels = dict(CustomField.objects.values_list("key", "label"))
    for event in page:
        model = audit.model_for(event.object_type)
        changes = [
            (
                history_field_label(event.object_type, name, custom_labels),
                _history_value(model, name, pair[0]),
                _history_value(model, name, pair[1]),
            )
            for name, pair in history_changes(request.user, event).items()
        ]
        kind = model._meta.verbose_name if model is not None and model is not Customer else ""
        rows.append({"event": event, "kind": kind, "changes": changes})
    return {"history_page": page, "history_rows": rows}


def _documents_context(request, customer: Customer) -> dict:
    return {"documents": list(QualificationDocument.objects.filter(customer=customer).select_related("verified_by"))}


TAB_CONTEXT = {
    "profile": _profile_context,
    "contacts": lambda request, customer: {"contacts": list(Contact.objects.filter(customer=customer))},
    "relations": lambda request, customer: {
        "relations": list(Relation.objects.visible_to(request.user).filter(customer=customer))
    },
    "documents": _documents_context,
    "plan": lambda request, customer: {
        "action_items": list(ActionItem.objects.filter(customer=customer).select_related("owner"))
    },
    "sales": lambda request, customer: sales_selectors.customer_sales_overview(customer=customer),
    "timeline": lambda request, customer: visits_timeline.customer_timeline_context(request, customer),
    "history": _history_context,
}


@login_required
@require_GET
def customer_detail(request, pk: int):
    customer = get_customer_for_user(request.user, pk)
    tab = request.GET.get("tab", "profile")
    if tab not in TAB_CONTEXT:
        tab = "profile"
    _require_tab(request.user, tab)
    context = {
        "customer": customer,
        "tab": tab,
        "tabs": _tabs_for(request.user),
        "can_verify": can_verify(request.user) and customer.can_edit,
        "can_delete": request.user.is_admin_role,
    }
    # Only the active tab's data is loaded: every tab costs a fixed number of queries.
    context.update(TAB_CONTEXT[tab](request, customer))
    return render(request, f"customers/detail_{tab}.html", context)


# -- Create, edit, delete -------------------------------------------------------------------


def _duplicates_context(user, *, name="", city="", credit_code="", phone="", exclude_pk=None) -> dict:
    found = list(
        services.duplicates_of(
            name=name or "",
            city=city or "",
            credit_code=normalize_credit_code(credit_code or "") or None,
            phone=normalize_mobile(phone or ""),
            exclude_pk=exclude_pk,
        )
    )
    visible = set(Customer.objects.visible_to(user).filter(pk__in=[c.pk for c in found]).values_list("pk", flat=True))
    return {"duplicates": [{"customer": c, "visible": c.pk in visible} for c in found]}


@login_required
@require_GET
def duplicates(request):
    """The warning under the customer form: customers that look like the one being typed.

    Customers the user cannot see are named only by code and owner, so they know whom
    to ask without learning what the archive holds.
    """
    params = {k: request.GET.get(k, "").strip() for k in ("name", "city", "credit_code", "phone")}
    exclude = request.GET.get("exclude", "")
    context = _duplicates_context(request.user, **params, exclude_pk=int(exclude) if exclude.isdigit() else None)
    return render(request, "customers/_duplicates.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    if not request.user.writes_archive:
        raise PermissionDenied
    form = CustomerForm(request.POST if request.method == "POST" else None, user=request.user, instance=Customer())
    duplicates_context = {}
    if form.is_bound:
        if form.is_valid():
            try:
                customer = services.customer_create(
                    actor=request.user,
                    data=form.service_data(),
                    tags=form.cleaned_data["tags"],
                    sources=form.sources(),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
                return redirect(customer)
        duplicates_context = _duplicates_context(
            request.user, **{k: request.POST.get(k, "") for k in ("name", "city", "credit_code", "phone")}
        )
    return render(request, "customers/form.html", {"form": form, "customer": None, **duplicates_context})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = get_customer_for_user(request.user, pk, write=True)
    form = CustomerForm(request.POST if request.method == "POST" else None, user=request.user, instance=customer)
    conflict = None
    if form.is_bound and form.is_valid():
        try:
            services.customer_update(
                actor=request.user,
                customer_id=customer.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"],
                tags=form.cleaned_data["tags"],
                sources=form.sources(),
            )
        except EditConflict as error:
            # Show their version; the editor enters the changes again on top of it.
            conflict = error
            customer = get_customer_for_user(request.user, pk, write=True)
            form = CustomerForm(user=request.user, instance=customer)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": customer, "conflict": conflict})


@login_required
@require_POST
def customer_delete(request, pk: int):
    customer = get_customer_for_user(request.user, pk)
    if not request.user.is_admin_role:
        raise PermissionDenied
    services.customer_delete(actor=request.user, customer=customer)
    messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.name})
    return redirect("customers:list")


@login_required
@require_POST
def fact_verify(request, pk: int, fact: str):
    customer = get_customer_for_user(request.user, pk, write=True)
    if not can_verify(request.user):
        raise PermissionDenied
    try:
        services.fact_verify(actor=request.user, customer=customer, fact=fact)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        label = Customer._meta.get_field(fact).verbose_name
        messages.success(request, _("%(fact)s marked as verified.") % {"fact": label})
    return redirect(f"{_tab_url(customer.pk, 'profile')}#facts")


# -- Objects that belong to a customer ------------------------------------------------------


def _child_for_user(user, customer: Customer, kind: ChildKind, child_pk: int):
    return get_object_or_404(kind.model.objects.visible_to(user).filter(customer=customer), pk=child_pk)


@login_required
@require_http_methods(["GET", "POST"])
def child_edit(request, pk: int, kind: str, child_pk: int | None = None):
    """Create (child_pk None) or edit a contact, relation, document, livestock reading,
    brand or action item of a customer."""
    spec = CHILD_KINDS[kind]
    customer = get_customer_for_user(request.user, pk, write=True)
    _require_tab(request.user, spec.tab)
    obj = spec.model(customer=customer) if child_pk is None else _child_for_user(request.user, customer, spec, child_pk)
    bound = request.method == "POST"
    form = spec.form(request.POST if bound else None, request.FILES if bound else None, instance=obj, user=request.user)
    if bound and form.is_valid():
        obj = form.save(commit=False)
        try:
            services.child_save(actor=request.user, obj=obj)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%(kind)s saved.") % {"kind": spec.model._meta.verbose_name.capitalize()})
            return redirect(_tab_url(customer.pk, spec.tab))
    return render(
        request,
        "customers/child_form.html",
        {
            "form": form,
            "customer": customer,
            "kind": kind,
            "kind_name": spec.model._meta.verbose_name,
            "obj": obj,
            "back_url": _tab_url(customer.pk, spec.tab),
        },
    )


@login_required
@require_POST
def child_delete(request, pk: int, kind: str, child_pk: int):
    spec = CHILD_KINDS[kind]
    customer = get_customer_for_user(request.user, pk, write=True)
    _require_tab(request.user, spec.tab)
    obj = _child_for_user(request.user, customer, spec, child_pk)
    services.child_delete(actor=request.user, obj=obj)
    messages.success(request, _("%(kind)s deleted.") % {"kind": spec.model._meta.verbose_name.capitalize()})
    return redirect(_tab_url(customer.pk, spec.tab))


@login_required
@require_POST
def child_verify(request, pk: int, kind: str, child_pk: int):
    spec = CHILD_KINDS[kind]
    if not spec.verifiable:
        raise Http404
    customer = get_customer_for_user(request.user, pk, write=True)
    if not can_verify(request.user):
        raise PermissionDenied
    obj = _child_for_user(request.user, customer, spec, child_pk)
    services.child_verify(actor=request.user, obj=obj)
    messages.success(request, _("%(object)s marked as verified.") % {"object": obj})
    return redirect(_tab_url(customer.pk, spec.tab))


@login_required
@require_GET
def document_file(request, pk: int, child_pk: int):
    """The scanned document, streamed only to those who see the customer (media is
    never served publicly)."""
    customer = get_customer_for_user(request.user, pk)
    document = _child_for_user(request.user, customer, CHILD_KINDS["document"], child_pk)
    return private_file_response(document.file)


# -- Handover -------------------------------------------------------------------------------


def _may_hand_over(user) -> bool:
    return user.is_admin_role or (user.is_manager and bool(user.team_id))


@login_required
@require_http_methods(["GET", "POST"])
def handover(request):
    if not _may_hand_over(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = HandoverForm(request.POST, user=request.user)
    else:
        form = HandoverForm(initial={"from_user": request.GET.get("from_user")}, user=request.user)
        if request.htmx:
            # The customer checkboxes follow the chosen from-rep.
            return render(request, "customers/_handover_customers.html", {"form": form})
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            handovers = services.customer_handover(
                actor=request.user,
                to_user=data["to_user"],
                reason=data["reason"],
                customer_ids=[c.pk for c in data["customers"]] or None,
                from_user=data["from_user"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            count = sum(h.customer_count for h in handovers)
            message = ngettext(
                "%(count)d customer handed over to %(to)s.", "%(count)d customers handed over to %(to)s.", count
            )
            messages.success(request, message % {"count": count, "to": data["to_user"]})
            return redirect("customers:handover")
    recent = Handover.objects.visible_to(request.user).select_related("from_user", "to_user", "actor")[:20]
    return render(request, "customers/handover.html", {"form": form, "recent": recent})


# -- Custom field definitions (admins) ----------------------------------------------------


def _require_admin(user) -> None:
    if not user.is_admin_role:
        raise PermissionDenied


@login_required
@require_GET
def custom_field_list(request):
    _require_admin(request.user)
    definitions = CustomField.objects.visible_to(request.user)
    return render(request, "customers/custom_fields.html", {"definitions": definitions})


@login_required
@require_http_methods(["GET", "POST"])
def custom_field_edit(request, pk: int | None = None):
    _require_admin(request.user)
    definition = CustomField() if pk is None else get_object_or_404(CustomField.objects.visible_to(request.user), pk=pk)
    form = CustomFieldForm(request.POST if request.method == "POST" else None, instance=definition)
    if form.is_bound and form.is_valid():
        services.custom_field_save(actor=request.user, definition=form.save(commit=False))
        messages.success(request, _("Custom field %(label)s saved.") % {"label": form.instance.label})
        return redirect("customers:custom_fields")
    return render(request, "customers/custom_field_form.html", {"form": form, "definition": definition})
