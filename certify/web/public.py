"""Pages and documents anyone may open without signing in."""
import functools

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import get_timezone

from certify.certificate_pdf import GRADE_NAMES, MATERIAL_NAMES
from certify.health import health_report
from certify.services.certificates import find_public, keyring, public_json
from certify.web.fragments import KeptHtml

public = Blueprint("public", __name__)


@public.get("/.well-known/certify-keys.json")
def published_keys():
    """The Ed25519 public keys, current and retired, that certificates are signed with."""
    return jsonify({"keys": keyring().published_keys()})


@public.get("/healthz")
def healthz():
    """Liveness and dependencies: the database and the broker, each probed with a short timeout."""
    body, status = health_report()
    return jsonify(body), status


# The status can change at any moment: never served from a cache, and not for search engines either.
VERIFY_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def render_for_anyone(template: str, **context) -> str:
    """A page rendered from its own context alone, the same for every reader. Flask's render_template first adds
    what the context processors give (the signed-in user above all, loaded from the session for it), which such a
    page never shows: on the page QR codes open, that was a tenth of its cost."""
    return current_app.jinja_env.get_template(template).render(context)


@functools.lru_cache(maxsize=8)
def verify_page_links(script_root: str) -> dict[str, str]:
    """The verify page's links, the same on every certificate's page under one root: built once, not on every
    page (url_for costs as much as a fifth of the page's rendering)."""
    return {"stylesheet": url_for("static", filename="certify.css"), "home": url_for("home.index"),
            "keys": url_for("public.published_keys")}


# Verify pages kept per web process, each about 6 KiB. The status is read on every request and is part of the
# key, like everything else the page shows, so a suspension or revocation shows at once.
KEPT_VERIFY_PAGES = KeptHtml(256)


@public.get("/verify/<number>")
def verify_page(number: str):
    """The page a certificate's QR code opens: its status and public facts in Korean and English, no sign-in.

    An unknown number, a missing code and a wrong code all get the same 404 page, so nobody can tell which
    numbers exist by walking the range (domain.md, Workflow).
    """
    certificate = find_public(number, request.args.get("code"))
    links = verify_page_links(request.script_root)
    if certificate is None:
        return render_for_anyone("public/verify.html", certificate=None, links=links), 404, VERIFY_PAGE_HEADERS
    facts = public_json(certificate)
    # Rendered from the facts, the certificate's times, code and key, and the zone its times are shown in (the
    # links depend on the root alone): a page is kept under all of them, read afresh on this request.
    shown = (tuple(facts.items()), certificate.issued_at, certificate.status_changed_at,
             certificate.verification_code, certificate.key_id, str(get_timezone()), request.script_root)
    return KEPT_VERIFY_PAGES.get(shown, lambda: render_for_anyone(
        "public/verify.html", certificate=certificate, facts=facts, links=links,
        material_names=MATERIAL_NAMES.get(facts["material_code"]),
        grade_names=GRADE_NAMES.get(facts["grade"], (facts["grade"], facts["grade"])))), 200, VERIFY_PAGE_HEADERS
