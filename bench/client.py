"""A small HTTP client for the bench's own set-up calls (the load itself comes from wrk): JSON, multipart, and
a browser's sign-in through the real form, so wrk can send the session cookie it ends with."""
import http.client
import json
import re
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from bench.loadgen import USER_AGENT


class HttpError(RuntimeError):
    pass


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """Requests to one base URL, with the User-Agent wrk sends too (the session is bound to it)."""

    def __init__(self, base_url: str, headers: dict | None = None):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 80
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                expect: int | tuple[int, ...] | None = None) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        all_headers = {**self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.getheaders(), raw.read())
        finally:
            connection.close()
        for name, value in response.headers:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        if expect is not None and response.status not in ((expect,) if isinstance(expect, int) else expect):
            raise HttpError(f"{method} {path}: {response.status} (expected {expect}) {response.text[:300]}")
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, data, **kwargs) -> Response:
        return self.request("POST", path, body=json.dumps(data).encode(),
                            headers={"Content-Type": "application/json", **kwargs.pop("headers", {})}, **kwargs)

    def post_form(self, path: str, fields: dict, **kwargs) -> Response:
        return self.request("POST", path, body=urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"}, **kwargs)

    def post_file(self, path: str, fields: dict, filename: str, content: bytes, **kwargs) -> Response:
        boundary = secrets.token_hex(16)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, **kwargs)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    if not match:
        raise HttpError("no CSRF token on the sign-in page")
    return match.group(1) or match.group(2)


def browser_session(base_url: str, email: str, password: str, code_for=None) -> Client:
    """Signs in through /login as a browser does; `code_for()` gives a TOTP code when the form asks for one."""
    browser = Client(base_url)
    page = browser.get("/login", expect=200)
    answer = browser.post_form("/login", {"email": email, "password": password, "csrf_token": csrf_token(page.text)},
                               expect=302)
    if urlsplit(answer.header("Location") or "").path == "/login":  # the second step: a code
        if code_for is None:
            raise HttpError(f"{email} signs in with a code and none can be made")
        page = browser.get("/login", expect=200)
        answer = browser.post_form("/login", {"code": code_for(), "csrf_token": csrf_token(page.text)}, expect=302)
        if urlsplit(answer.header("Location") or "").path == "/login":
            raise HttpError(f"{email}: the code was refused")
    return browser
