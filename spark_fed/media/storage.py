"""Where media files live: content-addressed, behind one small interface.

Callers only `put` bytes (getting back a key derived from them), `get`,
`delete` and ask `size`; a store on S3-compatible object storage can take
`FileStore`'s place without any caller changing. Keys are the SHA-256 of
the content plus an extension, so the same image uploaded twice is stored
once, and a key can never name a path outside the store.
"""

import asyncio
import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Protocol

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
_KEY = re.compile(r"\A[0-9a-f]{64}\.(jpg|png|webp|gif)\Z")


class MediaStore(Protocol):
    async def put(self, data: bytes, media_type: str) -> str: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...


def key_for(data: bytes, media_type: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{EXTENSIONS[media_type]}"


def is_key(key: str) -> bool:
    return bool(_KEY.match(key))


class FileStore:
    """Files under ROOT, fanned out by the key's first two characters; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError(f"not a media key: {key!r}")
        return self.root / key[:2] / key

    async def put(self, data: bytes, media_type: str) -> str:
        key = key_for(data, media_type)
        await asyncio.to_thread(self._write, self._path(key), data)
        return key

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)
