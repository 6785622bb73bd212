"""The one reader of form bodies (`application/x-www-form-urlencoded` and small `multipart/form-data`).

`request.post()` raises ValueError for a multipart body without a boundary or with bytes its charset
cannot decode, and LookupError for a charset Python does not know; a form handler never sees those,
it gets 400 here. NUL is refused too: PostgreSQL cannot store it in text, and no one types it.
"""

from aiohttp import web
from multidict import MultiDictProxy

from ..errors import BadRequest


async def read_form(request: web.Request) -> MultiDictProxy[str | web.FileField]:
    """The form, read once (aiohttp keeps it for later calls), or BadRequest."""
    try:
        form = await request.post()
    except (ValueError, LookupError):
        raise BadRequest("the form body cannot be read") from None
    if any(isinstance(value, str) and "\x00" in value for value in form.values()):
        raise BadRequest("the form contains a NUL character")
    if any("\x00" in key for key in form):
        raise BadRequest("the form contains a NUL character")
    return form
