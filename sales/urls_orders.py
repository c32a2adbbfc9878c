"""Pages of the sales ledger: orders (included by sales/urls.py)."""

urlpatterns: list = []
