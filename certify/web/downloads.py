"""Serving stored files so that a browser never runs them: attachment, exact type, no sniffing, sandboxed."""
from typing import BinaryIO

from flask import send_file


def file_response(fileobj: BinaryIO, media_type: str, filename: str, *, inline: bool = False):
    """Sends a file; `inline` only for types a browser shows without running anything (PDF viewer, images)."""
    response = send_file(fileobj, mimetype=media_type, as_attachment=not inline, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; frame-ancestors 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attachment_response(fileobj: BinaryIO, media_type: str, filename: str):
    return file_response(fileobj, media_type, filename, inline=False)
