"""Pages of the sales ledger: orders and targets (included by sales/urls.py)."""

from django.urls import path

from .views import exports, orders

urlpatterns = [
    path("orders/", orders.order_list, name="order_list"),
    path("orders/export/", exports.order_export, name="order_export"),
    path("orders/new/", orders.order_create, name="order_create"),
    path("orders/price-preview/", orders.order_price_preview, name="order_price_preview"),
    path("orders/line-form/", orders.order_line_form, name="order_line_form"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", orders.order_edit, name="order_edit"),
    path("orders/<int:pk>/transition/", orders.order_transition, name="order_transition"),
    path("targets/", orders.target_list, name="target_list"),
    path("targets/<int:rep_id>/<int:year>-<int:month>/", orders.target_edit, name="target_edit"),
]
