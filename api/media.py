"""Media uploads: `POST /api/v2/media` (and v1), `GET`/`PUT /api/v1/media/{id}`.

The multipart body is read as a stream (`spark_fed.http.multipart`): a file part up to
`[media] max_upload_mb`; past it the answer is 422, as Mastodon answers a file too large.
Nothing is stored until `MediaService.upload` has checked the whole file.
"""

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http import multipart
from spark_fed.http.responses import json_response
from spark_fed.media.processing import MediaRejected
from spark_fed.media.service import Focus, MediaNotFound, own_media
from spark_fed.models import Account, MediaAttachment
from spark_fed.state import CONTEXT

from . import params
from .auth import require
from .entities import media_entity
from .lookup import api_id

routes = web.RouteTableDef()


@dataclass
class Multipart:
    """A multipart body: text fields as `params.body` gives them (`a[]` lists), files as bytes."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


async def read_multipart(request: web.Request, file_fields: frozenset[str], max_file_bytes: int) -> Multipart:
    """Stream REQUEST's multipart body: FILE_FIELDS kept (each at most MAX_FILE_BYTES, else 422),
    other file parts (a `thumbnail`, say) read past and dropped under the same cap."""
    result = Multipart()
    lists: dict[str, list[str]] = {}
    async for part in multipart.parts(request):
        name = part.name or ""
        if name in file_fields or part.filename is not None:
            data = await multipart.read_capped(part, max_file_bytes)
            if data is None:
                raise UnprocessableEntity(f"the file is larger than {multipart.megabytes(max_file_bytes)}")
            if name in file_fields:
                result.files[name] = data
            continue
        value = await multipart.read_text(part)
        if name.endswith("[]"):
            lists.setdefault(name[:-2], []).append(value)
        else:
            result.fields[name] = value
    result.fields.update(lists)
    return result


def focus_of(value: Any) -> Focus | None:
    text = params.text(value)
    if text is None:
        return None
    try:
        return Focus.parse(text)
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None


async def _upload(request: web.Request) -> web.Response:
    viewer = await require(request, "write:media")
    ctx = request.app[CONTEXT]
    if not multipart.is_multipart(request):
        raise UnprocessableEntity("Validation failed: File can't be blank")
    body = await read_multipart(request, frozenset({"file"}), ctx.config.media.max_upload_bytes)
    data = body.files.get("file")
    if not data:
        raise UnprocessableEntity("Validation failed: File can't be blank")
    description = params.text(body.fields.get("description")) or ""
    focus = focus_of(body.fields.get("focus")) or Focus()
    try:
        row = await ctx.media.upload(viewer, data, description=description, focus=focus)
    except MediaRejected as exc:
        raise UnprocessableEntity(str(exc)) from None
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response(media_entity(row, ctx.urls))


# Processing is synchronous, so v2 answers 200 with the URLs at once (Mastodon's 202 means "not yet").
routes.post("/api/v2/media")(_upload)
routes.post("/api/v1/media")(_upload)


async def _unattached(request: web.Request, viewer: Account) -> MediaAttachment:
    """The caller's upload not yet in a post (Mastodon's scope for these calls), else 404."""
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        try:
            row = await own_media(session, viewer, api_id(request))
        except MediaNotFound:
            raise NotFound("Record not found") from None
    if row.status_id is not None:
        raise NotFound("Record not found")
    return row


@routes.get("/api/v1/media/{id}")
async def show(request: web.Request) -> web.Response:
    viewer = await require(request, "write:media")
    return json_response(media_entity(await _unattached(request, viewer), request.app[CONTEXT].urls))


@routes.put("/api/v1/media/{id}")
async def update(request: web.Request) -> web.Response:
    viewer = await require(request, "write:media")
    ctx = request.app[CONTEXT]
    row = await _unattached(request, viewer)
    if multipart.is_multipart(request):  # a `thumbnail` file may come along; it is read past
        data = (await read_multipart(request, frozenset(), ctx.config.media.max_upload_bytes)).fields
    else:
        data = await params.body(request)
    description = params.text(data.get("description"))
    focus = focus_of(data.get("focus"))
    try:
        row = await ctx.media.describe(viewer, row.id, description=description, focus=focus)
    except MediaNotFound:
        raise NotFound("Record not found") from None
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    return json_response(media_entity(row, ctx.urls))
