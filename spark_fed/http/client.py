"""The one outbound HTTP client: deliveries, actor and key fetches, WebFinger.

Every URL Spark fetches is chosen by someone else, so every request goes through `HttpClient`,
which applies Mastodon's limits (docs/interop.md) in one place:

* User-Agent `Spark/<version> (+<base_url>/)`, the shape Mastodon sends, so admins can see who
  is calling and where to complain;
* timeouts, each for its own failure (`[federation]` in the config): DNS, TCP and TLS within
  `connect_timeout` (5 s), the answer's first byte within `first_byte_timeout` of sending (10 s,
  and as long between later reads), the whole request, redirects included, within
  `request_timeout` (30 s), which is what cuts off a peer trickling a byte a second;
* no pool-wide connection cap: the delivery worker bounds requests per host and in all, and a
  shared pool would make deliveries to live hosts queue behind sockets held by dead ones;
* at most 1 MB of (decompressed) body, counted while reading, not taken from Content-Length;
* at most 3 redirects, GET only, each destination checked again like the first;
* no loopback, private, link-local, CGNAT, multicast or reserved addresses unless the config
  allows them (`spark_fed.http.addresses`). IP literals are checked before connecting and every
  address DNS returns is checked by the connector's resolver, i.e. on the addresses the socket is
  then opened to, so a public name that resolves to 127.0.0.1 (or rebinds to it) is refused too
  (GoToSocial's `httpclient/sanitizer.go` idea).

The caller signs: it passes the complete headers (Host, Date, Digest, Signature…), and the
client sends them unchanged, adding only User-Agent, Accept-Encoding and Content-Length, which
neither Mastodon nor Spark covers in a signature. `host_header(url)` and `wire_url(url)` tell the
signer the Host value and the URL aiohttp will actually send.

Errors form one small tree under `FetchError`; `retryable` tells the delivery queue whether to
try again later (`NetworkError`) or give up (everything else).
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .. import __version__
from ..config import Config
from .addresses import AddressPolicy, parse_ip

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
IDLE_SECONDS = 5.0
"""How long an idle connection is kept for the next request to its host. A host receiving a steady
stream reuses its connection (and skips a TLS handshake); a fan-out to a thousand servers leaves a
thousand idle sockets, closed after this, so they do not pile up against the open-file limit."""
POST_ANSWER_BYTES = 16 * 1024
"""What is read of a POST's answer: enough for any error message worth logging."""
# Headers that must not follow a redirect to another origin (they are credentials for the first).
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")

HeadersFor = Callable[[str], Mapping[str, str]]
"""Builds the request headers for one URL; used for GETs so each redirect hop can be re-signed."""


# --- errors ---------------------------------------------------------------------------------


class FetchError(Exception):
    """An outbound request did not produce a usable response. The message is one line."""

    retryable = False
    """True when the same request may succeed later (network trouble), False when it never will."""

    def __init__(self, message: str, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class InvalidUrl(FetchError):
    """Not an http(s) URL with a host and without user:password; never fetched."""


class BlockedAddress(FetchError):
    """The destination is a private/reserved address the config does not allow; never contacted."""


class ResponseTooLarge(FetchError):
    """The response body exceeded the cap; reading stopped there and the connection was dropped."""


class TooManyRedirects(FetchError):
    """More redirects than the limit: a loop, or a host we should not follow that far."""


class NetworkError(FetchError):
    """DNS failure, refused or reset connection, TLS error or timeout: worth retrying later."""

    retryable = True


# --- excerpts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Excerpt:
    """How much of a page to read when only its beginning matters (a link card's metadata).

    A body whose media type is not in TYPES is not read at all; one that is is read up to the
    first END (case-insensitive) or the cap, and the rest is dropped with the connection, so a
    gigabyte page costs what its first megabyte does.
    """

    types: frozenset[str]
    end: bytes | None = None

    async def read(self, resp: aiohttp.ClientResponse, cap: int) -> bytes:
        media_type = resp.headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if media_type not in self.types:
            return b""
        data = bytearray()
        end = self.end.lower() if self.end else None
        async for chunk in resp.content.iter_chunked(_CHUNK):
            start = max(0, len(data) - len(end)) if end else 0
            data += chunk
            if len(data) >= cap:
                return bytes(data[:cap])
            if end is not None and (found := data.lower().find(end, start)) >= 0:
                return bytes(data[: found + len(end)])
        return bytes(data)


# --- response -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A complete, already read response. `url` is the final URL after redirects (no fragment)."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: str

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower case (`application/activity+json`)."""
        return self.headers.get("Content-Type", "").partition(";")[0].strip().lower()


# --- helpers --------------------------------------------------------------------------------


def user_agent(config: Config) -> str:
    """`Spark/<version> (+<base_url>/)`, Mastodon's `Mastodon/4.x (http.rb/…; +https://host/)` shape."""
    return f"Spark/{__version__} (+{config.base_url}/)"


def host_header(url: str | URL) -> str:
    """The Host value a request to URL sends: host[:port], the port left out when it is the default.

    It is computed the way aiohttp computes the header it sends (lower-cased, IDNA-encoded,
    IPv6 in brackets), so a signature over `host` matches what the peer receives.
    """
    parsed = URL(url)
    host = parsed.host_port_subcomponent
    if not host:
        raise InvalidUrl(f"no host in {_short(url)}", str(url))
    return host


def wire_url(url: str | URL) -> str:
    """URL in the form the client requests it; sign this form, not the string you started from.

    yarl normalises a URL before aiohttp sends it (IDNA host, lower case, default port dropped,
    `%7E` → `~`, dot segments removed, fragment dropped), so a signature over `(request-target)`
    or `@target-uri` built from the original string could name a different path than the one sent.
    """
    return str(URL(url).with_fragment(None))


def _short(url: str | URL, limit: int = 200) -> str:
    text = str(url)
    return text if len(text) <= limit else text[:limit] + "…"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class GuardedResolver(AbstractResolver):
    """The connector's resolver: DNS through aiohttp's default, then the address policy.

    aiohttp opens sockets only to the addresses this returns, so checking them here is checking
    at dial time; there is no second lookup an attacker's DNS could answer differently. aiohttp
    does not call the resolver for IP literals, which is why `HttpClient` checks those itself.
    """

    def __init__(self, policy: AddressPolicy, timeout: float, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._timeout = timeout
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        # A TimeoutError is an OSError, which aiohttp reports as a DNS error: a NetworkError here.
        async with asyncio.timeout(self._timeout):
            results = await self._inner.resolve(host, port, family)
        # One refused answer refuses the name: a name that mixes public and private addresses is
        # either misconfigured or a rebinding attempt, and picking the "good" half hides both.
        for result in results:
            if not self._policy.permits(host, port, result["host"]):
                raise BlockedAddress(f"{host} resolves to {result['host']}, a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()


# --- the client -----------------------------------------------------------------------------


class HttpClient:
    """One aiohttp session with Spark's safety rules; create one per process and close it.

    The session is created on first use (or by `start()`), inside the running loop as aiohttp
    requires; `close()` (or leaving `async with`) releases it. The limits default to Mastodon's
    and are parameters so tests can make a timeout take milliseconds.
    """

    def __init__(
        self,
        config: Config,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
        max_body_bytes: int | None = None,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.policy = AddressPolicy.from_config(config.federation)
        self.user_agent = user_agent(config)
        self.max_body_bytes = (
            max_body_bytes if max_body_bytes is not None else config.federation.max_body_bytes
        )
        self.max_redirects = max_redirects
        federation = config.federation
        self._connect_timeout = connect_timeout or federation.connect_timeout
        self._total_timeout = total_timeout or federation.request_timeout
        # `sock_connect` covers the TCP connect and the TLS handshake (asyncio's create_connection
        # does both); `sock_read` runs from the request sent to the first byte, and between reads.
        # `connect` also counts waiting for a pooled connection, which is not the peer's fault: it
        # is left unbounded, and the total deadline still applies.
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._connect_timeout,
            sock_read=read_timeout or federation.first_byte_timeout,
        )
        self._session: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None
        self._closed = False

    async def start(self) -> None:
        """Create the session now (optional: the first request does it)."""
        self._ensure_session()

    async def close(self) -> None:
        """Close the session and its connections; the client cannot be used afterwards."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        resolver, self._resolver = self._resolver, None
        if resolver is not None:
            await resolver.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("HttpClient is closed")
        if self._session is None:
            self._resolver = GuardedResolver(self.policy, self._connect_timeout)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    resolver=self._resolver, limit=0, keepalive_timeout=IDLE_SECONDS
                ),
                timeout=self._timeout,
                headers={"User-Agent": self.user_agent},
                # Cookies from one peer must not reach another, and no proxy from the environment
                # may sit between Spark and the address that was checked.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    @staticmethod
    def host_header(url: str | URL) -> str:
        """See `host_header`: the Host value a request to URL sends (signing covers it)."""
        return host_header(url)

    # --- requests ---

    async def get(
        self,
        url: str | URL,
        headers: Mapping[str, str] | HeadersFor | None = None,
        *,
        max_body_bytes: int | None = None,
        excerpt: Excerpt | None = None,
    ) -> Response:
        """GET URL, following up to `max_redirects` redirects, and read the body (capped).

        With EXCERPT (a page read for its metadata) the body is read only when its type is one
        EXCERPT names, and only up to its end marker or the cap: the rest is cut, not refused.

        HEADERS is either a mapping, sent on every hop (minus Host, which must match each hop's
        URL, and minus credentials when a redirect changes origin), or a function of the hop URL
        returning the headers, so that a signed fetch can be signed again for the new URL.
        """
        first = self._check_url(url)
        return await self._within_deadline(first, self._follow(first, headers, max_body_bytes, excerpt))

    async def post(self, url: str | URL, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
        """POST BODY to URL with HEADERS as given. A redirect is returned as is, never followed.

        Following a redirected POST would deliver a signed activity somewhere its signature does
        not name, and a 303 would even turn it into a GET; Mastodon does not follow either.
        """
        target = self._check_url(url)
        return await self._within_deadline(
            target, self._send("POST", target, CIMultiDict(headers or {}), body, None, None)
        )

    # --- internals ---

    def _check_url(self, url: str | URL) -> URL:
        """Refuse what must never be fetched before any socket exists: bad URLs and blocked literals."""
        try:
            parsed = URL(url)
            port = parsed.port
        except (ValueError, TypeError) as exc:
            raise InvalidUrl(f"not a URL: {_short(url)} ({_one_line(exc)})", str(url)) from None
        if parsed.scheme not in ("http", "https"):
            raise InvalidUrl(f"only http and https URLs are fetched, not {_short(url)}", str(url))
        if parsed.raw_user is not None or parsed.raw_password is not None:
            raise InvalidUrl(f"URL with user information refused: {_short(url)}", str(url))
        host = parsed.raw_host
        if not host or port is None:
            raise InvalidUrl(f"no host in {_short(url)}", str(url))
        address = parse_ip(host)
        if address is None and host.replace(".", "").isdigit():
            # 2130706433 or 127.1: legacy numeric forms that the C library maps onto 127.0.0.1.
            raise InvalidUrl(f"not a canonical IP address: {host}", str(url))
        if address is not None and not self.policy.permits(host, port, address):
            raise BlockedAddress(f"{address} is a non-public address", str(url))
        return parsed.with_fragment(None)

    @staticmethod
    def _headers_for(
        headers: Mapping[str, str] | HeadersFor | None, hop: URL, first: URL
    ) -> CIMultiDict[str]:
        if callable(headers):
            return CIMultiDict(headers(str(hop)))
        built = CIMultiDict(headers or {})
        if hop != first:
            # A Host given for the first URL would send this hop to the wrong virtual host.
            built.popall("Host", None)
            if hop.origin() != first.origin():
                for name in _CREDENTIAL_HEADERS:
                    built.popall(name, None)
        return built

    async def _within_deadline(self, url: URL, operation: Awaitable[Response]) -> Response:
        """Run OPERATION under one deadline covering DNS, connects, every hop and the body.

        aiohttp's own `total` timeout would start again on each redirect.
        """
        try:
            async with asyncio.timeout(self._total_timeout):
                return await operation
        except TimeoutError:
            raise NetworkError(
                f"{_short(url)}: no complete answer within {self._total_timeout:g} s", str(url)
            ) from None

    async def _follow(
        self,
        first: URL,
        headers: Mapping[str, str] | HeadersFor | None,
        max_body_bytes: int | None,
        excerpt: Excerpt | None,
    ) -> Response:
        current = first
        hops = 0
        while True:
            response = await self._send(
                "GET", current, self._headers_for(headers, current, first), None, max_body_bytes, excerpt
            )
            location = response.headers.get("Location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            hops += 1
            if hops > self.max_redirects:
                raise TooManyRedirects(f"more than {self.max_redirects} redirects from {first}", str(first))
            try:
                target = current.join(URL(location))
            except ValueError:
                raise InvalidUrl(f"bad redirect Location {location!r}", str(current)) from None
            current = self._check_url(target)

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: bytes | None,
        max_body_bytes: int | None,
        excerpt: Excerpt | None,
    ) -> Response:
        session = self._ensure_session()
        cap = max_body_bytes if max_body_bytes is not None else self.max_body_bytes
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                # aiohttp would add `Content-Type: application/octet-stream` to a POST without
                # one; the caller decides (and signs) the content type.
                skip_auto_headers=("Content-Type",),
            ) as resp:
                if resp.status in REDIRECT_STATUSES and method == "GET" and resp.headers.get("Location"):
                    payload = b""  # not read: the connection is dropped instead of draining it
                elif method == "POST":
                    payload = await _read_prefix(resp, POST_ANSWER_BYTES)
                elif excerpt is not None:
                    payload = await excerpt.read(resp, cap)
                else:
                    payload = await _read_capped(resp, cap, url)
                return Response(status=resp.status, headers=resp.headers, body=payload, url=str(url))
        except BlockedAddress as exc:
            if exc.url is None:  # raised by the resolver, which does not know the URL
                raise BlockedAddress(str(exc), str(url)) from None
            raise
        except FetchError:
            raise
        except TimeoutError as exc:
            raise NetworkError(f"{method} {_short(url)}: timed out ({_one_line(exc)})", str(url)) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise NetworkError(f"{method} {_short(url)}: {_one_line(exc)}", str(url)) from exc


async def _read_prefix(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The first LIMIT bytes of the body, the rest left unread (the connection is then dropped).

    A POST's answer (a delivery's) is only read for an error message, and thousands of
    deliveries are in flight at once: a megabyte each would be gigabytes.
    """
    data = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])


async def _read_capped(resp: aiohttp.ClientResponse, cap: int, url: URL) -> bytes:
    """Read at most CAP bytes of the decoded body; more raises ResponseTooLarge.

    Content-Length only allows failing early: a chunked or compressed body says nothing true
    about its size, so the bytes are counted as they arrive (after decompression, which also
    stops a small gzip bomb from becoming a large allocation).
    """
    declared = resp.content_length
    if declared is not None and declared > cap:
        raise ResponseTooLarge(f"{_short(url)} announces {declared} bytes, more than {cap}", str(url))
    data = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        data += chunk
        if len(data) > cap:
            raise ResponseTooLarge(f"{_short(url)} sent more than {cap} bytes", str(url))
    return bytes(data)
