"""Pages of the sales ledger: products, sales policies, contracts and after-sales
requests (included by sales/urls.py into the "sales" namespace)."""

from django.urls import path

from .views import catalogue as views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_edit, name="product_create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_edit, name="policy_create"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/transition/", views.contract_transition, name="contract_transition"),
    path("contracts/<int:pk>/file/", views.contract_file, name="contract_file"),
    path("contracts/<int:pk>/print/", views.contract_print, name="contract_print"),
    path("after-sales/", views.after_sales_list, name="after_sales_list"),
    path("after-sales/new/", views.after_sales_create, name="after_sales_create"),
    path("after-sales/<int:pk>/edit/", views.after_sales_edit, name="after_sales_edit"),
]
