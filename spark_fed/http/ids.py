"""Numeric ids in paths and parameters: one reading, so no odd spelling reaches the database.

`str.isdigit` is true for "²" and "١٢٣", which `int()` refuses or reads as another number; a number
past the column's width makes SQLite raise OverflowError and PostgreSQL refuse the query. Here an id
is ASCII digits that fit the column it names (64-bit statuses and media, 32-bit everything else),
and anything else names nothing.
"""

from aiohttp import web

from ..errors import NotFound

INT32 = 2**31 - 1
INT64 = 2**63 - 1


def parse_id(raw: object, most: int = INT64) -> int | None:
    """The id RAW spells, or None when it is not one (not ASCII digits, or past MOST)."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= most else None


def path_id(request: web.Request, name: str, missing: str, most: int = INT64) -> int:
    """The id in the path's NAME segment; 404 with MISSING when it names nothing."""
    value = parse_id(request.match_info[name], most)
    if value is None:
        raise NotFound(missing)
    return value
