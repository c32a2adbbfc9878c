"""The sales ledger's REST API: input and output serializers (serializers.py) and the
viewsets and their filters (views.py). Routed under /api/ by crm/api_urls.py."""
