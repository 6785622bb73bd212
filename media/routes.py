"""`/media/ID/original` and `/media/ID/small`: every image Spark shows, local or remote, from here.

A remote file is fetched through the guarded client when first asked for,
checked and re-encoded like an upload, and kept within the disk budget, so a
reader's browser never contacts another server and pages can keep
`img-src 'self'`. Files are served with the type read from their bytes and a
policy that lets nothing in them run.
"""

from aiohttp import web

from spark_fed.errors import NotFound
from spark_fed.http.ids import path_id
from spark_fed.models import MediaAttachment
from spark_fed.models.media import FetchState
from spark_fed.state import CONTEXT

routes = web.RouteTableDef()
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Cross-Origin-Resource-Policy": "same-site",
}


@routes.get("/media/{id}/{size:original|small}")
async def media_file(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    media_id = path_id(request, "id", "no such media")
    async with ctx.db.read() as session:
        row = await session.get(MediaAttachment, media_id)
    if row is None:
        raise NotFound("no such media")
    if not row.local and not row.file_key and row.fetch_state != FetchState.FAILED:
        row = await ctx.media.fetch_remote(row.id, again=False) or row
    small = request.match_info["size"] == "small"
    key = row.thumbnail_key if small else row.file_key
    if not key:
        raise NotFound("this media is not available")
    etag = f'"{key[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={**HEADERS, "ETag": etag})
    data = await ctx.media.store.get(key)
    if data is None:
        raise NotFound("this media is not available")
    await ctx.media.shown(row)
    media_type = _type_of(key)
    return web.Response(body=data, content_type=media_type, headers={**HEADERS, "ETag": etag})


def _type_of(key: str) -> str:
    """From the key's extension, which `storage.key_for` took from the sniffed type."""
    extension = key.rsplit(".", 1)[-1]
    return {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}[extension]
