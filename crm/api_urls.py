"""The REST API under /api/, in the "api" namespace (so `api:customer-list` never
shadows the page `customers:list`). Documentation: /api/docs/ (works offline)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from crm.api import ThrottledObtainAuthToken
from customers.api import views as customers
from sales.api import views as sales
from visits.api import care, visits

app_name = "api"


class Router(DefaultRouter):
    # One URL per endpoint: no ".json" twins to document and secure.
    include_format_suffixes = False


router = Router()
router.register("customers", customers.CustomerViewSet, basename="customer")
router.register("contacts", customers.ContactViewSet, basename="contact")
router.register("relations", customers.RelationViewSet, basename="relation")
router.register("documents", customers.DocumentViewSet, basename="document")
router.register("livestock", customers.LivestockViewSet, basename="livestock")
router.register("custom-fields", customers.CustomFieldViewSet, basename="custom-field")
router.register("handover", customers.HandoverViewSet, basename="handover")
router.register("products", sales.ProductViewSet, basename="product")
router.register("policies", sales.PolicyViewSet, basename="policy")
router.register("contracts", sales.ContractViewSet, basename="contract")
router.register("orders", sales.OrderViewSet, basename="order")
router.register("payments", sales.PaymentViewSet, basename="payment")
router.register("allocations", sales.AllocationViewSet, basename="allocation")
router.register("receivables", sales.ReceivableViewSet, basename="receivable")
router.register("after-sales", sales.AfterSalesViewSet, basename="after-sales")
router.register("targets", sales.TargetViewSet, basename="target")
router.register("visit-plans", visits.VisitPlanViewSet, basename="visit-plan")
router.register("visits", visits.VisitViewSet, basename="visit")
router.register("visit-photos", visits.VisitPhotoViewSet, basename="visit-photo")
router.register("visit-frequencies", visits.VisitFrequencyViewSet, basename="visit-frequency")
router.register("communications", care.CommunicationViewSet, basename="communication")
router.register("message-templates", care.MessageTemplateViewSet, basename="message-template")
router.register("holidays", care.HolidayViewSet, basename="holiday")
router.register("campaigns", care.CampaignViewSet, basename="campaign")
router.register("care-messages", care.CareMessageViewSet, basename="care-message")

urlpatterns = [
    path("auth/token/", ThrottledObtainAuthToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
