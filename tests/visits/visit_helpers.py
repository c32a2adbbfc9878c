"""Shared pieces of the visit tests: plans and visits saved directly (no audit event;
tests of writes go through the services), JPEG uploads, and dates."""

import datetime
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from visits.models import Visit, VisitPlan


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitPlan

    rep = factory.LazyAttribute(lambda plan: plan.customer.owner)
    planned_date = factory.LazyFunction(today)
    purpose = factory.Sequence(lambda n: f"介绍新品{n}")


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    rep = factory.LazyAttribute(lambda visit: visit.customer.owner)
    visit_date = factory.LazyFunction(today)
    checked_in_at = factory.LazyFunction(timezone.now)
    summary = "了解库存"


def jpeg_upload(width=40, height=30, *, orientation: int | None = None, name="photo.jpg", gps=False):
    """A JPEG upload of the given size, with an EXIF orientation (and a GPS tag) if asked."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 30))
    # A white band along the left edge shows which way the picture was turned.
    image.paste((255, 255, 255), (0, 0, max(1, width // 10), height))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (36.0, 0.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")
