"""Bounds on what one request may make the server read (security checklist 21), where an upload is written, and
how a large body is read from the server."""
import io

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


# Werkzeug parses a multipart body 64 KiB at a time, and gunicorn, which takes up to a MiB from the socket at once,
# copies what it holds beyond each read again at every read. Read from the server this much at a time instead, and
# hand werkzeug its 64 KiB from a buffer of our own: a 20 MiB upload cost gunicorn's parser and werkzeug's 57 ms of
# CPU read 64 KiB at a time, 44 ms read so (medians of 7, the body sent by curl over a loopback socket).
LARGE_READ_BYTES = 256 * 1024


class _BodyInput(io.RawIOBase):
    """The server's wsgi.input up to the end of the body (Content-Length), for io.BufferedReader to read
    LARGE_READ_BYTES at a time. Never asks the server for more than what is left of the body: a server may not end
    its input where the body ends (the development server hands the connection's own stream)."""

    def __init__(self, stream, length: int) -> None:
        super().__init__()
        self._stream = stream
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            return 0
        data = self._stream.read(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)


def read_large_bodies_in_large_pieces(wsgi_app):
    """WSGI middleware: a body longer than LARGE_READ_BYTES is read from the server that much at a time."""

    def app(environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > LARGE_READ_BYTES:
            environ["wsgi.input"] = io.BufferedReader(_BodyInput(environ["wsgi.input"], length), LARGE_READ_BYTES)
        return wsgi_app(environ, start_response)

    return app


def init_request_limits(app: Flask) -> None:
    app.request_class = BoundedRequest
    app.wsgi_app = read_large_bodies_in_large_pieces(app.wsgi_app)
