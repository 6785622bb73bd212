"""Images in the browser: the composer's "Add image", the grid in posts, sensitive media, remote images
through Spark's proxy, avatars and headers from the settings page.

Images are drawn in the test with Pillow. A remote image lives on the Mastodon-shaped peer (an extra
route added to its app before it starts); the browser must only ever ask Spark for it.
"""

from __future__ import annotations

import io

from aiohttp import web
from playwright.async_api import expect
from sqlmodel import select

from outbox import actions, posts
from spark_fed.media.records import profile_images
from spark_fed.models import Account, FollowState, MediaAttachment
from spark_fed.models.media import MediaKind
from tests.conftest import eventually
from tests.peers import FakeMastodon

from .support import follow_state, handle, sign_in, status_by_uri, user

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


def picture(width: int = 640, height: int = 480, colour: str = "#e4572e", fmt: str = "PNG") -> bytes:
    """A small picture: a coloured field with a circle and a bar, so that crops and scaling show."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    cx, cy, r = width // 2, height // 2, side // 4
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill="#f3f3f3")
    draw.rectangle((0, height - side // 8, width, height), fill="#1b2f4d")
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def upload(name: str, data: bytes, mime: str = "image/png") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def _post(page, text: str):
    return page.locator("article.post").filter(has=page.locator(".content", has_text=text))


async def _loaded(img) -> int:
    """The image's naturalWidth once it has loaded (0: broken)."""
    await expect(img).to_be_visible()
    return await img.evaluate(
        "i => i.complete ? i.naturalWidth : new Promise(r => i.onload = i.onerror = () => r(i.naturalWidth))"
    )


async def _reload_until(page, locator, what: str, timeout: float = 10.0) -> None:
    async def shown() -> bool:
        await page.reload()
        return await locator.count() > 0

    await eventually(shown, timeout=timeout, what=what)


def _only_spark(page, base: str) -> list[str]:
    """Every URL the page asks for that is not on BASE (nor data:): what must stay empty."""
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((base, "data:")) else elsewhere.append(r.url))
    return elsewhere


async def _accepted(spark, follower: Account, followee_uri: str) -> bool:
    return await follow_state(spark, follower.uri, followee_uri) == FollowState.ACCEPTED


async def test_an_image_posted_from_the_composer_shows_and_reaches_the_other_spark(
    start_spark, page, new_page, screenshot, axe
) -> None:
    a = await start_spark()
    b = await start_spark()
    alice = await user(a, "alice", display_name="Alice")
    bob = await user(b, "bob", display_name="Bob")
    await actions.follow(b.ctx, bob, alice.uri)
    await eventually(lambda: _accepted(b, bob, alice.uri), what="alice's Accept on bob's instance")
    elsewhere = _only_spark(page, a.base)

    await sign_in(page, a, "alice")
    composer = page.locator("form#compose")
    assert await composer.get_attribute("enctype") == "multipart/form-data"
    chooser = page.get_by_label("Add image", exact=True)
    assert set((await chooser.get_attribute("accept")).split(",")) == set(IMAGE_TYPES)
    await page.get_by_label("What's happening?").fill("Sunset over the bay")
    await chooser.set_input_files(upload("sunset.png", picture(1200, 800)))
    preview = composer.locator(".media-previews img")
    await expect(preview).to_have_count(1)
    assert await _loaded(preview) > 0  # the preview is a data: URL of the chosen file
    await page.get_by_label("Image description").fill("An orange sky with a white sun above dark water")
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{a.base}/")

    post = _post(page, "Sunset over the bay")
    image = post.get_by_role("img", name="An orange sky with a white sun above dark water")
    assert await _loaded(image) > 0
    src = await image.evaluate("i => i.src")
    assert src.startswith(f"{a.base}/media/") and src.endswith("/small"), src
    await expect(composer.locator(".media-previews img")).to_have_count(0)  # a fresh composer
    assert await axe(page) == []
    await screenshot(page, "media-post-desktop")

    # The full-size image is one click away (a plain link).
    async with page.expect_navigation():
        await image.click()
    assert page.url.startswith(f"{a.base}/media/") and page.url.endswith("/original"), page.url
    assert await page.evaluate("document.images[0].naturalWidth") == 1200
    await page.go_back()

    # It reached bob's instance as an attachment with its description, and shows there from bob's Spark.
    [status] = [s for s in await _statuses_with_text(a, "Sunset")]

    async def arrived():
        there = await status_by_uri(b, status.uri)
        if there is None:
            return None
        async with b.db.read() as session:
            rows = (
                await session.exec(select(MediaAttachment).where(MediaAttachment.status_id == there.id))
            ).all()
        return rows or None

    [remote] = await eventually(arrived, what="the post and its image on bob's instance")
    assert remote.description == "An orange sky with a white sun above dark water"
    assert remote.remote_url.startswith(f"{a.base}/media/") and not remote.local
    bobs = await new_page()
    bob_elsewhere = _only_spark(bobs, b.base)
    await sign_in(bobs, b, "bob")
    there = _post(bobs, "Sunset over the bay")
    await _reload_until(bobs, there, "alice's post in bob's home")
    seen = there.get_by_role("img", name="An orange sky with a white sun above dark water")
    assert await _loaded(seen) > 0
    assert (await seen.evaluate("i => i.src")).startswith(f"{b.base}/media/{remote.id}/")
    assert elsewhere == [] and bob_elsewhere == []

    # On a phone: the post fits, the image with it.
    phone = await new_page(phone=True)
    await sign_in(phone, a, "alice")
    assert await _loaded(_post(phone, "Sunset over the bay").get_by_role("img", name="An orange sky")) > 0
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 375
    await screenshot(phone, "media-post-phone")


async def _statuses_with_text(spark, text: str):
    from .support import statuses

    return [s for s in await statuses(spark) if s.text and text in s.text]


async def test_four_images_fit_a_phone_and_sensitive_media_wait_for_show(
    spark, phone_page, page, screenshot, axe
) -> None:
    await user(spark, "alice", display_name="Alice")
    colours = ("#e4572e", "#29335c", "#f3a712", "#669bbc")

    # Four images from the phone's composer, one description each, behind a content warning.
    await sign_in(phone_page, spark, "alice")
    await phone_page.get_by_label("What's happening?").fill("Four seasons")
    await phone_page.get_by_label("Content warning").fill("Bright colours")
    await phone_page.get_by_label("Add image", exact=True).set_input_files(
        [upload(f"season-{n}.png", picture(800, 600 + 100 * n, colour)) for n, colour in enumerate(colours)]
    )
    fields = phone_page.get_by_label("Image description")
    await expect(fields).to_have_count(4)
    for n in range(4):
        await fields.nth(n).fill(f"Season {n + 1}")
    previews = phone_page.locator(".media-previews img")
    for n in range(4):
        assert await _loaded(previews.nth(n)) > 0
    assert await phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert await axe(phone_page) == []
    await screenshot(phone_page, "media-composer-phone")
    # "Remove" takes an image out of the selection; its description goes with it.
    await fields.nth(3).fill("Not this one")
    await phone_page.get_by_role("button", name="Remove image 4").click()
    await expect(fields).to_have_count(3)
    await expect(fields.nth(2)).to_have_value("Season 3")
    await phone_page.get_by_label("Add image", exact=True).set_input_files(
        [upload(f"season-{n}.png", picture(800, 600 + 100 * n, colour)) for n, colour in enumerate(colours)]
    )
    await expect(fields).to_have_count(4)
    await expect(fields.nth(0)).to_have_value("Season 1")  # what was typed stays with its file
    await fields.nth(3).fill("Season 4")
    await phone_page.get_by_role("button", name="Post", exact=True).click()
    await phone_page.wait_for_url(f"{spark.base}/")

    post = phone_page.locator("article.post").first
    hidden = post.locator("details.sensitive")
    await expect(hidden.get_by_text("Show", exact=True)).to_be_visible()
    for n in range(4):
        await expect(post.get_by_role("img", name=f"Season {n + 1}", exact=True)).to_be_hidden()
    await hidden.get_by_text("Show", exact=True).click()
    grid = post.locator(".media-grid.n4")
    for n in range(4):
        assert await _loaded(grid.get_by_role("img", name=f"Season {n + 1}", exact=True)) > 0
    assert await phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert await axe(phone_page) == []
    await screenshot(phone_page, "media-four-sensitive-phone")
    await hidden.get_by_text("Hide", exact=True).click()
    await expect(grid).to_be_hidden()

    # The same grid, not sensitive, on the desktop: four thumbnails in a square, none without alt.
    alice = (await _accounts(spark))["alice"]
    ids = [(await spark.ctx.media.upload(alice, picture(900, 600, c))).id for c in colours]
    await posts.post(spark.ctx, alice, "Four more, no warning", media_ids=ids)
    await sign_in(page, spark, "alice")
    grid = _post(page, "Four more, no warning").locator(".media-grid.n4")
    await expect(grid.get_by_role("img", name="Image", exact=True)).to_have_count(4)  # no description given
    for n in range(4):
        assert await _loaded(grid.get_by_role("img").nth(n)) > 0
    assert await axe(page) == []
    await screenshot(page, "media-four-desktop")
    await phone_page.reload()
    assert await phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    await screenshot(phone_page, "media-four-phone")


async def _accounts(spark) -> dict[str, Account]:
    async with spark.db.read() as session:
        return {a.username: a for a in (await session.exec(select(Account))).all()}


async def test_images_from_a_mastodon_peer_come_through_the_proxy(
    spark, page, aiohttp_server, axe, screenshot
) -> None:
    fetched: list[str] = []
    png, avatar = picture(600, 400, "#3c8d2f"), picture(200, 200, "#8e44ad")

    async def media(request: web.Request) -> web.Response:
        fetched.append(request.path)
        name = request.match_info["name"]
        if name == "broken.png":  # what a misconfigured server sends: a page, not an image
            return web.Response(text="<!doctype html><p>Not found</p>", content_type="text/html")
        return web.Response(body=avatar if name == "avatar.png" else png, content_type="image/png")

    peer = FakeMastodon()
    peer.add_account("carol", display_name="Carol")
    peer.app.router.add_get("/system/files/{name}", media)
    plain_actor = peer.actor_document

    def actor_with_avatar(username: str) -> dict:
        document = plain_actor(username)
        document["icon"] = {
            "type": "Image",
            "mediaType": "image/png",
            "url": f"{peer.origin}/system/files/avatar.png",
        }
        return document

    peer.actor_document = actor_with_avatar  # type: ignore[method-assign]
    await peer.start(aiohttp_server)
    alice = await user(spark, "alice", display_name="Alice")
    await actions.follow(spark.ctx, alice, f"carol@{peer.domain}")
    await eventually(lambda: _accepted(spark, alice, peer.actor_id("carol")), what="the peer's Accept")

    create = peer.create_note("carol", "Picked these today", ld_signed=False)
    create["object"]["attachment"] = [
        {"type": "Document", "mediaType": "image/png", "url": f"{peer.origin}/system/files/leaves.png",
         "name": "Green leaves on a table", "width": 600, "height": 400},
        {"type": "Document", "mediaType": "image/png", "url": f"{peer.origin}/system/files/broken.png",
         "name": "A jar of honey", "width": 600, "height": 400},
    ]  # fmt: skip
    assert (await peer.send(create, f"{spark.base}/inbox", "carol")).status == 202
    await eventually(lambda: status_by_uri(spark, create["object"]["id"]), what="carol's note on Spark")

    elsewhere = _only_spark(page, spark.base)
    await sign_in(page, spark, "alice")
    post = _post(page, "Picked these today")
    await expect(post).to_have_count(1)
    leaves = post.get_by_role("img", name="Green leaves on a table")
    assert await _loaded(leaves) > 0
    assert (await leaves.evaluate("i => i.src")).startswith(f"{spark.base}/media/")
    # The broken file is a link to where it lives, with its alt text: at once (the script swaps the
    # image that did not load), and as the page is rendered from then on.
    broken = post.get_by_role("link", name="A jar of honey")
    await expect(broken).to_have_attribute("href", f"{peer.origin}/system/files/broken.png")
    await page.reload()
    await expect(broken).to_have_attribute("href", f"{peer.origin}/system/files/broken.png")
    await expect(post.get_by_role("img", name="A jar of honey")).to_have_count(0)
    assert await _loaded(post.get_by_role("img", name="Green leaves on a table")) > 0

    # carol's avatar comes through the proxy too.
    avatar_img = post.locator("img.avatar")
    assert (await avatar_img.get_attribute("src")).startswith("/media/")
    assert await _loaded(avatar_img) > 0
    assert await axe(page) == []
    await screenshot(page, "media-remote-desktop")
    await page.goto(f"{spark.base}/@carol@{peer.domain}")
    assert await _loaded(page.get_by_role("img", name="Avatar of Carol")) > 0
    assert elsewhere == []  # the browser never asked the peer for anything
    assert {"/system/files/leaves.png", "/system/files/broken.png", "/system/files/avatar.png"} <= set(
        fetched
    )
    fetched_once = len(fetched)
    await page.goto(f"{spark.base}/")
    assert await _loaded(post.get_by_role("img", name="Green leaves on a table")) > 0
    assert fetched.count("/system/files/leaves.png") == 1, fetched[fetched_once:]  # served from Spark's copy


async def test_avatar_and_header_from_settings(start_spark, page, screenshot, axe) -> None:
    a = await start_spark()
    b = await start_spark()
    alice = await user(a, "alice", display_name="Alice")
    bob = await user(b, "bob", display_name="Bob")
    await actions.follow(b.ctx, bob, alice.uri)
    await eventually(lambda: _accepted(b, bob, alice.uri), what="alice's Accept on bob's instance")

    await sign_in(page, a, "alice")
    await page.get_by_role("link", name="Settings").click()
    await page.get_by_label("Avatar", exact=True).set_input_files(
        upload("me.png", picture(400, 400, "#0b7a4b"))
    )
    await page.get_by_label("Header", exact=True).set_input_files(
        upload("bay.jpg", picture(1500, 500, "#176fb0", "JPEG"), "image/jpeg")
    )
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.get_by_role("status")).to_have_text("Profile saved.")
    assert await _loaded(page.get_by_role("img", name="Your avatar")) > 0
    assert await _loaded(page.get_by_role("img", name="Your header image")) > 0
    assert await axe(page) == []

    await page.goto(f"{a.base}/@alice")
    avatar = page.get_by_role("img", name="Avatar of Alice")
    assert (await avatar.get_attribute("src")).startswith("/media/")
    assert await _loaded(avatar) > 0
    header = page.locator(".profile .banner img")
    assert (await header.get_attribute("src")).startswith("/media/")
    assert await _loaded(header) > 0
    assert await axe(page) == []
    await screenshot(page, "media-profile-desktop")

    # A file that is not an image is refused with the reason, and the avatar stays.
    await page.goto(f"{a.base}/settings")
    await page.get_by_label("Avatar", exact=True).set_input_files(
        upload("evil.png", b"<svg onload=alert(1)>")
    )
    async with page.expect_response(f"{a.base}/settings/profile") as answer:
        await page.get_by_role("button", name="Save profile").click()
    assert (await answer.value).status == 422
    await expect(page.get_by_role("alert")).to_contain_text(
        "The avatar was refused: not a JPEG, PNG, WebP or GIF"
    )
    assert await _loaded(page.get_by_role("img", name="Your avatar")) > 0

    # bob's instance learns of both from the Update(Person) (actor documents carry icon and image).
    async def pictures_on_b():
        async with b.db.read() as session:
            there = (await session.exec(select(Account).where(Account.uri == alice.uri))).first()
            found = await profile_images(session, {there.id}) if there else {}
        return found if len(found) == 2 else None

    found = await eventually(pictures_on_b, what="alice's avatar and header on bob's instance")
    assert all(row.remote_url.startswith(f"{a.base}/media/") for row in found.values())
    bobs_view = await page.context.browser.new_page()
    try:
        await bobs_view.goto(f"{b.base}/{handle(a, 'alice')}")
        await expect(bobs_view.get_by_role("heading", level=1)).to_have_text("Alice")
        shown = bobs_view.get_by_role("img", name="Avatar of Alice")
        assert (
            await shown.get_attribute("src")
        ) == f"/media/{found[(_id(found), MediaKind.AVATAR)].id}/small"
        assert await _loaded(shown) > 0
    finally:
        await bobs_view.close()


def _id(found: dict) -> int:
    return next(iter(found))[0]


async def test_images_without_javascript_and_a_refused_file(spark, new_page, screenshot) -> None:
    await user(spark, "alice", display_name="Alice")
    page = await new_page(java_script_enabled=False)
    await sign_in(page, spark, "alice")
    chooser = page.get_by_label("Add image", exact=True)
    await expect(chooser).to_be_visible()  # the file input itself, without the script's button
    descriptions = page.get_by_label("Image description")
    await expect(descriptions).to_have_count(4)  # one per image, in the order the files are chosen
    await chooser.set_input_files(
        [
            upload("a.png", picture(500, 500, "#e4572e")),
            upload("b.gif", picture(300, 200, "#29335c", "GIF"), "image/gif"),
        ]
    )
    await descriptions.nth(0).fill("A red square")
    await descriptions.nth(1).fill("A blue band")
    await page.get_by_label("Content warning").fill("Colours")
    await screenshot(page, "media-composer-no-js")
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    post = page.locator("article.post").first
    await expect(post.get_by_role("img", name="A red square")).to_be_hidden()
    await post.locator("details.sensitive").get_by_text("Show", exact=True).click()
    assert await _loaded(post.get_by_role("img", name="A red square")) > 0
    assert await _loaded(post.get_by_role("img", name="A blue band")) > 0

    # A post of images only, no text, is a post too.
    await page.get_by_label("Add image", exact=True).set_input_files(
        upload("c.webp", picture(320, 240, "#f3a712", "WEBP"), "image/webp")
    )
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    assert await _loaded(page.locator("article.post").first.get_by_role("img", name="Image", exact=True)) > 0

    # A page named .png is refused with the reason (422), and nothing is posted.
    before = await page.locator("article.post").count()
    await page.get_by_label("What's happening?").fill("This should not be posted")
    await page.get_by_label("Add image", exact=True).set_input_files(
        upload("cat.png", b"<!doctype html><p>not a cat")
    )
    async with page.expect_response(f"{spark.base}/web/statuses") as answer:
        await page.get_by_role("button", name="Post", exact=True).click()
    assert (await answer.value).status == 422
    await expect(
        page.get_by_text("The image cat.png was refused: not a JPEG, PNG, WebP or GIF image.")
    ).to_be_visible()
    await page.goto(f"{spark.base}/")
    await expect(page.locator("article.post")).to_have_count(before)
    await expect(page.get_by_text("This should not be posted")).to_have_count(0)
