"""The API's own description: the OpenAPI document, generated from the routes that serve the API."""
from flask import current_app, jsonify

from certify.api import api
from certify.api.openapi import build_openapi, operation


@api.get("/openapi.json")
@operation(responses={200: "application/json"}, public=True)
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_openapi(current_app)
    return jsonify(document)
