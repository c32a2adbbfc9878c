"""Pages of the sales ledger, in the "sales" namespace: orders and targets
(urls_orders), payments and receivables (urls_finance), and products, policies,
contracts and after-sales (urls_catalogue)."""

from . import urls_catalogue, urls_finance, urls_orders

app_name = "sales"

urlpatterns = [*urls_orders.urlpatterns, *urls_finance.urlpatterns, *urls_catalogue.urlpatterns]
