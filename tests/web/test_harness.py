"""The browser harness itself: Chromium opens a page served on loopback under a strict CSP,
axe finds nothing wrong with an accessible page and names what is wrong with a broken one,
and screenshots land in build/screenshots."""

from aiohttp import web

CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Harness</title>
  <link rel="stylesheet" href="/style.css">
  <script src="/app.js" defer></script>
</head>
<body>
  <header><nav aria-label="Main"><a href="/">Home</a></nav></header>
  <main>
    <h1 id="title">Spark harness</h1>
    <p id="status">static</p>
    <script>document.getElementById("title").textContent = "CSP not enforced";</script>
  </main>
</body>
</html>
"""

BROKEN = """<!doctype html>
<html><head><title>Broken</title></head>
<body><main><h1>Broken</h1><img src="/missing.png"><button></button></main></body></html>
"""

CSS = "body { font-family: sans-serif; margin: 2rem; color: #111; background: #fff; }\n"
JS = 'document.getElementById("status").textContent = "script from self ran";\n'


async def _server(aiohttp_server):
    def respond(body: str, content_type: str):
        async def handler(request: web.Request) -> web.Response:
            response = web.Response(text=body, content_type=content_type)
            response.headers["Content-Security-Policy"] = CSP
            return response

        return handler

    app = web.Application()
    app.router.add_get("/", respond(PAGE, "text/html"))
    app.router.add_get("/broken", respond(BROKEN, "text/html"))
    app.router.add_get("/style.css", respond(CSS, "text/css"))
    app.router.add_get("/app.js", respond(JS, "text/javascript"))
    server = await aiohttp_server(app)
    return str(server.make_url("/"))


async def test_page_heading_axe_and_screenshot(page, aiohttp_server, axe, screenshot):
    base = await _server(aiohttp_server)
    await page.goto(base)

    assert page.viewport_size == {"width": 1280, "height": 800}
    # the inline script that would rename it was refused, the one from self ran
    assert await page.get_by_role("heading", level=1).text_content() == "Spark harness"
    assert await page.locator("#status").text_content() == "script from self ran"
    assert await axe(page) == []  # and axe itself ran despite script-src 'self'

    path = await screenshot(page, "harness")
    assert path.name == "harness.png" and path.parent.name == "screenshots"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def test_axe_names_the_rules_and_targets(page, aiohttp_server, axe):
    await page.goto(await _server(aiohttp_server) + "broken")

    violations = await axe(page)
    ids = {violation["id"] for violation in violations}
    assert {"image-alt", "button-name", "html-has-lang"} <= ids
    assert "image-alt (critical): Images must have alternative text at [img]" in repr(violations)


async def test_phone_page_is_phone_sized(phone_page, aiohttp_server, axe):
    await phone_page.goto(await _server(aiohttp_server))

    assert await phone_page.evaluate("[innerWidth, innerHeight]") == [375, 812]
    assert await axe(phone_page) == []
