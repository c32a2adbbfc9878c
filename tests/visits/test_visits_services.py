"""Visit logs: check-in (from a plan or ad hoc, with the location and the distance to the
customer, the first located visit locating the customer), the log with its follow-up
plan, check-out, photos stored resized, and the audit trail that never holds where the
rep was."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from crm.errors import DomainError
from crm.models import AuditEvent
from customers.models import Customer
from tests.factories import ContactFactory
from visits.models import CustomerVisits, Visit, VisitFrequency, VisitPlan
from visits.services import visits as services
from visits.services.visits import Location, distance_m

from .visit_helpers import PlanFactory, VisitFactory, days, jpeg_upload, today

pytestmark = pytest.mark.django_db

# 临沂 city centre and a point about 1.1 km east of it.
LINYI = (Decimal("35.104673"), Decimal("118.356448"))
NEARBY = (Decimal("35.104673"), Decimal("118.368500"))


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path


def test_haversine():
    # One degree of latitude is about 111.2 km everywhere.
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195, abs=5)
    assert distance_m(*LINYI, *NEARBY) == pytest.approx(1097, abs=3)
    assert distance_m(*LINYI, *LINYI) == 0
    # Beijing to Shanghai, about 1067 km.
    assert distance_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_000, rel=0.005)


class TestCheckIn:
    def test_from_a_plan(self, rep, own_customer):
        plan = PlanFactory(customer=own_customer, level="technical")
        visit = services.visit_check_in(actor=rep, plan=plan)
        plan.refresh_from_db()
        assert plan.status == VisitPlan.Status.DONE and visit.plan == plan
        assert (visit.customer, visit.rep, visit.level, visit.visit_date) == (own_customer, rep, "technical", today())
        assert not visit.is_located and visit.checked_out_at is None
        assert AuditEvent.objects.filter(object_type="visit", object_id=visit.pk, action="create").exists()
        assert AuditEvent.objects.filter(object_type="visitplan", object_id=plan.pk, action="update").exists()

    def test_tapping_twice_gives_the_same_visit(self, rep, own_customer):
        plan = PlanFactory(customer=own_customer)
        first = services.visit_check_in(actor=rep, plan=plan)
        assert services.visit_check_in(actor=rep, plan=plan) == first
        ad_hoc = services.visit_check_in(actor=rep, customer=own_customer)
        assert ad_hoc == first  # the open visit at the same customer today
        assert Visit.objects.count() == 1

    def test_ad_hoc_where_a_plan_was_made_for_today_fulfils_it(self, rep, teammate, own_customer):
        own_customer.shares.create(user=teammate)
        theirs = PlanFactory(customer=own_customer, rep=teammate)
        tomorrow = PlanFactory(customer=own_customer, planned_date=days(1))
        mine = PlanFactory(customer=own_customer)
        visit = services.visit_check_in(actor=rep, customer=own_customer, level="technical")
        assert visit.plan == mine and visit.level == "technical"
        statuses = dict(VisitPlan.objects.values_list("pk", "status"))
        assert (statuses[mine.pk], statuses[theirs.pk], statuses[tomorrow.pk]) == ("done", "planned", "planned")

    def test_a_plan_for_a_later_day_waits(self, rep, own_customer):
        plan = PlanFactory(customer=own_customer, planned_date=days(2))
        with pytest.raises(DomainError):
            services.visit_check_in(actor=rep, plan=plan)

    def test_a_missed_plan_can_still_be_logged_but_not_a_cancelled_one(self, rep, own_customer):
        missed = PlanFactory(customer=own_customer, planned_date=days(-1), status="missed")
        assert services.visit_check_in(actor=rep, plan=missed).plan == missed
        cancelled = PlanFactory(customer=own_customer, status="cancelled")
        with pytest.raises(DomainError):
            services.visit_check_in(actor=rep, plan=cancelled)

    def test_finance_and_strangers_cannot(self, finance, outsider, own_customer):
        with pytest.raises(DomainError):
            services.visit_check_in(actor=finance, customer=own_customer)
        with pytest.raises(DomainError) as exc:
            services.visit_check_in(actor=outsider, customer=own_customer)
        assert exc.value.field == "customer"

    def test_the_first_precise_fix_locates_the_customer(self, rep, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer, location=Location(*LINYI, accuracy_m=25))
        own_customer.refresh_from_db()
        assert (own_customer.latitude, own_customer.longitude) == LINYI
        assert visit.distance_m is None  # nothing to measure against before
        event = AuditEvent.objects.get(object_type="customer", customer=own_customer, action="update")
        assert event.changes == {"latitude": [None, "35.104673"], "longitude": [None, "118.356448"]}

    def test_later_visits_measure_the_distance(self, rep, teammate, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(latitude=LINYI[0], longitude=LINYI[1])
        visit = services.visit_check_in(actor=rep, customer=own_customer, location=Location(*NEARBY, accuracy_m=10))
        assert visit.distance_m == pytest.approx(1097, abs=3)
        own_customer.refresh_from_db()
        assert (own_customer.latitude, own_customer.longitude) == LINYI, "a stored location is never moved"

    def test_a_rough_fix_does_not_locate_the_customer(self, rep, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer, location=Location(*NEARBY, accuracy_m=2500))
        own_customer.refresh_from_db()
        assert visit.is_located and own_customer.latitude is None

    def test_the_visit_status_is_refreshed(self, rep, own_customer):
        VisitFrequency.objects.create(customer_type="", interval_days=14)
        services.visit_check_in(actor=rep, customer=own_customer)
        status = CustomerVisits.objects.get(customer=own_customer)
        assert (status.last_visit_date, status.next_due_date) == (today(), days(14))

    def test_the_audit_trail_never_holds_the_location(self, rep, own_customer):
        Customer.objects.filter(pk=own_customer.pk).update(latitude=LINYI[0], longitude=LINYI[1])
        visit = services.visit_check_in(actor=rep, customer=own_customer, location=Location(*NEARBY, accuracy_m=10))
        services.visit_update(actor=rep, visit=visit, summary="聊了库存", check_out=True)
        for event in AuditEvent.objects.filter(object_type="visit"):
            assert not {"latitude", "longitude", "accuracy_m", "distance_m"} & set(event.changes)
            assert "118.3685" not in str(event.changes)


class TestLog:
    def test_next_step_makes_the_follow_up_plan(self, rep, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer, level="leadership")
        contact = ContactFactory(customer=own_customer, name="王老板")
        visit = services.visit_update(
            actor=rep,
            visit=visit,
            contacts=[contact],
            summary="老板有意扩大疫苗采购",
            needs="圆环疫苗",
            problems="上批货破损两箱",
            next_step="带合同草稿再访",
            follow_up_date=days(7),
        )
        plan = VisitPlan.objects.get(follow_up_of=visit)
        assert (plan.customer, plan.rep, plan.planned_date, plan.level) == (own_customer, rep, days(7), "leadership")
        assert plan.purpose == "带合同草稿再访" and plan.status == VisitPlan.Status.PLANNED
        assert list(visit.contacts.all()) == [contact]
        event = AuditEvent.objects.get(object_type="visit", action="update")
        assert event.changes["contacts"] == [[], ["王老板"]]

        # Moving the date moves the open plan; saving again makes no second one.
        services.visit_update(actor=rep, visit=visit, follow_up_date=days(9))
        services.visit_update(actor=rep, visit=visit, summary="补充")
        plan.refresh_from_db()
        assert plan.planned_date == days(9) and VisitPlan.objects.filter(follow_up_of=visit).count() == 1

        # Clearing the date cancels it.
        services.visit_update(actor=rep, visit=visit, follow_up_date=None)
        plan.refresh_from_db()
        assert plan.status == VisitPlan.Status.CANCELLED

    def test_a_manager_correcting_the_log_keeps_the_rep_on_the_follow_up(self, rep, manager, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer)
        services.visit_update(actor=manager, visit=visit, next_step="送样品", follow_up_date=days(3))
        plan = VisitPlan.objects.get(follow_up_of=visit)
        assert plan.rep == rep and plan.assigned_by == manager

    def test_follow_up_date_after_the_visit_and_a_next_step(self, rep, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer)
        with pytest.raises(DomainError) as exc:
            services.visit_update(actor=rep, visit=visit, next_step="再访", follow_up_date=today())
        assert exc.value.field == "follow_up_date"
        with pytest.raises(DomainError) as exc:
            services.visit_update(actor=rep, visit=visit, follow_up_date=days(2))
        assert exc.value.field == "next_step"
        assert not VisitPlan.objects.exists()

    def test_contacts_must_be_the_customers(self, rep, own_customer, team_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer)
        with pytest.raises(DomainError) as exc:
            services.visit_update(actor=rep, visit=visit, contacts=[ContactFactory(customer=team_customer)])
        assert exc.value.field == "contacts"

    def test_check_out_once(self, rep, own_customer):
        visit = services.visit_check_in(actor=rep, customer=own_customer)
        Visit.objects.filter(pk=visit.pk).update(checked_in_at=timezone.now() - datetime.timedelta(minutes=42))
        visit = services.visit_check_out(actor=rep, visit=visit)
        assert visit.duration.total_seconds() == pytest.approx(42 * 60, abs=5)
        first = visit.checked_out_at
        assert services.visit_update(actor=rep, visit=visit, summary="x", check_out=True).checked_out_at == first

    def test_read_only_roles_cannot_write(self, finance, rep, own_customer):
        visit = VisitFactory(customer=own_customer)
        with pytest.raises(DomainError):
            services.visit_update(actor=finance, visit=visit, summary="x")


class TestPhotos:
    def test_stored_upright_resized_as_jpeg_without_metadata(self, rep, own_customer):
        visit = VisitFactory(customer=own_customer)
        # A phone's landscape sensor image of a portrait photo: EXIF orientation 6 (turn 90° clockwise).
        upload = jpeg_upload(3200, 2400, orientation=6, gps=True, name="IMG_0001.jpeg")
        photo = services.visit_photo_add(actor=rep, visit=visit, upload=upload, caption="货架陈列")
        assert (photo.width, photo.height) == (1200, 1600)
        assert photo.image.name.endswith(".jpg") and "IMG_0001" not in photo.image.name
        with Image.open(photo.image.path) as stored:
            assert stored.format == "JPEG" and stored.size == (1200, 1600)
            assert not stored.getexif(), "EXIF (and its GPS tag) is dropped"
            # The white band, on the left of the sensor image, is now along the top.
            assert min(stored.getpixel((600, 50))) > 200 and stored.getpixel((600, 800))[1] < 100
        assert AuditEvent.objects.filter(object_type="visitphoto", customer=own_customer).exists()

    def test_small_photos_keep_their_size(self, rep, own_customer):
        photo = services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=jpeg_upload())
        assert (photo.width, photo.height) == (40, 30)

    def test_a_transparent_png_is_flattened(self, rep, own_customer):
        import io

        from django.core.files.uploadedfile import SimpleUploadedFile

        out = io.BytesIO()
        Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(out, "PNG")
        upload = SimpleUploadedFile("x.png", out.getvalue(), content_type="image/png")
        photo = services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=upload)
        with Image.open(photo.image.path) as stored:
            assert stored.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=2)

    def test_not_an_image(self, rep, own_customer):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo", content_type="image/jpeg")
        with pytest.raises(DomainError) as exc:
            services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=upload)
        assert exc.value.message == services.ERR_PHOTO_NOT_IMAGE

    @override_settings(UPLOAD_MAX_BYTES=100)
    def test_too_large(self, rep, own_customer):
        with pytest.raises(DomainError) as exc:
            services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=jpeg_upload())
        assert str(exc.value.message) == str(services.ERR_PHOTO_TOO_LARGE % {"mb": 0})

    def test_at_most_nine(self, rep, own_customer, monkeypatch):
        monkeypatch.setattr(services, "MAX_PHOTOS", 2)
        visit = VisitFactory(customer=own_customer)
        for _ in range(2):
            services.visit_photo_add(actor=rep, visit=visit, upload=jpeg_upload())
        with pytest.raises(DomainError):
            services.visit_photo_add(actor=rep, visit=visit, upload=jpeg_upload())

    def test_delete_removes_the_file_after_commit(self, rep, own_customer, django_capture_on_commit_callbacks):
        photo = services.visit_photo_add(actor=rep, visit=VisitFactory(customer=own_customer), upload=jpeg_upload())
        path = photo.image.path
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_photo_delete(actor=rep, photo=photo)
        import os

        assert not os.path.exists(path)
        assert AuditEvent.objects.filter(object_type="visitphoto", action="delete").exists()


class TestLocationRetention:
    def test_locations_are_forgotten_after_the_retention_period(self, own_customer, settings):
        settings.VISIT_LOCATION_RETENTION_DAYS = 30
        located = {"latitude": LINYI[0], "longitude": LINYI[1], "accuracy_m": 20, "distance_m": 60}
        old = VisitFactory(customer=own_customer, visit_date=days(-31), **located)
        recent = VisitFactory(customer=own_customer, visit_date=days(-30), **located)

        assert services.visit_locations_expire(today=today()) == 1
        old.refresh_from_db()
        recent.refresh_from_db()
        assert (old.latitude, old.longitude, old.accuracy_m) == (None, None, None)
        assert old.distance_m == 60  # proof of the visit, not of where the rep was
        assert (recent.latitude, recent.longitude) == LINYI
        # Idempotent: a second run finds nothing left to clear.
        assert services.visit_locations_expire(today=today()) == 0
