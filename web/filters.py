"""Template filters: how times read on the pages, and the host a link leads to."""

from datetime import datetime
from urllib.parse import urlsplit

from spark_fed.models.types import utcnow


def ago(moment: datetime) -> str:
    """Twitter's short relative times: 45s, 12m, 3h, then "Mar 4", then "Mar 4, 2024"."""
    seconds = int((utcnow() - moment).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if moment.year == utcnow().year:
        return f"{moment:%b} {moment.day}"
    return f"{moment:%b} {moment.day}, {moment.year}"


def host(url: str) -> str:
    """The host of URL, as a link to another server is labelled ("image on example.social")."""
    return urlsplit(url).hostname or url


def since(moment: datetime) -> str:
    """`ago` as a phrase: "3h ago", "on Mar 4"."""
    text = ago(moment)
    return f"on {text}" if text[0].isalpha() else f"{text} ago"
