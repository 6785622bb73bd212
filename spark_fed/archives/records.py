"""The neutral shape of an archived post, whatever service it came from."""

from dataclasses import dataclass, field
from datetime import datetime

from ..errors import UsageError


class ArchiveError(UsageError):
    """The archive cannot be read at all (bad zip, a bomb, traversal names, a cut-off file):
    a one-line message, raised before anything is stored."""


@dataclass
class ArchivedMedia:
    """A picture to attach: its path inside the zip, or None when the archive lacks the file."""

    path: str | None
    description: str = ""
    # Where the original lives, for what is linked rather than imported (videos) or missing.
    link: str | None = None
    kind: str = "image"  # "image" | "gif_video" (an animated GIF kept as MP4) | "video"


@dataclass
class ArchivedPost:
    source_id: str
    published: datetime
    # The post's HTML as the archive gives it (or Spark writes it from a tweet's text), complete
    # but for the thread note a missing parent may add; sanitised when the status is stored.
    html: str
    tags: list[str] = field(default_factory=list)
    visibility: str = "public"
    summary: str = ""
    sensitive: bool = False
    language: str | None = None
    # The source id of the parent when it is one's own post (a thread), else None.
    reply_to_source_id: str | None = None
    # A reply to someone else (or to an own post not in the archive): who and where.
    reply_to_name: str | None = None
    reply_to_url: str | None = None
    # Mentions by actor URI (Mastodon), resolved against known accounts when stored.
    mention_uris: list[str] = field(default_factory=list)
    media: list[ArchivedMedia] = field(default_factory=list)


@dataclass
class Skipped:
    """An entry not imported on purpose (a retweet, a boost) or because it is malformed."""

    source_id: str
    reason: str
    retweet: bool = False


@dataclass
class ParsedArchive:
    posts: list[ArchivedPost]
    skipped: list[Skipped]
    display_name: str | None = None
    bio: str | None = None
