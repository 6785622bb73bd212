"""Fetching a link's card within limits: the page's head, then its oEmbed document if it has one.

Everything goes through the guarded client (`spark_fed.http.client`), so private addresses,
redirect loops (at most 3 hops, each checked again) and trickling servers are refused there.
On top of it a card fetch keeps its own, tighter limits:

* at most `PAGE_BYTES` (1 MiB) of a page, read only when it is `text/html` and only up to the
  end of its head; at most `OEMBED_BYTES` of an oEmbed document, read only when it is JSON;
* all of it, page and oEmbed, within `TOTAL_SECONDS`;
* at most `per_host` fetches to one host at a time, and `in_all` in all, in this process, so a
  thousand posts linking one site never become a thousand requests at once to it; posts
  linking the same page at the same moment share one fetch.

Any failure is "no card": the caller stores nothing.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from ..http.client import Excerpt, FetchError, HttpClient
from ..singleflight import SingleFlight
from .page import CardData, decode, read_head, read_oembed, read_page, web_url

log = logging.getLogger(__name__)

PAGE_BYTES = 1024 * 1024
OEMBED_BYTES = 256 * 1024
TOTAL_SECONDS = 15.0
PER_HOST = 2
IN_ALL = 8
_PAGE = Excerpt(types=frozenset({"text/html", "application/xhtml+xml"}), end=b"</head>")
_OEMBED = Excerpt(types=frozenset({"application/json", "application/json+oembed", "text/json"}))


class CardFetcher:
    """Fetches cards for one process; its limits hold across every job running in it."""

    def __init__(
        self,
        http: HttpClient,
        *,
        per_host: int = PER_HOST,
        in_all: int = IN_ALL,
        total_seconds: float = TOTAL_SECONDS,
    ) -> None:
        self.http = http
        self.per_host = per_host
        self.total_seconds = total_seconds
        self._all = asyncio.Semaphore(in_all)
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self._headers = {"User-Agent": f"{http.user_agent} Bot", "Accept": "text/html"}
        # Posts linking the same page at the same moment share one fetch of it.
        self._flights: SingleFlight[str, CardData | None] = SingleFlight(timeout=total_seconds + 1)

    async def fetch(self, url: str) -> CardData | None:
        """The card of URL, or None: not HTML, no title, too slow, too big, refused or broken."""
        try:
            async with self._slot(urlsplit(url).netloc):
                return await self._flights.run(url, lambda: self._fetch_within(url))
        except TimeoutError:
            log.info("no card for %s: no answer within %g s", url, self.total_seconds)
        except FetchError as exc:
            log.info("no card for %s: %s", url, exc)
        return None

    async def _fetch_within(self, url: str) -> CardData | None:
        async with asyncio.timeout(self.total_seconds):
            return await self._fetch(url)

    async def _fetch(self, url: str) -> CardData | None:
        page = await self.http.get(url, self._headers, max_body_bytes=PAGE_BYTES, excerpt=_PAGE)
        if page.status != 200 or not page.body:
            return None
        charset = _charset(page.headers.get("Content-Type", ""))
        head = read_head(decode(page.body, charset))
        endpoint = web_url(head.oembed, page.url) if head.oembed else None
        if endpoint is not None:
            answer = await self.http.get(
                endpoint,
                {**self._headers, "Accept": "application/json"},
                max_body_bytes=OEMBED_BYTES,
                excerpt=_OEMBED,
            )
            if answer.status == 200 and (card := read_oembed(url, endpoint, answer.body)) is not None:
                return card
        return read_page(url, head)

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """One of `in_all` places, and one of `per_host` for HOST; the host's entry goes when idle."""
        semaphore, users = self._hosts.get(host, (asyncio.Semaphore(self.per_host), 0))
        self._hosts[host] = (semaphore, users + 1)
        try:
            async with semaphore, self._all:
                yield
        finally:
            semaphore, users = self._hosts[host]
            if users == 1:
                del self._hosts[host]
            else:
                self._hosts[host] = (semaphore, users - 1)


def _charset(content_type: str) -> str | None:
    for parameter in _parameters(content_type):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')[:40]
    return None


def _parameters(content_type: str) -> Iterator[str]:
    yield from content_type.split(";")[1:]
