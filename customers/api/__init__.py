"""The customer archive's REST API: input and output serializers (serializers.py) and
the viewsets (views.py), routed under /api/ by crm/api_urls.py."""
