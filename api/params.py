"""Reading request parameters the way Mastodon clients send them.

Mastodon.py sends forms, toot sends JSON, browsers send query strings;
booleans arrive as 1/0, true/false or JSON booleans, lists as `id[]=` or `id=`.
"""

import json
from typing import Any

from aiohttp import web

from spark_fed.errors import BadRequest, UnprocessableEntity
from spark_fed.http.forms import read_form
from spark_fed.http.ids import parse_id
from spark_fed.http.json_body import parse_json
from spark_fed.queries.paging import Cursor

TRUE = frozenset({"1", "true", "t", "on", "yes"})
FALSE = frozenset({"0", "false", "f", "off", "no", ""})


async def body(request: web.Request) -> dict[str, Any]:
    """The form or JSON body as one dict; repeated form keys (`a[]`) become lists under `a`."""
    if request.method in ("GET", "HEAD", "DELETE") and not request.can_read_body:
        return {}
    if request.content_type == "application/json":
        data = parse_json(await request.read())
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object")
        return data
    form = await read_form(request)
    result: dict[str, Any] = {}
    for key in form:
        values = form.getall(key)
        if key.endswith("[]"):
            result[key[:-2]] = [str(v) for v in values]
        else:
            result[key] = str(values[-1])
    return result


def flag(value: Any, name: str, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise UnprocessableEntity(f"Validation failed: {name} must be a boolean")


def text(value: Any) -> str | None:
    """Text as given; NUL is refused (PostgreSQL cannot store it, and no one types it)."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise UnprocessableEntity("Validation failed: expected text")
    result = str(value)
    if "\x00" in result:
        raise UnprocessableEntity("Validation failed: text contains a NUL character")
    return result


def ids(request: web.Request, name: str) -> list[str]:
    """`id[]=1&id[]=2` or `id=1&id=2` (both are sent)."""
    return [*request.query.getall(f"{name}[]", []), *request.query.getall(name, [])]


def is_id(value: Any) -> bool:
    return parse_id(value) is not None


def limit(request: web.Request, default: int = 20, most: int = 40) -> int:
    """Mastodon's `limit`: DEFAULT without one, its absolute value capped at MOST (twice the
    default, as Mastodon's lists allow) beyond. Zero serves one item rather than Mastodon's empty
    page, which would end a client's paging with nothing to page from."""
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return default
    digits = raw.removeprefix("-")
    if not digits.isdigit() or not digits.isascii():
        raise BadRequest("limit must be a number")
    return max(1, min(int(digits), most))


def page_cursor(request: web.Request) -> Cursor:
    """The page's `max_id`, `since_id` and `min_id` (see `spark_fed.queries.paging`)."""
    return Cursor(cursor(request, "max_id"), cursor(request, "since_id"), cursor(request, "min_id"))


def strings(request: web.Request, name: str) -> list[str]:
    """A list parameter of words (`types[]=mention&types[]=follow`), as given."""
    return [text(v) or "" for v in ids(request, name)]


def cursor(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not is_id(raw):
        raise BadRequest(f"{name} must be an id")
    return int(raw)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
