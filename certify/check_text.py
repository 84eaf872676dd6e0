"""Check results in the reader's language: the domain's English templates, translated, filled with the stored values."""
from flask_babel import gettext

from certify.domain.checks import FIXES, MESSAGES
from certify.models import CheckResult


def _translated(templates: dict[str, str], key: str, params: dict, stored: str | None) -> str | None:
    template = templates.get(key)
    if template is None or stored is None:
        return stored  # a result recorded under a key this version no longer has keeps its stored wording
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder must not break the page
        return stored


def check_message(result: CheckResult) -> str:
    return _translated(MESSAGES, result.message_key, result.params or {}, result.message)


def check_fix(result: CheckResult) -> str | None:
    return _translated(FIXES, result.message_key, result.params or {}, result.fix)
