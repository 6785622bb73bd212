"""Which link of a post gets a card: the first that leads away from the post itself.

Left out, as Mastodon leaves them out: mentions and hashtags (`rel="tag"`, the `mention`,
`u-url` and `h-card` classes, or an address of a mentioned account), links inside a quoted
post's inline fallback (`quote-inline`), links to this server, links to the post's own
attachments, and anything that is not http(s). The HTML is the stored, sanitised content, read
with the standard library's tolerant parser.
"""

from collections.abc import Collection
from html.parser import HTMLParser
from urllib.parse import urlsplit, urlunsplit

MAX_URL = 2048
_VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link"})
_SKIPPED_CLASSES = frozenset({"mention", "u-url", "h-card", "hashtag"})


class _Anchors(HTMLParser):
    """Collects the hrefs of anchors that are not mentions, tags or inside a quote-inline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self._open: list[bool] = []  # per open element: is it (or an ancestor) a quote-inline?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").split())
        quoted = bool(self._open and self._open[-1]) or "quote-inline" in classes
        if tag == "a" and not quoted:
            rels = set(values.get("rel", "").lower().split())
            if "tag" not in rels and not classes & _SKIPPED_CLASSES and values.get("href"):
                self.hrefs.append(values["href"].strip())
        if tag not in _VOID:
            self._open.append(quoted)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._open:
            self._open.pop()


def normalise(url: str) -> str | None:
    """URL as cards are keyed: http(s) with a host, lower-case scheme and host, no fragment."""
    if len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username is not None:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def first_link(
    html: str, *, local_host: str, mentioned: Collection[str] = (), attachments: Collection[str] = ()
) -> str | None:
    """The URL of HTML's first link that gets a card, normalised; None when there is none.

    LOCAL_HOST is this server's host[:port]; MENTIONED the addresses (id and web URL) of the
    accounts the post mentions; ATTACHMENTS the URLs of its own media.
    """
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    skipped = set(mentioned) | set(attachments)
    for href in parser.hrefs:
        if href in skipped:
            continue
        url = normalise(href)
        if url is None or urlsplit(url).netloc == local_host.lower():
            continue
        return url
    return None
