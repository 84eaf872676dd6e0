"""Bounds on what one request may make the server read (security checklist 21), and where an upload is written."""
from flask import Flask, Request, current_app

from certify.storage import document_store


class BoundedRequest(Request):
    """Werkzeug streams multipart bodies and bounds their text fields (MAX_FORM_MEMORY_SIZE, MAX_FORM_PARTS), but
    reads a urlencoded or JSON body whole. Such a body may only be as large as one text field, not as large as an
    upload (MAX_CONTENT_LENGTH): larger ones are refused with 413 before they are read, whichever hook reads first.
    """

    @property
    def max_content_length(self) -> int | None:
        if self.mimetype == "multipart/form-data":
            return super().max_content_length
        return current_app.config["MAX_FORM_MEMORY_SIZE"]

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        """Werkzeug writes each file part of a multipart body here as it parses it: straight into the document
        store's staging area, hashed on the way, instead of into a temporary file the store would copy again."""
        return document_store().staging_file()


def init_request_limits(app: Flask) -> None:
    app.request_class = BoundedRequest
