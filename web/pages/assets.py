"""The site's own static files, and a default avatar drawn from an account's initial."""

import hashlib
from html import escape
from pathlib import Path

from aiohttp import web

from spark_fed.errors import NotFound
from spark_fed.http.ids import INT32, path_id
from spark_fed.models import Account
from spark_fed.state import CONTEXT

from ..names import display_name

routes = web.RouteTableDef()
STATIC = Path(__file__).resolve().parent.parent / "static"
_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in _TYPES}
_CACHE = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
_HUES = (204, 262, 340, 14, 32, 146, 174, 222)


@routes.get("/static/{name}")
async def static(request: web.Request) -> web.Response:
    """Only the files that ship in `web/static/` (no directory walking); an ETag from their bytes."""
    path = _FILES.get(request.match_info["name"])
    if path is None:
        raise NotFound("no such file")
    body = path.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304, headers=_CACHE)
    headers = {**_CACHE, "ETag": f'"{etag}"'}
    return web.Response(body=body, content_type=_TYPES[path.suffix], charset="utf-8", headers=headers)


@routes.get("/web/avatars/{account_id}.svg")
async def generated_avatar(request: web.Request) -> web.Response:
    account_id = path_id(request, "account_id", "no such account", INT32)
    async with request.app[CONTEXT].db.read() as session:
        account = await session.get(Account, account_id)
    if account is None:
        raise NotFound("no such account")
    initial = escape(display_name(account)[:1].upper() or "?")
    hue = _HUES[account.id % len(_HUES)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">'
        f'<rect width="96" height="96" fill="hsl({hue} 70% 45%)"/>'
        '<text x="48" y="62" font-family="system-ui, sans-serif" font-size="44" font-weight="700" '
        f'fill="#fff" text-anchor="middle">{initial}</text></svg>'
    )
    headers = {**_CACHE, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return web.Response(text=svg, content_type="image/svg+xml", headers=headers)
