"""Archives of other services (Twitter/X, Mastodon), read into neutral records.

`zipread.Archive` opens the zip with limits (size, file count, names, compression ratio);
`twitter.read` and `mastodon.read` turn an archive into `ArchivedPost`s and a profile, with
nothing written anywhere: storing them is `outbox/imports.py`'s job.
"""

from .records import ArchivedMedia, ArchivedPost, ArchiveError, ParsedArchive, Skipped
from .zipread import Archive, Limits

__all__ = ["Archive", "ArchiveError", "ArchivedMedia", "ArchivedPost", "Limits", "ParsedArchive", "Skipped"]
