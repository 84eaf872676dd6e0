"""HTML rendered once for what it shows and kept: the rows of list pages, and (KeptHtml) widgets and pages.

A 50-row table costs more to render than the rest of its page together: hundreds of values, each formatted and
escaped. The same rows are asked for again and again (every reviewer reloads the head of the queue, every
auditor opens the certificate register at its newest page), so their HTML is kept, per process, under a key of
everything it is rendered from: the rows' values as read from the database on this request, the reader's
language and time zone, and the root the links start from. A changed row renders anew; nothing is ever stale.

A fragment must show only what its arguments hold, never who reads it (no user, no CSRF token): readers of the
same rows share it. It is rendered from its arguments and the app's template globals, without the context
processors that give page templates the signed-in user.
"""
import functools
import threading
from collections.abc import Callable, Hashable

from flask import current_app, request
from flask_babel import get_timezone
from markupsafe import Markup

from certify.web.formatting import reader_language

# Per process. A 50-row table is 15 to 30 KiB of HTML, so at most a few MiB for each web worker.
FRAGMENTS_KEPT = 128


def rendered_fragment(template: str, **values) -> Markup:
    """`template` rendered with `values`, each of them hashable (tuples of rows, not lists)."""
    return _rendered(template, tuple(sorted(values.items())), reader_language(), str(get_timezone()),
                     request.script_root)


@functools.lru_cache(maxsize=FRAGMENTS_KEPT)
def _rendered(template: str, values: tuple, language: str, zone: str, script_root: str) -> Markup:
    # language, zone and script_root are the request's own: they are in the key, not passed on.
    html = current_app.jinja_env.get_template(template).render(dict(values))
    return Markup(html)  # nosec B704 - a template of ours, autoescaped


def kept_fragments() -> int:
    return _rendered.cache_info().currsize


def forget_fragments() -> None:
    """Drops every kept fragment (tests start from none)."""
    _rendered.cache_clear()


class KeptHtml:
    """HTML kept per process under a key of everything it was rendered from, at most `size` pieces (the oldest
    kept goes first). For what is rendered from more than a fragment's template values (a widget, a whole page)."""

    def __init__(self, size: int):
        self.size = size
        self._kept: dict[Hashable, str] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> str:
        """What render() gives, kept under `key`: rendered only when nothing is kept under it."""
        try:
            html = self._kept.get(key)
        except TypeError:  # a value that cannot be part of a key: rendered, not kept
            return render()
        if html is None:
            html = render()
            with self._lock:
                if len(self._kept) >= self.size:
                    del self._kept[next(iter(self._kept))]
                self._kept[key] = html
        return html

    def __len__(self) -> int:
        return len(self._kept)

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()
