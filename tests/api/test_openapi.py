"""The OpenAPI document: valid, complete, and true to what the API really answers."""
import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import Applicant, bearer, make_user, token_for
from tests.workers.test_certification_path import approved_batch


@pytest.fixture()
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_api_route_is_in_the_document(app, document):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<int:{name}>", f"{{{name}}}").replace(f"<{name}>", f"{{{name}}}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in document["paths"].get(path, {}), f"{method} {path} is undocumented"


def conforms(document, path, method, status, body):
    """Validates a real response body against the schema the document promises for it."""
    schema = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT202012))
    ref = schema["$ref"].replace("#/", "urn:openapi#/")
    validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status}: {errors[0].message} at {list(errors[0].path)}"


def test_real_responses_conform_to_the_document(client, ctx, worker, document):
    applicant = Applicant(client)
    batch = approved_batch(client, applicant)
    lot_id = batch["inputs"][0]["lot_id"]
    number = batch["certificate_number"]
    make_user("auditor")
    auditor = bearer(token_for(client, "auditor@certify.test"))
    checks = [
        ("/api/v1/me", "get", applicant.get("/api/v1/me")),
        ("/api/v1/feedstock-lots", "get", applicant.get("/api/v1/feedstock-lots")),
        ("/api/v1/feedstock-lots/{lot_id}", "get", applicant.get(f"/api/v1/feedstock-lots/{lot_id}")),
        ("/api/v1/batches", "get", applicant.get("/api/v1/batches")),
        ("/api/v1/batches/{batch_id}", "get", applicant.get(f"/api/v1/batches/{batch['id']}")),
        ("/api/v1/materials", "get", applicant.get("/api/v1/materials")),
        ("/api/v1/facilities", "get", applicant.get("/api/v1/facilities")),
        ("/api/v1/labs", "get", applicant.get("/api/v1/labs")),
        ("/api/v1/certificates", "get", applicant.get("/api/v1/certificates")),
        ("/api/v1/certificates/{number}", "get", applicant.get(f"/api/v1/certificates/{number}")),
        ("/api/v1/audit-events", "get", client.get("/api/v1/audit-events", headers=auditor)),
        ("/api/v1/audit-events/verify", "get", client.get("/api/v1/audit-events/verify", headers=auditor)),
        ("/api/v1/batches/{batch_id}", "get", applicant.get("/api/v1/batches/999999")),
        ("/api/v1/batches", "post", applicant.post("/api/v1/batches", json={"quantity_kg": -1})),
        ("/.well-known/certify-keys.json", "get", client.get("/.well-known/certify-keys.json")),
        ("/healthz", "get", client.get("/healthz")),
    ]
    code = applicant.get(f"/api/v1/certificates/{number}").get_json()["verification_code"]
    checks.append(("/api/v1/public/certificates/{number}", "get",
                   client.get(f"/api/v1/public/certificates/{number}?code={code}")))
    checks.append(("/api/v1/public/verify", "post", client.post(
        "/api/v1/public/verify", json=applicant.get(f"/api/v1/certificates/{number}").get_json())))
    for path, method, response in checks:
        conforms(document, path, method, response.status_code, response.get_json())


def test_the_reference_page_lists_every_operation(client, document):
    page = client.get("/api/docs").get_data(as_text=True)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert f'id="{operation["operationId"]}"' in page
    assert "<script" not in page
