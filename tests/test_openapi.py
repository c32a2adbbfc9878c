"""The OpenAPI schema generates cleanly and the API docs work offline."""

import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/auth/token/",
    "/api/customers/",
    "/api/customers/{id}/",
    "/api/customers/{id}/verify/",
    "/api/customers/duplicates/",
    "/api/contacts/",
    "/api/relations/",
    "/api/documents/",
    "/api/documents/{id}/file/",
    "/api/livestock/",
    "/api/custom-fields/",
    "/api/handover/",
    "/api/products/",
    "/api/products/{id}/",
    "/api/policies/",
    "/api/policies/{id}/",
    "/api/contracts/",
    "/api/contracts/{id}/",
    "/api/contracts/{id}/transition/",
    "/api/contracts/{id}/file/",
    "/api/orders/",
    "/api/orders/{id}/",
    "/api/orders/{id}/transition/",
    "/api/payments/",
    "/api/payments/{id}/",
    "/api/allocations/",
    "/api/allocations/{id}/",
    "/api/receivables/",
    "/api/receivables/summary/",
    "/api/after-sales/",
    "/api/after-sales/{id}/",
    "/api/targets/",
    "/api/targets/{id}/",
    "/api/communications/",
    "/api/communications/{id}/",
    "/api/communications/{id}/attachment/",
    "/api/message-templates/",
    "/api/message-templates/{id}/",
    "/api/holidays/",
    "/api/holidays/{id}/",
    "/api/campaigns/",
    "/api/campaigns/{id}/",
    "/api/campaigns/{id}/preview/",
    "/api/campaigns/{id}/send/",
    "/api/care-messages/",
    "/api/care-messages/{id}/",
    "/api/visit-plans/",
    "/api/visit-plans/{id}/",
    "/api/visit-plans/{id}/cancel/",
    "/api/visits/",
    "/api/visits/{id}/",
    "/api/visits/{id}/check-out/",
    "/api/visits/{id}/photos/",
    "/api/visit-photos/",
    "/api/visit-photos/{id}/file/",
    "/api/visit-frequencies/",
    "/api/visit-frequencies/{id}/",
]


def test_schema_generates_without_errors_or_warnings(tmp_path):
    # What CI runs: any warning (an unnamed enum, an untyped field) fails it.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())
    assert "/api/customers/" in out.read_text()


def test_schema_endpoint_serves_every_api_route(rep):
    client = APIClient()
    client.force_authenticate(rep)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["info"]["title"] == "CRM API"
    assert set(ENDPOINTS) <= set(schema["paths"])
    # Writes document the input serializer, reads the output one.
    create = schema["paths"]["/api/customers/"]["post"]
    request_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("/CustomerInputRequest")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/CustomerOutput")


def test_computed_sales_fields_are_not_documented_as_inputs(rep):
    """Prices, amounts and totals are the server's: the request bodies do not offer them
    (sending one is a 400), the responses carry them."""
    client = APIClient()
    client.force_authenticate(rep)
    components = json.loads(client.get("/api/schema/", {"format": "json"}).content)["components"]["schemas"]
    order_input = components["OrderCreateRequest"]["properties"]
    assert {"customer", "order_date", "lines"} <= set(order_input)
    assert not {"total", "paid_amount", "status", "number"} & set(order_input)
    assert set(components["OrderLineInputRequest"]["properties"]) == {"product", "quantity"}
    assert {"total", "outstanding"} <= set(components["OrderOutput"]["properties"])
    assert "unit_price" in components["OrderLineOutput"]["properties"]
    assert "unallocated" not in components["PaymentInputRequest"]["properties"]


def test_schema_and_docs_need_a_signed_in_user(client):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)


def test_docs_work_offline(client, rep):
    client.force_login(rep)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"https?://", html), "the docs page must not load anything from a CDN"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a local static file"


def test_visit_location_is_documented_as_optional(rep):
    """Where a rep was is left out of a visit for those who may not see it: the schema
    must not promise it."""
    client = APIClient()
    client.force_authenticate(rep)
    components = json.loads(client.get("/api/schema/", {"format": "json"}).content)["components"]["schemas"]
    visit = components["VisitOutput"]
    assert {"latitude", "longitude", "accuracy_m", "distance_m"} <= set(visit["properties"])
    assert not {"latitude", "longitude", "accuracy_m", "distance_m"} & set(visit["required"])
    assert "checked_in_at" not in components["CheckInRequest"]["properties"], "check-in time is the server's"
