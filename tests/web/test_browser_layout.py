"""How the pages look and read: axe-core on each, no sideways scrolling on a phone, screenshots.

One instance is filled with a small, plausible conversation (two local people, one on the
Mastodon-shaped peer; a mention, a hashtag, a repost, a content warning, a reply, a like) so that
every kind of post markup is on the pages checked. Screenshots land in build/screenshots/ (phone
375 px and desktop 1280 px), and the desktop home page's first screen as build/screenshots/readme-home.png
(copy it to docs/screenshot-home.png, the README's picture, when the look changes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import timedelta

from playwright.async_api import expect
from sqlmodel import col, update

from outbox import actions, interactions, posts
from spark_fed.config import InstanceConfig
from spark_fed.models import FollowState, Status
from spark_fed.models.types import utcnow
from tests.conftest import Spark, eventually, free_port, test_config
from tests.peers import FakeMastodon

from .conftest import ROOT
from .support import follow_state, sign_in, statuses, user

README_SCREENSHOT = ROOT / "build" / "screenshots" / "readme-home.png"
LONG_LINK = "https://example.com/a/very/long/path/that/goes/on/and/on/and/on/index.html?with=a&query=string"
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3


@dataclass
class World:
    spark: Spark
    peer: FakeMastodon
    thread: str  # path of alice's question, which has replies
    profile: str  # path of bob's profile


async def _world(spark: Spark, aiohttp_server) -> World:
    """A morning on a small server, told in the order it happened (backdated afterwards)."""
    peer = FakeMastodon()
    peer.add_account("dana", display_name="Dana Kim", summary="<p>Urban gardener. Coffee first.</p>")
    await peer.start(aiohttp_server)
    alice = await user(spark, "alice", display_name="Alice Moreau", bio="Making things with wood and words.")
    bob = await user(spark, "bob", display_name="Bob Okafor", bio="Firmware by day, bread by night.")
    carol = await user(spark, "carol", display_name="Carol")
    await actions.follow(spark.ctx, alice, bob.uri)
    await actions.follow(spark.ctx, bob, alice.uri)
    await actions.follow(spark.ctx, alice, f"dana@{peer.domain}")

    async def dana_accepted() -> bool:
        return await follow_state(spark, alice.uri, peer.actor_id("dana")) == FollowState.ACCEPTED

    await eventually(dana_accepted, what="the peer's Accept")

    release = await posts.post(
        spark.ctx, carol, "Version 2.0 of the garden sensor firmware is out: half the power draw. #opensource"
    )
    question = await posts.post(spark.ctx, alice, "Hey @bob, lunch tomorrow? I found a new ramen place ☕")
    await posts.post(spark.ctx, bob, "@alice Yes! 12:30 at the usual corner?", reply_to=question.uri)
    await posts.post(
        spark.ctx,
        carol,
        f"The menu is at {LONG_LINK} and their {LONG_WORD} bowl is famous",
        reply_to=question.uri,
    )
    await interactions.like(spark.ctx, bob, question.uri)
    # A remote note's id comes from its `published`, which Mastodon gives in whole seconds.
    await asyncio.sleep(1.0)
    note = peer.create_note(
        "dana",
        "is anyone going to the repair café on Saturday? I'm bringing a lamp that has seen better days.",
        mentions=[alice.uri],
    )
    assert (await peer.send(note, f"{spark.base}/inbox", "dana")).status == 202
    await eventually(lambda: _count(statuses(spark), 5), what="dana's note")
    await posts.post(
        spark.ctx, bob, "The season finale was unreal. That last scene!", cw="Spoilers: the finale"
    )
    # bob reposts a post of someone alice does not follow: it reaches her home as his repost.
    await interactions.boost(spark.ctx, bob, release.uri)
    await interactions.like(spark.ctx, alice, release.uri)

    # Spread the posts over the last few hours, oldest first, so the times read like a real feed.
    rows = await statuses(spark)
    async with spark.db.write() as session:
        for age, row in zip(range(len(rows), 0, -1), rows, strict=True):
            moment = utcnow() - timedelta(minutes=age * 23 - 20)
            await session.exec(update(Status).where(col(Status.id) == row.id).values(published=moment))
    return World(spark=spark, peer=peer, thread=f"/@alice/{question.id}", profile="/@bob")


async def _count(rows, n: int):
    found = await rows
    return found if len(found) == n else None


async def _no_sideways_scroll(page, where: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{where} scrolls sideways at 375 px: scrollWidth {width}"


async def test_pages_pass_axe_fit_a_phone_and_are_photographed(
    spark, new_page, aiohttp_server, axe, screenshot
):
    world = await _world(spark, aiohttp_server)
    base = spark.base
    pages = {
        "home": "/",
        "thread": world.thread,
        "profile": world.profile,
        "notifications": "/notifications",
        "settings": "/settings",
        "remote-profile": f"/@dana@{world.peer.domain}",
        "search": f"/search?q=@dana@{world.peer.domain}",
        "explore": "/explore",
        "tag": "/tags/opensource",
    }
    desktop = await new_page()
    phone = await new_page(phone=True)
    await sign_in(desktop, spark, "alice")
    await sign_in(phone, spark, "alice")

    # What the home page shows of each kind of post.
    feed = desktop.get_by_role("region", name="Home timeline")
    await expect(feed.locator("article.post").first.locator(".context")).to_have_text("Bob Okafor reposted")
    await expect(feed.locator("details.cw summary")).to_contain_text("Spoilers: the finale")
    await expect(feed.locator("details.cw .content")).to_be_hidden()
    await expect(feed.locator("a.hashtag", has_text="opensource").first).to_be_visible()
    await expect(feed.locator("a.mention", has_text="bob")).to_have_count(1)
    await expect(feed.locator(".author", has_text=f"@dana@{world.peer.domain}")).to_have_count(1)
    await expect(feed.locator(".context", has_text="Replying to @alice")).to_have_count(1)
    await screenshot(desktop, "home-desktop")
    await desktop.screenshot(path=README_SCREENSHOT)  # the first screen, as people see it

    failures: list[str] = []
    for name, path in pages.items():
        for page, width in ((desktop, "desktop"), (phone, "phone")):
            response = await page.goto(f"{base}{path}")
            assert response is not None and response.ok, f"{name}: {response and response.status}"
            await page.locator("#main").wait_for()
            if violations := await axe(page):
                failures.append(f"{name} ({width}):\n{violations!r}")
            if width == "phone":
                await _no_sideways_scroll(page, name)
            if name in ("home", "thread", "profile", "notifications"):
                await screenshot(page, f"{name}-{width}")
    assert failures == [], "\n".join(failures)

    # A phone opens the content warning and the reply box without anything spilling sideways.
    await phone.goto(f"{base}/")
    await phone.locator("details.cw summary").click()
    await expect(phone.locator("details.cw .content")).to_be_visible()
    await _no_sideways_scroll(phone, "home with the content warning open")
    assert await axe(phone) == []
    await phone.goto(f"{base}{world.thread}#reply")
    await phone.get_by_label("Post your reply").fill(LONG_WORD)
    await _no_sideways_scroll(phone, "thread with a long reply typed")

    # Dark mode on a tablet: the other palette, and the navigation shrunk to icons (800 px).
    dark = await new_page(color_scheme="dark", viewport={"width": 800, "height": 1000})
    await sign_in(dark, spark, "alice")
    for name in ("home", "thread", "notifications", "profile"):
        await dark.goto(f"{base}{pages[name]}")
        assert await axe(dark) == [], f"{name} (dark, 800 px)"
        assert await dark.evaluate("document.documentElement.scrollWidth") <= 800, name
        await expect(dark.get_by_role("search").get_by_label("Search", exact=True)).to_be_attached()
    await screenshot(dark, "profile-dark-tablet")
    search = dark.get_by_role("search").get_by_label("Search", exact=True)
    await search.fill("Bob")  # the search box is there at this width too, below the column
    await search.press("Enter")
    await expect(dark.locator("article.account-card")).to_contain_text("Bob Okafor")


async def test_signed_out_pages_pass_axe_and_fit_a_phone(
    start_spark, database_url, new_page, aiohttp_server, axe, screenshot
):
    open_for_sign_ups = InstanceConfig(
        title="Spark", description="A friendly Spark server.", registrations="open"
    )
    config = replace(test_config(await database_url(), free_port()), instance=open_for_sign_ups)
    spark = await start_spark(config)
    world = await _world(spark, aiohttp_server)
    for phone in (False, True):
        page = await new_page(phone=phone)
        for name, path in (
            ("sign-in", "/auth/sign_in"),
            ("landing", "/"),
            ("thread", world.thread),
            ("profile", world.profile),
            ("explore", "/explore"),
            ("sign-up", "/auth/sign_up"),
        ):
            response = await page.goto(f"{spark.base}{path}")
            assert response is not None and response.ok, name
            assert await axe(page) == [], f"{name} signed out ({'phone' if phone else 'desktop'})"
            if phone:
                await _no_sideways_scroll(page, f"{name} signed out")
        await page.goto(f"{spark.base}/auth/sign_in")
        await page.get_by_label("Username").fill("alice")
        await page.get_by_label("Password").fill("wrong password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_be_visible()
        assert await axe(page) == [], "sign-in with an error"
        await screenshot(page, f"sign-in-{'phone' if phone else 'desktop'}")
