"""The browsable API reference: the OpenAPI document rendered as a page, with no scripts or outside assets."""
from flask import Blueprint, current_app, render_template

from certify.api.openapi import build_openapi

apidocs = Blueprint("apidocs", __name__)

METHOD_ORDER = ("get", "post", "patch", "put", "delete")


def schema_name(schema: dict) -> str:
    """A short readable type for a JSON Schema: a model name, `list of X`, `X or null`, a primitive."""
    if not isinstance(schema, dict):  # `true`: anything goes
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(schema_name(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {schema_name(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if "const" in schema:
        return repr(schema["const"])
    if schema.get("type") == "object" and "additionalProperties" in schema:
        return f"map of {schema_name(schema['additionalProperties'])}"
    return schema.get("format") or schema.get("type") or "any"


@apidocs.get("/api/docs")
def reference():
    """Every operation of /api/v1, grouped by area, with its parameters, body and answers."""
    document = current_app.extensions.get("openapi") or build_openapi(current_app)
    current_app.extensions["openapi"] = document
    groups: dict[str, list] = {}
    for path, operations in sorted(document["paths"].items()):
        for method in sorted(operations, key=METHOD_ORDER.index):
            operation = operations[method]
            groups.setdefault(operation["tags"][0], []).append((method, path, operation))
    return render_template("apidocs/reference.html", groups=groups, schemas=document["components"]["schemas"],
                           info=document["info"], schema_name=schema_name)
