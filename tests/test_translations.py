"""Korean everywhere a person reads: every message in the code and templates has a Korean translation."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None,
            "translate": None}
METHODS = [("certify/**.py", "python"), ("templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)[^}]*\}")


def source_messages() -> dict[str, str]:
    """Every translatable string in the code and templates, with where it was found."""
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            PROJECT, METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}}):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural is known by its singular
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def korean_catalogues():
    for path in sorted(PROJECT.glob("certify/translations/*/ko/LC_MESSAGES/messages.po")):
        with open(path, "rb") as handle:
            yield path, read_po(handle, locale="ko")


def test_every_message_has_a_korean_translation():
    translated = set()
    for _path, catalogue in korean_catalogues():
        translated |= {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue
                       if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else (m.string,))}
    missing = {msgid: where for msgid, where in source_messages().items() if msgid not in translated}
    assert not missing, "untranslated:\n" + "\n".join(f"  {where}: {msgid!r}" for msgid, where in
                                                        sorted(missing.items(), key=lambda item: item[1]))


def test_translations_keep_every_placeholder():
    problems = []
    for path, catalogue in korean_catalogues():
        for message in catalogue:
            if not message.id or not message.string or isinstance(message.id, tuple):
                continue
            wanted = {a or b for a, b in PLACEHOLDER.findall(message.id)}
            got = {a or b for a, b in PLACEHOLDER.findall(message.string)}
            if wanted != got:
                problems.append(f"{path.parent.parent.parent.name}: {message.id!r} → {message.string!r}")
    assert not problems, "\n".join(problems)


def test_pages_render_in_korean_by_default_and_in_english_on_request(app):
    client = app.test_client()
    korean = client.get("/login", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert '<html lang="ko">' in korean and "로그인" in korean
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Sign in" in english
    default = client.get("/login", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert '<html lang="ko">' in default
