"""URL converters shared by every blueprint, and links to many rows of one route."""
from typing import Callable

from flask import url_for
from werkzeug.routing import BaseConverter


class DatabaseIdConverter(BaseConverter):
    """`<int:...>` in every route: matches only ids an integer column can hold (1 to 2**31 − 1).

    The range is in the pattern itself, so any other number matches no route and is a plain 404.
    """

    regex = (r"(?:[1-9]\d{0,8}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")
    weight = 50
    part_isolating = True
    max = 2**31 - 1

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def id_links(endpoint: str, id_argument: str) -> Callable[[int], str]:
    """url_for(endpoint, **{id_argument: id}) for every row of a list page, at the cost of one url_for.

    An id enters the path as its digits alone (DatabaseIdConverter), so the URL built for one known id is the
    pattern of all the others: building each row's link anew cost more than the rest of its cell.
    """
    marker = str(DatabaseIdConverter.max)
    head, _, tail = url_for(endpoint, **{id_argument: DatabaseIdConverter.max}).rpartition(marker)
    return lambda object_id: f"{head}{int(object_id)}{tail}"
