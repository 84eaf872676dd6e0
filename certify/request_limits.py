"""Bounds on what one request may make the server read (security checklist 21)."""
from flask import Flask, Request, current_app


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


def init_request_limits(app: Flask) -> None:
    app.request_class = BoundedRequest
