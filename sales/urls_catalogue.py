"""Pages of the sales ledger: catalogue (included by sales/urls.py)."""

urlpatterns: list = []
