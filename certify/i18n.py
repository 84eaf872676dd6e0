"""Korean and English: which language a request is answered in, and the switch between them."""
from pathlib import Path

from babel.support import Translations
from flask import Flask, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, LazyString, get_locale, get_translations, gettext
from flask_login import current_user
from markupsafe import Markup

SUPPORTED_LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}


def catalogue_directories(root: str) -> list[str]:
    return sorted(str(path) for path in Path(root, "translations").iterdir() if path.is_dir())


def select_locale() -> str:
    """The user's saved choice, else this browser's choice, else Accept-Language, else Korean.

    API clients that name no language get English: scripts abroad read the API, people read the pages.
    Outside a request (the CLI, the worker) the service speaks its default language.
    """
    if not has_request_context():
        return DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    if session.get("locale") in SUPPORTED_LOCALES:
        return session["locale"]
    default = "en" if request.path.startswith("/api/") else DEFAULT_LOCALE
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or default


def init_i18n(app: Flask, babel: Babel) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Seoul")
    # One catalogue per area of the app (core, applicant, review, ...): Flask-Babel merges them all.
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(catalogue_directories(app.root_path))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: request_translations().ugettext(message),
        ngettext=lambda singular, plural, n: request_translations().ungettext(singular, plural, n),
        pgettext=lambda context, message: request_translations().upgettext(context, message),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(context, singular, plural, n),
        newstyle=True)
    app.jinja_env.globals["get_locale"] = get_locale

    app.add_template_filter(status_label, "status_label")
    app.add_template_global(status_badge)

    @app.context_processor
    def language_choices():
        return {"language_names": LANGUAGE_NAMES, "role_names": ROLE_NAMES}


def request_translations() -> Translations:
    """The request's catalogue, found once per request for the templates.

    Flask-Babel's template gettext finds it anew for every string (through `g` three times); a page has dozens
    of strings and a list page one or two per row. Like Flask-Babel's own choice of locale, it is fixed for the
    request: nothing here switches language within one.
    """
    if not has_app_context():
        return get_translations()
    translations = g.get("_certify_translations")
    if translations is None:
        translations = g._certify_translations = get_translations()
    return translations


def translated(message: str, **variables) -> str:
    """Flask-Babel's gettext, through the catalogue found once per request."""
    text = request_translations().ugettext(message)
    return text % variables if variables else text


def lazy_gettext(message: str, **variables) -> LazyString:
    """Flask-Babel's lazy_gettext, through the catalogue found once per request: labels are read on every row of
    a list page, and looking the catalogue up for each was a fifth of such a page."""
    return LazyString(translated, message, **variables)


_l = lazy_gettext

ROLE_NAMES = {"applicant": _l("applicant"), "reviewer": _l("reviewer"), "auditor": _l("auditor"),
              "admin": _l("admin")}
# Batch and certificate statuses as people read them; the badges everywhere show these.
STATUS_LABELS = {
    "draft": _l("draft"), "checking": _l("checking"), "checks_failed": _l("checks failed"),
    "awaiting_review": _l("awaiting review"), "approved": _l("approved"), "rejected": _l("rejected"),
    "changes_requested": _l("changes requested"), "valid": _l("valid"), "suspended": _l("suspended"),
    "revoked": _l("revoked"), "pass": _l("passed"), "warn": _l("warning"), "fail": _l("failed"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status.replace("_", " ")))


def status_badge(status: str) -> Markup:
    """A status as its badge: a function, not a Jinja macro, since list pages draw one on every row."""
    return Markup('<span class="badge status-{}">{}</span>').format(status, status_label(status))


def translate(message: str, **values) -> str:
    """gettext where an app is at hand; the English source, filled in, where none is (pure validation)."""
    return gettext(message, **values) if has_app_context() else message % values if values else message
