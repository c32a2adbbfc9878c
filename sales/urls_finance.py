"""Pages of the sales ledger: finance (included by sales/urls.py)."""

urlpatterns: list = []
