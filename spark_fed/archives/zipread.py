"""Reading an uploaded zip with limits, before anything is trusted.

The central directory is checked first: the number of entries, names (no absolute paths, no
`..`, no backslash tricks, no drive letters), the declared total size and each entry's
compression ratio. Entries are then read in chunks while counting what actually comes out,
so a header that lies about its size cannot make us inflate more than the limits allow.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

from .records import ArchiveError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 16 << 30  # a Twitter archive with years of pictures is gigabytes
    max_files: int = 200_000
    max_entry_bytes: int = 2 << 30
    # A JSON document (tweets.js, outbox.json) is parsed whole in memory: far less than a picture
    # file may be. X's largest real tweets.js files are tens of MB.
    max_document_bytes: int = 256 << 20
    # Above this size, an entry must not inflate more than MAX_RATIO times (text compresses
    # about 10x, JSON 20x; a bomb of zeros 1000x).
    ratio_from_bytes: int = 1 << 20
    max_ratio: int = 200


def _safe_name(name: str) -> bool:
    """A relative path inside the archive: no absolute path, drive letter, backslash or `..`."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    return ".." not in name.rstrip("/").split("/")


class Archive:
    """An opened, checked zip; `read(name)` gives an entry's bytes within the limits."""

    def __init__(self, path: Path, limits: Limits = Limits()) -> None:
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ArchiveError(f"not a readable zip archive: {exc}") from None
        infos = self._zip.infolist()
        if len(infos) > limits.max_files:
            self.close()
            raise ArchiveError(f"the archive has {len(infos)} files; at most {limits.max_files} are read")
        total = 0
        self._entries: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not _safe_name(info.filename):
                self.close()
                raise ArchiveError(f"the archive has an unsafe file name {info.filename!r} (refused)")
            if info.is_dir():
                continue
            self._check_size(info)
            total += info.file_size
            if total > limits.max_total_bytes:
                self.close()
                raise ArchiveError(
                    f"the archive unpacks to more than {limits.max_total_bytes} bytes (refused)"
                )
            self._entries[info.filename] = info
        self._read_total = 0

    def _check_size(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        if info.file_size > limits.max_entry_bytes:
            self.close()
            raise ArchiveError(f"{info.filename} unpacks to {info.file_size} bytes (refused)")
        if info.file_size > limits.ratio_from_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            self.close()
            raise ArchiveError(
                f"{info.filename} inflates {info.file_size // max(info.compress_size, 1)} times: "
                "a zip bomb (refused)"
            )

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._entries)

    def find(self, name: str) -> str | None:
        """NAME, or the one entry ending in /NAME (archives are often zipped inside a folder)."""
        if name in self._entries:
            return name
        for entry in self._entries:
            if entry.endswith("/" + name):
                return entry
        return None

    def read_document(self, name: str) -> bytes:
        """A JSON document of the archive, within `max_document_bytes`."""
        return self.read(name, limit=self.limits.max_document_bytes)

    def read(self, name: str, *, limit: int | None = None) -> bytearray:
        """The entry's bytes, read in chunks; more than declared, or than LIMIT, is refused."""
        info = self._entries[name]
        cap = min(info.file_size, limit if limit is not None else info.file_size)
        if info.file_size > cap:
            raise ArchiveError(f"{name} is {info.file_size} bytes, more than {cap}")
        out = bytearray()
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    if len(out) > cap:
                        raise ArchiveError(f"{name} inflates beyond its declared size: a zip bomb (refused)")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ArchiveError(f"{name} cannot be read: {exc}") from None
        self._read_total += len(out)
        if self._read_total > self.limits.max_total_bytes:
            raise ArchiveError(f"the archive unpacks to more than {self.limits.max_total_bytes} bytes")
        return out  # bytes-like already: no second copy of a large entry
