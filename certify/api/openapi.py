"""The OpenAPI 3.1 document of /api/v1, built from the routes, the request models the views parse and the
response models they are documented with, so the document cannot drift from the code that serves it."""
import re

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from certify.api.responses import Error, Health, PublishedKeys
from certify.routing import DatabaseIdConverter

ERROR_STATUSES = {400: "Malformed request (e.g. invalid JSON)", 401: "No valid Bearer token",
                  403: "This role may not do this", 404: "Not found (or another company's)",
                  409: "Conflicts with the current state", 413: "Too large", 415: "Type not accepted",
                  422: "Invalid data; `fields` says which", 429: "Too many requests"}
SUCCESS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}


def operation(*, responses: dict[int, type[BaseModel] | str | tuple[str, ...] | None], body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, multipart: dict[str, str] | None = None,
              public: bool = False, errors: tuple[int, ...] = (), headers: dict[str, str] | None = None):
    """Documents an API view: its success responses (a model, a media type string, or None for no body),
    the body and query models it parses, and the error statuses it can answer besides the usual ones."""

    def decorator(view):
        view.openapi = {"responses": responses, "body": body, "query": query, "multipart": multipart,
                        "public": public, "errors": errors, "headers": headers or {}}
        return view

    return decorator


# The two routes outside /api/v1 that clients rely on (api.md, Certificates and Operations).
OPERATIONS_PATHS = {
    "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness: the database and the broker",
                         "tags": ["operations"], "security": [], "responses": {
                             "200": {"description": "OK", "content": {"application/json": {
                                 "schema": {"$ref": "#/components/schemas/Health"}}}},
                             "503": {"description": "The database is down", "content": {"application/json": {
                                 "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
    "/.well-known/certify-keys.json": {"get": {
        "operationId": "published_keys", "summary": "The Ed25519 public keys certificates are signed with",
        "tags": ["certificates"], "security": [], "responses": {"200": {"description": "OK", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PublishedKeys"}}}}}}},
}


def _path_and_parameters(rule) -> tuple[str, list[dict]]:

    parameters = []
    for name, converter in rule._converters.items():
        schema = ({"type": "integer", "minimum": 1, "maximum": DatabaseIdConverter.max}
                  if isinstance(converter, DatabaseIdConverter) else {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), parameters


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema["properties"].items()]


def build_openapi(app: Flask) -> dict:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    docs = {rule.endpoint: app.view_functions[rule.endpoint].openapi for rule in rules}
    models = {Error, Health, PublishedKeys}
    for doc in docs.values():
        models.update(m for m in doc["responses"].values() if isinstance(m, type))
        models.update(m for m in (doc["body"], doc["query"]) if m is not None)
    _, definitions = models_json_schema([(m, "validation" if m is docs_request_model(docs, m) else "serialization")
                                         for m in sorted(models, key=lambda m: m.__name__)],
                                        ref_template="#/components/schemas/{model}")
    schemas = definitions.get("$defs", {})
    paths: dict = {}
    for rule in sorted(rules, key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc = view.openapi
        path, parameters = _path_and_parameters(rule)
        if doc["query"] is not None:
            parameters += _query_parameters(doc["query"], schemas)
        for name, description in doc["headers"].items():
            parameters.append({"name": name, "in": "header", "required": False, "description": description,
                               "schema": {"type": "string", "maxLength": 255}})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            summary, _, description = (view.__doc__ or "").strip().partition("\n")
            op = {"operationId": rule.endpoint.split(".", 1)[1] + ("" if method in ("GET", "POST") else
                                                                  f"_{method.lower()}"),
                  "summary": summary.strip(), "tags": [rule.rule.split("/")[3] if rule.rule.startswith(
                      "/api/v1/") else "operations"], "responses": {}}
            if description.strip():
                op["description"] = description.strip()
            if parameters:
                op["parameters"] = parameters
            if doc["body"] is not None:
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{doc['body'].__name__}"}}}}
            if doc["multipart"]:
                op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": list(doc["multipart"]),
                    "properties": {name: ({"type": "string", "format": "binary"} if kind == "binary"
                                          else {"type": "string", "enum": kind.split("|")})
                                   for name, kind in doc["multipart"].items()}}}}}
            if doc["public"]:
                op["security"] = []
            for status, model in doc["responses"].items():
                response = {"description": SUCCESS_TEXT.get(status, "OK")}
                if isinstance(model, type):
                    response["content"] = {"application/json": {
                        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
                elif isinstance(model, (str, tuple)):
                    response["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}
                                           for media_type in ((model,) if isinstance(model, str) else model)}
                op["responses"][str(status)] = response
            statuses = set(doc["errors"]) | {429} if rule.endpoint == "api.create_token" else set(doc["errors"])
            if not doc["public"]:
                statuses |= {401, 403}
            if doc["body"] is not None or doc["multipart"]:
                statuses |= {400, 422}
            if doc["query"] is not None:
                statuses |= {422}
            if parameters and any(p["in"] == "path" for p in parameters):
                statuses |= {404}
            for status in sorted(statuses):
                op["responses"][str(status)] = {"description": ERROR_STATUSES[status], "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            paths.setdefault(path, {})[method.lower()] = op
    paths.update(OPERATIONS_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "certify API", "version": "1",
                 "description": "Production certification of recycled battery materials. Numbers are exact "
                                "decimals served as JSON numbers of at most 4 places; masses in kg, shares in %, "
                                "impurities in ppm."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/tokens"}}},
    }


def docs_request_model(docs: dict, model: type[BaseModel]) -> type[BaseModel] | None:
    """Request models are described as what they accept, response models as what they produce."""
    return model if any(model in (doc["body"], doc["query"]) for doc in docs.values()) else None
