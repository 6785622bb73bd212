"""Where a status's text comes from, and the one function that turns it into stored HTML.

Every status is written from one of two sources: text a local author typed (`Typed`), which the
formatter renders, or HTML written elsewhere (`Written`: a remote note, an archived post, the
links and thread lines an import adds), which the sanitiser cleans. `spark_fed.statuses` calls
`render` on whatever it is given, inside the transaction that stores the status, so a caller
never holds HTML that skipped both, and no link with a scheme other than http, https or mailto
is ever stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .format import TagUrl, format_plain_text
from .sanitize import sanitize_html

if TYPE_CHECKING:
    from ..models import Account

_WEB_ADDRESS = re.compile(r"https?://[^\x00-\x20\x7f]+\Z", re.IGNORECASE)

#: A mention as written, keyed the way `mention_key` spells it.
MentionKey = tuple[str, str | None]


def mention_key(username: str, host: str | None) -> MentionKey:
    """``@Bob@Example.com`` and ``@bob@example.com`` name one account."""
    return username.lower(), (host or "").lower() or None


def web_address(url: str | None) -> str | None:
    """URL if it is an http(s) address a page may link to, else None (a status's `url` and the
    address it replies to are shown as links, so an archive's `javascript:` stops here too)."""
    return url if url is not None and _WEB_ADDRESS.match(url) else None


@dataclass(frozen=True)
class Typed:
    """Plain text a local author typed, with the accounts its mentions resolved to.

    Resolving may need WebFinger, so it happens before the write transaction; formatting
    happens in it."""

    text: str
    tag_url: TagUrl
    resolved: Mapping[MentionKey, Account] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """HTML written elsewhere, as it came, with the accounts it mentions and its tags."""

    html: str
    mentions: Sequence[Account] = ()
    tags: Sequence[str] = ()


Source = Typed | Written


@dataclass(frozen=True)
class Rendered:
    """What is stored: the HTML, the text a local author typed (None for HTML written elsewhere),
    the accounts named and the tags."""

    html: str
    text: str | None
    mentions: list[Account]
    tags: list[str]


def render(source: Source) -> Rendered:
    if isinstance(source, Typed):
        return _format(source)
    html = sanitize_html(source.html)
    return Rendered(html=html, text=None, mentions=list(source.mentions), tags=list(source.tags))


def _format(source: Typed) -> Rendered:
    def link(username: str, host: str | None) -> tuple[str, str] | None:
        account = source.resolved.get(mention_key(username, host))
        return (account.uri, account.url or account.uri) if account else None

    formatted = format_plain_text(source.text, link_mention=link, tag_url=source.tag_url)
    by_uri = {account.uri: account for account in source.resolved.values()}
    return Rendered(
        html=formatted.html,
        text=source.text,
        mentions=[by_uri[m.actor_url] for m in formatted.mentions],
        tags=list(formatted.tags),
    )
