"""Pages of the sales ledger: finance (included by sales/urls.py)."""

from django.urls import path

from .views import exports, finance

urlpatterns = [
    path("payments/", finance.payment_list, name="payment_list"),
    path("payments/export/", exports.payment_export, name="payment_export"),
    path("payments/new/", finance.payment_create, name="payment_create"),
    path("payments/new/customers/", finance.payment_customer_options, name="payment_customer_options"),
    path("payments/new/open-orders/", finance.payment_open_orders, name="payment_open_orders"),
    path("payments/<int:pk>/", finance.payment_detail, name="payment_detail"),
    path("receivables/", finance.receivables_page, name="receivables"),
    path("receivables/export/", exports.receivables_export, name="receivables_export"),
]
