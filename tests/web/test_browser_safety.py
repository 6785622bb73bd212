"""What another site and a hostile peer cannot make a signed-in browser do.

The attacker's site is another aiohttp server on another port of 127.0.0.1: to the browser that is
"same-site" (cookies with SameSite=Lax go along) but not same-origin, the case the origin check
exists for. The hostile peer is the Mastodon-shaped fake, delivering HTML a real server might.
"""

from __future__ import annotations

from aiohttp import web
from playwright.async_api import expect

from outbox import actions
from spark_fed.models import FollowState
from tests.conftest import eventually
from tests.peers import FakeMastodon

from .support import follow_state, sign_in, statuses, user

ATTACK = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head>
<body>
<h1>Win a prize</h1>
<form id="post" method="post" action="{spark}/web/statuses">
  <input name="text" value="I was made to post this">
  <input name="visibility" value="public">
  <input name="csrf_token" value="a guess">
  <button type="submit">Claim</button>
</form>
<form id="follow" method="post" action="{spark}/web/accounts/{target}/follow">
  <input name="next" value="/">
  <button type="submit">Follow</button>
</form>
<form id="signin" method="post" action="{spark}/auth/sign_in">
  <input name="username" value="mallory"><input name="password" value="password123">
  <button type="submit">Sign in</button>
</form>
<script>{script}</script>
</body></html>
"""
AUTO_SUBMIT = 'document.getElementById("post").submit();'
# A script's own request: no-cors, so it cannot read the answer, but the request would still land.
FETCH = """
window.done = fetch("{spark}/web/statuses", {{
  method: "POST", mode: "no-cors", credentials: "include",
  body: new URLSearchParams({{text: "posted by fetch", visibility: "public"}}),
}}).then(() => "sent", (e) => "failed: " + e);
"""
FRAME = """<!doctype html><html lang="en"><head><title>Framed</title></head>
<body><iframe id="frame" title="Spark" src="{spark}/" width="800" height="600"></iframe></body></html>
"""


async def _attacker(aiohttp_server, pages: dict[str, str]) -> str:
    """Another origin on loopback that serves PAGES (no CSP of its own: its inline script runs)."""
    app = web.Application()
    for path, body in pages.items():

        async def serve(request: web.Request, body: str = body) -> web.Response:
            return web.Response(text=body, content_type="text/html")

        app.router.add_get(path, serve)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


async def test_cross_origin_forms_are_refused_and_change_nothing(spark, page, aiohttp_server) -> None:
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    await user(spark, "mallory")
    fill = {"spark": spark.base, "target": bob.id}
    evil = await _attacker(
        aiohttp_server,
        {
            "/auto": ATTACK.format(**fill, script=AUTO_SUBMIT),
            "/click": ATTACK.format(**fill, script=""),
            "/fetch": ATTACK.format(**fill, script=FETCH.format(**fill)),
            "/frame": FRAME.format(**fill),
        },
    )
    # Another port of the same host: the same site to the browser, but another origin.
    assert evil.startswith("http://127.0.0.1:") and evil != spark.base
    await sign_in(page, spark, "alice")

    # A page that submits a form to Spark as soon as it loads: the answer is 403.
    async with page.expect_response(f"{spark.base}/web/statuses") as answer:
        await page.goto(f"{evil}/auto")
    assert (await answer.value).status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.get_by_text("This form was sent from another site.")).to_be_visible()

    # Forms a person is tricked into pressing: a follow (no token at all) and a sign-in as someone else.
    for form, path in (("follow", f"/web/accounts/{bob.id}/follow"), ("signin", "/auth/sign_in")):
        await page.goto(f"{evil}/click")
        async with page.expect_response(f"{spark.base}{path}") as answer:
            await page.locator(f"#{form}").get_by_role("button").click()
        assert (await answer.value).status == 403, form

    # A script's fetch (no-cors, cookies included) is refused the same way.
    async with page.expect_response(f"{spark.base}/web/statuses") as answer:
        await page.goto(f"{evil}/fetch")
        assert await page.evaluate("window.done") == "sent"
    assert (await answer.value).status == 403

    # Nothing changed: no post, no follow, and the browser is still alice's, not mallory's.
    assert await statuses(spark) == []
    assert await follow_state(spark, alice.uri, bob.uri) is None
    await page.goto(f"{spark.base}/")
    await expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()
    await expect(page.locator(".signout .me")).to_contain_text("@alice")
    await expect(page.locator("article.post")).to_have_count(0)

    # Framing: every page says frame-ancestors 'none', and the browser shows nothing of Spark in a frame.
    for path in ("/", "/auth/sign_in", "/@alice", "/settings", "/notifications", "/explore", "/search?q=x"):
        response = await page.goto(f"{spark.base}{path}")
        assert response is not None and response.ok, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
    await page.goto(f"{evil}/frame")
    frame = page.frame_locator("#frame")
    await expect(page.locator("#frame")).to_be_visible()
    await page.wait_for_timeout(300)
    await expect(frame.get_by_role("heading", name="Home")).to_have_count(0)

    # The same post from Spark's own page works, so the refusals above were not for another reason.
    await page.goto(f"{spark.base}/")
    await page.get_by_label("What's happening?").fill("posted from Spark itself")
    await page.get_by_role("button", name="Post", exact=True).click()
    await expect(page.locator("article.post .content")).to_have_text("posted from Spark itself")
    assert [s.text for s in await statuses(spark)] == ["posted from Spark itself"]


HOSTILE = (
    '<p>Totally normal post <script>window.pwned = "script"; alert("script")</script>'
    "<img src=\"/nothing.png\" onerror=\"window.pwned = 'img'; alert('img')\">"
    "<a href=\"javascript:window.pwned = 'link'\">a link</a> "
    '<svg><script>window.pwned = "svg"</script></svg>'
    '<iframe srcdoc="<script>parent.pwned = 1</script>"></iframe>'
    '<a href="https://example.com/" onclick="window.pwned = \'click\'">example</a> #tag</p>'
)
HOSTILE_CW = "<img src=x onerror=\"window.pwned = 'cw'\"> spoiler"


async def _watch(page) -> list[str]:
    """Every dialog a page opens (and dismiss it), so an alert() would be seen, not hang the test."""
    dialogs: list[str] = []

    async def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


async def _assert_inert(page, where: str) -> None:
    assert await page.evaluate("typeof window.pwned") == "undefined", where
    found = await page.evaluate(
        """() => Array.from(document.querySelectorAll('#main *')).filter((el) =>
            ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED'].includes(el.tagName.toUpperCase())
            || Array.from(el.attributes).some((a) => a.name.startsWith('on'))
            || (el.getAttribute('href') || '').trim().toLowerCase().startsWith('javascript:')
        ).map((el) => el.outerHTML.slice(0, 120))"""
    )
    assert found == [], f"{where}: {found}"


async def _followed_peer(spark, aiohttp_server, **account) -> tuple[FakeMastodon, object]:
    peer = FakeMastodon()
    peer.add_account("mallory", **account)
    await peer.start(aiohttp_server)
    alice = await user(spark, "alice", display_name="Alice")
    await actions.follow(spark.ctx, alice, f"mallory@{peer.domain}")

    async def accepted() -> bool:
        return await follow_state(spark, alice.uri, peer.actor_id("mallory")) == FollowState.ACCEPTED

    await eventually(accepted, what="the peer's Accept")
    return peer, alice


async def test_a_hostile_remote_note_runs_nothing(spark, page, aiohttp_server) -> None:
    peer, alice = await _followed_peer(spark, aiohttp_server, display_name="Mallory")
    dialogs = await _watch(page)
    note = peer.create_note("mallory", content=HOSTILE, hashtags=["tag"], mentions=[alice.uri])
    cw = peer.create_note("mallory", content=HOSTILE, summary=HOSTILE_CW, sensitive=True)
    for activity in (note, cw):
        assert (await peer.send(activity, f"{spark.base}/inbox", "mallory")).status == 202
    rows = await eventually(lambda: _two(statuses(spark)), what="both notes to be stored")

    await sign_in(page, spark, "alice")
    posts = page.locator("article.post")
    await expect(posts).to_have_count(2)
    await expect(posts.filter(has_text="Totally normal post").first).to_be_visible()
    warned = page.locator("details.cw")
    await expect(warned.locator("summary")).to_contain_text("spoiler")
    await expect(warned.locator("summary")).to_contain_text("<img")  # shown as text, not made an element
    await warned.get_by_text("Show more").click()
    await expect(warned.locator(".content")).to_be_visible()
    await posts.get_by_text("a link").first.click()  # what was a javascript: link goes nowhere
    await expect(page).to_have_url(f"{spark.base}/")
    await _assert_inert(page, "home")

    by_id = {row.uri: row for row in rows}
    stored = by_id[note["object"]["id"]]
    await page.goto(f"{spark.base}/@mallory@{peer.domain}/{stored.id}")
    await expect(page.locator("article.post.focus")).to_contain_text("Totally normal post")
    await _assert_inert(page, "thread")
    await page.goto(f"{spark.base}/notifications")
    await expect(page.get_by_role("article", name="Mallory mentioned you")).to_be_visible()
    await _assert_inert(page, "notifications")
    await page.goto(f"{spark.base}/tags/tag")
    await expect(posts.first).to_be_visible()
    await _assert_inert(page, "tag")
    assert dialogs == []


async def _two(rows):
    found = await rows
    return found if len(found) == 2 else None


async def test_a_hostile_remote_profile_runs_nothing(spark, page, aiohttp_server) -> None:
    peer, _alice = await _followed_peer(
        spark,
        aiohttp_server,
        display_name="<img src=x onerror=\"window.pwned = 'name'\">Mallory",
        summary=HOSTILE,
    )
    dialogs = await _watch(page)
    await sign_in(page, spark, "alice")
    await page.goto(f"{spark.base}/@mallory@{peer.domain}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("<img")  # the name is text
    await expect(page.locator(".bio")).to_contain_text("Totally normal post")
    await _assert_inert(page, "profile")
    await page.goto(f"{spark.base}/search?q=@mallory@{peer.domain}")
    await expect(page.locator("article.account-card")).to_have_count(1)
    await _assert_inert(page, "search")
    assert dialogs == []
