"""Visit logs: checking in (from a plan or ad hoc), filling in the log, checking out,
the follow-up plan a visit's agreed next step creates, and photos.

Check-in time is the server's clock, never the client's, and the location is taken only
at check-in (the browser asks the rep's permission first): where the rep was is kept on
the visit and is shown only where `Visit.location_visible_to` allows. It is therefore
left out of the audit trail, which everyone who sees the customer reads. The first
visit located precisely enough gives a customer without a location its location.
"""

import datetime
import io
import math
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crm import audit
from crm.errors import DomainError
from crm.models import AuditEvent, User
from customers.models import Contact, Customer

from ..models import Visit, VisitLevel, VisitPhoto, VisitPlan
from . import cadence, plans

ERR_PLAN_CLOSED = gettext_lazy("This plan is %(status)s; a visit can no longer be logged from it.")
ERR_PLAN_FUTURE = gettext_lazy("This plan is for %(date)s; check in on the day.")
ERR_CONTACTS = gettext_lazy("The contacts met must be contacts of this customer.")
ERR_FOLLOW_UP_DATE = gettext_lazy("The follow-up date must be after the visit.")
ERR_NEXT_STEP_NEEDED = gettext_lazy("Say what the next step is: the follow-up plan is made from it.")
ERR_LOCATION = gettext_lazy("The location is not a valid position.")
ERR_PHOTO_NOT_IMAGE = gettext_lazy("This file is not a photo (JPEG, PNG or WebP).")
ERR_PHOTO_TOO_LARGE = gettext_lazy("The photo is too large (at most %(mb)d MB).")
ERR_PHOTO_PIXELS = gettext_lazy("The photo has too many pixels.")
ERR_TOO_MANY_PHOTOS = gettext_lazy("A visit holds at most %(count)d photos.")

# Photos are stored as JPEGs no larger than this on their longer side.
PHOTO_MAX_SIDE = 1600
PHOTO_QUALITY = 85
PHOTO_MAX_PIXELS = 60_000_000  # refused before decoding: a decompression bomb stops here
MAX_PHOTOS = 9
# A check-in gives the customer its location only when the fix is at least this precise.
LOCATE_CUSTOMER_MAX_ACCURACY_M = 200
EARTH_RADIUS_M = 6_371_008.8
SIX_PLACES = Decimal("0.000001")

# Fields of a visit the audit trail records: not where the rep was.
AUDITED_FIELDS = [
    "customer",
    "rep",
    "plan",
    "level",
    "visit_date",
    "checked_in_at",
    "checked_out_at",
    "summary",
    "needs",
    "problems",
    "next_step",
    "follow_up_date",
]


@dataclass(frozen=True)
class Location:
    """A position from the browser's Geolocation API (WGS-84)."""

    latitude: Decimal
    longitude: Decimal
    accuracy_m: int | None = None

    def __post_init__(self):
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise DomainError(ERR_LOCATION, field="latitude")
        if self.accuracy_m is not None and self.accuracy_m < 0:
            raise DomainError(ERR_LOCATION, field="accuracy_m")


def distance_m(lat1, lon1, lat2, lon2) -> int:
    """The great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlambda = math.radians(float(lon2) - float(lon1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))))


def _six(value) -> Decimal:
    return Decimal(str(value)).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


def _snapshot(visit: Visit) -> dict:
    values = audit.snapshot(visit, AUDITED_FIELDS)
    if visit.pk:
        values["contacts"] = sorted(str(c) for c in visit.contacts.all())
    return values


def _record(actor, action, visit: Visit, before: dict, reason: str = ""):
    return audit.record(
        actor=actor,
        action=action,
        obj=visit,
        customer_id=visit.customer_id,
        changes=audit.diff(before, _snapshot(visit)),
        reason=reason,
    )


def _check_writer(actor: User, customer: Customer) -> None:
    if not actor.writes_archive:
        raise DomainError(plans.ERR_WRITER_ROLE)
    if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise DomainError(plans.ERR_CUSTOMER, field="customer")
    if not Customer.objects.editable_by(actor).filter(pk=customer.pk).exists():
        raise DomainError(plans.ERR_CUSTOMER_NOT_EDITABLE, field="customer")


# -- Check-in ------------------------------------------------------------------------------


def visit_check_in(
    *,
    actor: User,
    customer: Customer | None = None,
    plan: VisitPlan | None = None,
    level: str | None = None,
    location: Location | None = None,
) -> Visit:
    """Start a visit now: from a plan (its customer and level, and the plan becomes done)
    or ad hoc at `customer` (which fulfils the actor's open plan there today, if any).
    Tapping twice gives the same visit: a plan already checked in by the actor, or the
    actor's open visit at the customer today, is returned as is.
    """
    now = timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        if plan is not None:
            plan = VisitPlan.objects.select_for_update().select_related("customer").get(pk=plan.pk)
            customer = plan.customer
        _check_writer(actor, customer)
        if plan is not None:
            existing = Visit.objects.filter(plan=plan, rep=actor, checked_out_at__isnull=True).first()
            if existing is not None:
                return existing
            if plan.status not in (VisitPlan.Status.PLANNED, VisitPlan.Status.MISSED):
                raise DomainError(ERR_PLAN_CLOSED % {"status": plan.get_status_display()})
            if plan.planned_date > today:
                raise DomainError(ERR_PLAN_FUTURE % {"date": plan.planned_date.isoformat()})
        else:
            existing = Visit.objects.filter(
                customer=customer, rep=actor, visit_date=today, checked_out_at__isnull=True
            ).first()
            if existing is not None:
                return existing
            # Checking in where the actor planned to be today fulfils that plan.
            plan = (
                VisitPlan.objects.select_for_update()
                .filter(customer=customer, rep=actor, planned_date=today, status=VisitPlan.Status.PLANNED)
                .order_by("planned_time", "id")
                .first()
            )
        # Locks the customer row: two first check-ins cannot both set its location.
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        visit = Visit(
            customer=customer,
            rep=actor,
            plan=plan,
            level=level or (plan.level if plan is not None else VisitLevel.BUSINESS),
            visit_date=today,
            checked_in_at=now,
        )
        if location is not None:
            visit.latitude, visit.longitude = _six(location.latitude), _six(location.longitude)
            visit.accuracy_m = location.accuracy_m
            if customer.latitude is not None and customer.longitude is not None:
                visit.distance_m = distance_m(visit.latitude, visit.longitude, customer.latitude, customer.longitude)
        visit.save()
        _record(actor, AuditEvent.Action.CREATE, visit, {})
        if plan is not None:
            before = audit.snapshot(plan)
            plan.status = VisitPlan.Status.DONE
            plan.save(update_fields=["status", "updated_at"])
            plans._record(actor, AuditEvent.Action.UPDATE, plan, before)
        if location is not None and customer.latitude is None and _precise(location):
            _locate_customer(actor=actor, customer=customer, visit=visit)
        cadence.refresh(today=today, customer_ids=[customer.pk])
    return visit


def _precise(location: Location) -> bool:
    return location.accuracy_m is not None and location.accuracy_m <= LOCATE_CUSTOMER_MAX_ACCURACY_M


def _locate_customer(*, actor: User, customer: Customer, visit: Visit) -> None:
    """The first located visit tags the customer's location (as field-sales apps do).
    The archive's version is left alone: nobody edits the location in the archive form,
    so an open form is not made stale by it."""
    Customer.objects.filter(pk=customer.pk, latitude__isnull=True).update(
        latitude=visit.latitude, longitude=visit.longitude, updated_at=timezone.now()
    )
    audit.record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=customer,
        customer_id=customer.pk,
        changes={
            "latitude": [None, audit._plain(visit.latitude)],
            "longitude": [None, audit._plain(visit.longitude)],
        },
        reason=str(gettext_lazy("Located at the first visit checked in there.")),
    )
    customer.latitude, customer.longitude = visit.latitude, visit.longitude


# -- The log and check-out -------------------------------------------------------------------

LOG_FIELDS = ("level", "summary", "needs", "problems", "next_step", "follow_up_date")


def visit_update(
    *,
    actor: User,
    visit: Visit,
    contacts: list[Contact] | None = None,
    check_out: bool = False,
    **log,
) -> Visit:
    """Fill in or correct the log (LOG_FIELDS and the contacts met), and with
    `check_out` end the visit now (once: a later save keeps the first check-out time).

    An agreed next step with a follow-up date makes the follow-up plan (for the visit's
    rep, on that date); changing them moves it while it is open, clearing the date
    cancels it.
    """
    unknown = set(log) - set(LOG_FIELDS)
    if unknown:
        raise TypeError(f"visit_update() got unexpected fields {sorted(unknown)}")
    with transaction.atomic():
        current = (
            Visit.objects.select_for_update(of=("self",)).select_related("customer", "rep", "plan").get(pk=visit.pk)
        )
        _check_writer(actor, current.customer)
        before = _snapshot(current)
        for field, value in log.items():
            setattr(current, field, value.strip() if isinstance(value, str) else value)
        if current.follow_up_date is not None:
            if current.follow_up_date <= current.visit_date:
                raise DomainError(ERR_FOLLOW_UP_DATE, field="follow_up_date")
            if not current.next_step:
                raise DomainError(ERR_NEXT_STEP_NEEDED, field="next_step")
        if contacts is not None:
            if any(contact.customer_id != current.customer_id for contact in contacts):
                raise DomainError(ERR_CONTACTS, field="contacts")
            current.contacts.set(contacts)
        if check_out and current.checked_out_at is None:
            current.checked_out_at = max(timezone.now(), current.checked_in_at)
        current.save()
        _record(actor, AuditEvent.Action.UPDATE, current, before)
        _follow_up(actor=actor, visit=current)
    return current


def visit_check_out(*, actor: User, visit: Visit) -> Visit:
    return visit_update(actor=actor, visit=visit, check_out=True)


FOLLOW_UP_CANCELLED = "the follow-up date was removed from the visit"


def _follow_up(*, actor: User, visit: Visit) -> VisitPlan | None:
    """Keep the visit's open follow-up plan in step with its next step and date."""
    plan = visit.follow_ups.select_for_update().filter(status=VisitPlan.Status.PLANNED).first()
    if visit.follow_up_date is None:
        if plan is not None:
            plans.plan_cancel(actor=actor, plan=plan, reason=FOLLOW_UP_CANCELLED)
        return None
    purpose = visit.next_step[:200]
    if plan is None:
        if visit.follow_ups.filter(planned_date=visit.follow_up_date).exists():
            return None  # done or cancelled already: not made again by a later save
        return _create_follow_up(actor=actor, visit=visit, purpose=purpose)
    if (plan.planned_date, plan.purpose) != (visit.follow_up_date, purpose):
        before = audit.snapshot(plan)
        plan.planned_date, plan.purpose = visit.follow_up_date, purpose
        plan.save(update_fields=["planned_date", "purpose", "updated_at"])
        plans._record(actor, AuditEvent.Action.UPDATE, plan, before)
    return plan


def _create_follow_up(*, actor: User, visit: Visit, purpose: str) -> VisitPlan:
    # The visit's rep follows up; whoever saves the log (the rep, or their manager
    # correcting it) is recorded as the plan's author.
    plan = VisitPlan.objects.create(
        customer=visit.customer,
        rep=visit.rep,
        planned_date=visit.follow_up_date,
        level=visit.level,
        purpose=purpose,
        follow_up_of=visit,
        assigned_by=actor if actor.pk != visit.rep_id else None,
    )
    plans._record(actor, AuditEvent.Action.CREATE, plan, {})
    return plan


# -- Photos ------------------------------------------------------------------------------------


def resized_jpeg(upload) -> ContentFile:
    """The upload as a JPEG of at most PHOTO_MAX_SIDE pixels on its longer side, turned
    upright as its EXIF orientation says, with its metadata (and any GPS tag) dropped."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if getattr(upload, "size", 0) > settings.UPLOAD_MAX_BYTES:
        raise DomainError(ERR_PHOTO_TOO_LARGE % {"mb": settings.UPLOAD_MAX_BYTES // 2**20}, field="image")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise DomainError(ERR_PHOTO_PIXELS, field="image")
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
            if image.mode != "RGB":
                image = _flatten(image)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DomainError(ERR_PHOTO_NOT_IMAGE, field="image") from None
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def _flatten(image):
    """RGB on white: a transparent PNG would turn black as a JPEG."""
    from PIL import Image

    image = image.convert("RGBA")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def visit_photo_add(*, actor: User, visit: Visit, upload, caption: str = "") -> VisitPhoto:
    """Store a photo of the visit, resized."""
    content = resized_jpeg(upload)
    with transaction.atomic():
        current = Visit.objects.select_for_update().select_related("customer").get(pk=visit.pk)
        _check_writer(actor, current.customer)
        if current.photos.count() >= MAX_PHOTOS:
            raise DomainError(ERR_TOO_MANY_PHOTOS % {"count": MAX_PHOTOS}, field="image")
        photo = VisitPhoto(visit=current, caption=caption.strip()[:200])
        photo.image.save(content.name, content, save=False)
        photo.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=photo,
            customer_id=current.customer_id,
            changes=audit.diff({}, {"visit": str(current), "caption": photo.caption or None}),
        )
    return photo


def visit_photo_delete(*, actor: User, photo: VisitPhoto) -> None:
    with transaction.atomic():
        visit = Visit.objects.select_related("customer").get(pk=photo.visit_id)
        _check_writer(actor, visit.customer)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=photo,
            customer_id=visit.customer_id,
            changes={"visit": [str(visit), None], **({"caption": [photo.caption, None]} if photo.caption else {})},
        )
        storage, name = photo.image.storage, photo.image.name
        photo.delete()
        # The file goes only once the row is gone for good.
        transaction.on_commit(lambda: storage.delete(name))


# -- Retention ---------------------------------------------------------------------------------


def visit_locations_expire(*, today: datetime.date) -> int:
    """Forget where reps checked in once VISIT_LOCATION_RETENTION_DAYS have passed (PIPL
    art. 19 and 47: whereabouts are kept no longer than their purpose, checking that a
    visit took place, needs). The distance to the customer stays: it proves the visit
    without saying where the rep was. Set-based and idempotent; returns the visits
    cleared."""
    cutoff = today - datetime.timedelta(days=settings.VISIT_LOCATION_RETENTION_DAYS)
    return Visit.objects.filter(visit_date__lt=cutoff, latitude__isnull=False).update(
        latitude=None, longitude=None, accuracy_m=None
    )
