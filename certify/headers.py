"""Security headers on every response (security checklist 19, 20, 27)."""
from flask import Flask, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                           "form-action 'self'; img-src 'self' data:")


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Our own pages learn where a visitor came from (the language switch returns there); nobody else does.
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user and current_user.is_authenticated and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response
