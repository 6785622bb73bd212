"""A fake web site for link cards, on a loopback socket: honest pages and hostile ones.

It imports nothing of Spark. Honest pages carry OpenGraph, Twitter card and oEmbed metadata
as sites publish them; hostile ones are slow, trickle a byte a second, stream a gigabyte,
redirect in a loop or to an address Spark must not reach, are not HTML, are broken markup, or
carry script where text belongs. The site counts requests per path, the bytes it managed to
send, and the most requests it had in flight at once (the bound Spark keeps per host).
"""

import asyncio
import io
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from PIL import Image

GIGABYTE = 1024**3
CHUNK = 64 * 1024


def png(size: tuple[int, int] = (120, 63), color: tuple[int, int, int] = (23, 111, 176)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def page(head: str, body: str = "<p>Hello.</p>") -> str:
    return f"<!doctype html>\n<html><head>{head}</head><body>{body}</body></html>"


OPENGRAPH = page(
    '<meta charset="utf-8"><title>Fallback title</title>'
    '<meta property="og:title" content="Spark &amp; the fediverse">'
    '<meta property="og:description" content="How a small server talks to big ones.">'
    '<meta property="og:site_name" content="The Example Times">'
    '<meta property="og:image" content="/card.png">'
    '<meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">'
    '<meta property="og:image:alt" content="A blue square">'
    '<meta name="author" content="Ada Writer">'
    '<meta property="article:published_time" content="2026-11-30T08:00:00Z">'
)
TWITTER = page(
    '<meta name="twitter:card" content="summary_large_image">'
    '<meta name="twitter:title" content="Only Twitter tags">'
    '<meta name="twitter:description" content="Described for Twitter.">'
    '<meta name="twitter:image" content="/card.png">'
)
OEMBED_PAGE = page(
    '<title>A video page</title><link rel="alternate" type="application/json+oembed" href="/oembed.json">'
)
OEMBED = {
    "version": "1.0",
    "type": "video",
    "title": "A cat video",
    "author_name": "Cat Person",
    "author_url": "/@cats",
    "provider_name": "ExampleTube",
    "provider_url": "/",
    "thumbnail_url": "/card.png",
    "width": 640,
    "height": 360,
    "html": '<iframe src="https://tube.example/embed/1" width="640" height="360" onload="steal()"></iframe>'
    "<script>alert(1)</script>",
}
RICH_PAGE = page(
    '<title>Rich fallback</title><meta property="og:description" content="OpenGraph wins over rich.">'
    '<link rel="alternate" type="application/json+oembed" href="/rich.json">'
)
RICH = {"version": "1.0", "type": "rich", "title": "Rich", "html": "<script>alert(1)</script>"}
SCRIPT = page(
    '<title><script>alert("title")</script></title>'
    '<meta property="og:title" content="<script>alert(1)</script>">'
    '<meta property="og:image" content="javascript:alert(1)">'
)
SCRIPT_IMAGE = page(
    "<title>Fine title <b>bold</b></title>"
    '<meta property="og:description" content="<img src=x onerror=alert(1)>Plain words">'
    '<meta property="og:image" content="javascript:alert(1)">'
)
MALFORMED = b'\x00\xff<html<<head>>\x89PNG<ti\x00tle <meta ="" property= content=\'\xfe' * 50


class PageSite:
    """The site; `start` binds it on 127.0.0.1 and returns its base URL."""

    def __init__(self, forbidden_base: str | None = None, *, delay: float = 0.0) -> None:
        """FORBIDDEN_BASE is where `/to-private` redirects (a host Spark must refuse); DELAY
        slows every honest page by that many seconds (the benchmark's per-host bound)."""
        self.forbidden_base = forbidden_base
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.user_agents: list[str] = []
        self._server: web.AppRunner | None = None
        self.base = ""
        self.image = png()
        self.forbidden: Forbidden | None = None  # the host `/to-private` leads to, when a test sets it

    async def start(self, aiohttp_server: Callable[..., Awaitable[Any]] | None = None) -> str:
        app = web.Application(middlewares=[self._count])
        app.router.add_get("/{name:.*}", self._route)
        if aiohttp_server is not None:
            server = await aiohttp_server(app, host="127.0.0.1")
            self.base = str(server.make_url("")).rstrip("/")
        else:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            self._server = runner
            self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def close(self) -> None:
        if self._server is not None:
            await self._server.cleanup()

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _route(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        html = {
            "og": OPENGRAPH,
            "twitter": TWITTER,
            "video": OEMBED_PAGE,
            "rich": RICH_PAGE,
            "script": SCRIPT,
            "script-image": SCRIPT_IMAGE,
        }
        if name in html or name.startswith("many/"):
            if self.delay:
                await asyncio.sleep(self.delay)
            text = html.get(name) or page(f"<title>Page {name}</title>")
            return web.Response(text=text, content_type="text/html", charset="utf-8")
        if name == "card.png":
            return web.Response(body=self.image, content_type="image/png")
        if name == "oembed.json":
            return web.json_response(OEMBED)
        if name == "rich.json":
            return web.json_response(RICH)
        if name == "slow":
            await asyncio.sleep(60)
            return web.Response(text=OPENGRAPH, content_type="text/html")
        if name == "trickle":
            return await self._trickle(request)
        if name == "huge":
            return await self._huge(request)
        if name == "loop":
            raise web.HTTPFound(f"/loop?{self.hits['/loop']}")
        if name == "to-private":
            raise web.HTTPFound(f"{self.forbidden_base}/secret")
        if name == "image":
            return web.Response(body=self.image, content_type="image/png")
        if name == "json":
            return web.Response(text=json.dumps({"title": "not a page"}), content_type="application/json")
        if name == "malformed":
            return web.Response(body=MALFORMED, content_type="text/html")
        raise web.HTTPNotFound()

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """A page whose head never ends, sent a byte a second."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for byte in page("<title>Trickled</title>" * 50).encode():
            await response.write(bytes([byte]))
            self.sent["/trickle"] += 1
            await asyncio.sleep(1)
        return response

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """A gigabyte of head with no title and no end, streamed until the reader hangs up."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<!doctype html><html><head><!--")
        filler = b"a" * CHUNK
        while self.sent["/huge"] < GIGABYTE:
            await response.write(filler)
            self.sent["/huge"] += CHUNK
        return response


class Forbidden:
    """A loopback host Spark must never reach: it counts every request that arrives anyway."""

    def __init__(self) -> None:
        self.hits = 0
        self.base = ""

    async def start(self, aiohttp_server: Callable[..., Awaitable[Any]]) -> str:
        async def handler(_request: web.Request) -> web.Response:
            self.hits += 1
            return web.Response(text=page("<title>Secret admin page</title>"), content_type="text/html")

        app = web.Application()
        app.router.add_get("/{name:.*}", handler)
        server = await aiohttp_server(app, host="127.0.0.1")
        self.base = str(server.make_url("")).rstrip("/")
        return self.base
