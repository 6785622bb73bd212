"""Reading `multipart/form-data` as a stream, a part at a time, each part under its own cap.

Uploads are far larger than the app's request cap (`federation.max_body_bytes`, which every
other body keeps), so the API's media endpoints and the web's upload forms read their bodies
through here instead of `request.post()`: no more than a part's cap and one chunk is ever held,
and the reading stops at the first part past its cap.
"""

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ..errors import BadRequest, UnprocessableEntity

CHUNK = 64 * 1024
MAX_FIELD_BYTES = 16 * 1024  # a text part: alt text is at most 1500 characters
MAX_PARTS = 64
# What aiohttp's multipart reader raises on a body that is not what its headers say.
MALFORMED = (HttpProcessingError, ValueError, AssertionError, RuntimeError, LookupError, EOFError)


def is_multipart(request: web.Request) -> bool:
    return request.content_type == "multipart/form-data"


async def parts(request: web.Request, max_parts: int = MAX_PARTS) -> AsyncIterator[BodyPartReader]:
    """The body's parts, in order; 400 for a body that cannot be read or has too many parts."""
    try:
        reader = await request.multipart()
        for _ in range(max_parts):
            part = await reader.next()
            if part is None:
                return
            if not isinstance(part, BodyPartReader):
                raise BadRequest("nested multipart bodies are not accepted")
            yield part
    except MALFORMED:
        raise BadRequest("the form body cannot be read") from None
    raise BadRequest(f"a form has at most {max_parts} parts")


async def read_capped(part: BodyPartReader, cap: int) -> bytes | None:
    """The part's bytes as sent (no Content-Encoding is undone: no zip bomb through here), or None
    as soon as they pass CAP; the rest is not read."""
    data = bytearray()
    try:
        while chunk := await part.read_chunk(CHUNK):
            if len(data) + len(chunk) > cap:
                return None
            data += chunk
    except MALFORMED:
        raise BadRequest("the form body cannot be read") from None
    return bytes(data)


async def read_text(part: BodyPartReader, cap: int = MAX_FIELD_BYTES) -> str:
    """A text field: 422 past CAP, 400 with a NUL (no text Spark stores may hold one)."""
    raw = await read_capped(part, cap)
    name = part.name or "a field"
    if raw is None:
        raise UnprocessableEntity(f"Validation failed: {name[:40]} is too long")
    value = raw.decode(part.get_charset("utf-8"), errors="replace")
    if "\x00" in value or "\x00" in name:
        raise BadRequest("the body contains a NUL character")
    return value


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
