"""A form with one large file (an archive to import), streamed to disk as it arrives.

`upload_form_of` (auth.py) keeps each file in memory under the media cap; an archive is far
larger, so `archive_form_of` writes its one file part to a temporary file in chunks, under its
own cap, with the same rules: same origin, a signed-in viewer, and the CSRF token (the form's
first field) checked before a byte of the file is read. On any refusal the partial file is
deleted; the caller owns the file it is handed and deletes it when done with it.
"""

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiDictProxy

from spark_fed.errors import BadRequest, PayloadTooLarge, UnprocessableEntity
from spark_fed.http import multipart

from .auth import Viewer, check_same_origin, file_parts, require_viewer

# Written to disk a mebibyte at a time (each write in a thread, so the loop never waits on the disk).
WRITE_BYTES = 1024 * 1024
# The text fields such a form has besides the token (the kind of archive, say): a few parts at most.
MAX_PARTS = 8


@dataclass(frozen=True)
class StoredFile:
    """The file part of the form: where it was written, the name the browser gave, its size."""

    path: Path
    filename: str
    size: int


def gibibytes(size: int) -> str:
    return f"{size / 1024**3:g} GiB"


async def archive_form_of(
    request: web.Request, *, field: str, directory: Path, max_bytes: int
) -> tuple[Viewer, MultiDictProxy[str], StoredFile | None]:
    """The viewer, the text fields and the one file FIELD of a `multipart/form-data` POST.

    The file goes to a new file in DIRECTORY (created when missing); past MAX_BYTES the reading
    stops and the answer is 413, as it is at once when Content-Length says so. A file before the
    CSRF token: 403 without reading it. No file chosen: None.
    """
    check_same_origin(request)
    found = await require_viewer(request)
    if not multipart.is_multipart(request):
        raise UnprocessableEntity("choose the archive to upload")
    if request.content_length is not None and request.content_length > max_bytes + multipart.MAX_FIELD_BYTES:
        raise PayloadTooLarge(f"the archive is larger than {gibibytes(max_bytes)}")
    fields: MultiDict[str] = MultiDict()
    stored: StoredFile | None = None
    try:
        async for part in file_parts(request, found, fields, max_parts=MAX_PARTS):
            if part.name != field or stored is not None:
                raise UnprocessableEntity("this form sends one archive")
            stored = await _store(part, directory, max_bytes)
            if stored.size == 0 and not part.filename:  # the file input with nothing chosen
                await asyncio.to_thread(stored.path.unlink, missing_ok=True)
                stored = None
    except BaseException:
        if stored is not None:
            await asyncio.to_thread(stored.path.unlink, missing_ok=True)
        raise
    return found, MultiDictProxy(fields), stored


async def _store(part: BodyPartReader, directory: Path, max_bytes: int) -> StoredFile:
    handle, path = await asyncio.to_thread(_open, directory)
    size = 0
    buffer = bytearray()
    try:
        while chunk := await part.read_chunk(multipart.CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the archive is larger than {gibibytes(max_bytes)}")
            buffer += chunk
            if len(buffer) >= WRITE_BYTES:
                await asyncio.to_thread(handle.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await asyncio.to_thread(handle.write, bytes(buffer))
        await asyncio.to_thread(handle.close)
    except BaseException as exc:
        await asyncio.to_thread(_discard, handle, path)
        if isinstance(exc, multipart.MALFORMED):
            raise BadRequest("the form body cannot be read") from None
        raise
    return StoredFile(path, part.filename or "", size)


def _open(directory: Path) -> tuple[BinaryIO, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".zip", dir=directory)
    return os.fdopen(fd, "wb"), Path(name)


def _discard(handle: BinaryIO, path: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    path.unlink(missing_ok=True)
