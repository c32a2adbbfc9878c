"""Pages of visits and customer care, in the "visits" namespace: plans, visits, the
week calendar, today's page and frequency standards (urls_visits); communications,
the customer timeline, templates, holidays and bulk messages (urls_care)."""

from . import urls_care, urls_visits

app_name = "visits"

urlpatterns = [*urls_visits.urlpatterns, *urls_care.urlpatterns]
