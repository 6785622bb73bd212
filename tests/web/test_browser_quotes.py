"""Quoting in the browser: the Quote action opens a page with the composer and the quoted post
(without JavaScript too), the quote shows the quoted post as a card, the quoted author removes
it, and an unapproved quote says so; on a phone and on a desktop."""

from __future__ import annotations

from playwright.async_api import expect
from sqlmodel import select

from outbox import posts
from spark_fed.models import Quote, QuoteState
from tests.conftest import eventually
from tests.peers import FakeMastodon

from .support import sign_in, user


def _post(page, text: str):
    return page.locator("article.post").filter(has=page.locator(".post-main > .content", has_text=text))


async def test_quote_a_post_then_its_author_removes_it(start_spark, new_page, screenshot) -> None:
    spark = await start_spark()
    alice = await user(spark, "alice", display_name="Alice")
    await user(spark, "bob", display_name="Bob")
    original = await posts.post(spark.ctx, alice, "A thought worth quoting")

    for phone in (True, False):
        page = await new_page(phone=phone, java_script_enabled=not phone)
        await sign_in(page, spark, "bob")
        await page.goto(f"{spark.base}/@alice/{original.id}")
        await page.get_by_role("link", name="Quote").first.click()
        await page.wait_for_url(f"{spark.base}/web/statuses/{original.id}/quote")
        await expect(page.get_by_role("heading", name="Quote post")).to_be_visible()
        await expect(page.locator(".quoting-what")).to_contain_text("A thought worth quoting")
        await page.get_by_label("Add a comment").fill(f"So true ({'phone' if phone else 'desktop'})")
        await page.get_by_label("Who can quote").select_option("followers")
        await screenshot(page, f"quote-compose-{'phone' if phone else 'desktop'}")
        await page.get_by_role("button", name="Post quote").click()
        await page.wait_for_url(f"{spark.base}/")
        mine = _post(page, f"So true ({'phone' if phone else 'desktop'})")
        card = mine.locator(".quote-card")
        await expect(card).to_contain_text("A thought worth quoting")
        await expect(card).to_contain_text("Alice")
        await screenshot(page, f"quote-card-{'phone' if phone else 'desktop'}")
        await page.context.close()

    # alice sees the quotes among her notifications and removes her post from one.
    page = await new_page()
    await sign_in(page, spark, "alice")
    await page.goto(f"{spark.base}/notifications")
    await expect(page.locator("article.notification.quote")).to_have_count(2)
    await page.goto(f"{spark.base}/@bob")
    quote = _post(page, "So true (desktop)")
    await quote.get_by_role("button", name="Remove my post from this quote").click()
    await expect(_post(page, "So true (desktop)").locator(".quote-card")).to_contain_text(
        "The author removed this quote."
    )
    await expect(_post(page, "So true (desktop)").locator(".quote-card")).not_to_contain_text("worth quoting")
    await screenshot(page, "quote-revoked-desktop")


async def test_an_unapproved_remote_quote_says_so(start_spark, aiohttp_server, new_page, screenshot) -> None:
    spark = await start_spark()
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    alice = await user(spark, "alice", display_name="Alice")
    target = await posts.post(spark.ctx, alice, "Quote me if you dare")
    forged = peer.create_note(
        "bob",
        "Alice agrees with me",
        quote=target.uri,
        quote_authorization=f"{peer.actor_id('alice')}/quote_authorizations/1",
        mentions=[alice.uri],
    )
    forged.pop("signature", None)
    await peer.send(forged, f"{spark.base}/users/alice/inbox", "bob")

    async def settled() -> bool:
        async with spark.db.read() as session:
            row = (await session.exec(select(Quote))).first()
        return row is not None and row.state == QuoteState.UNAUTHORIZED

    await eventually(settled, what="the forged stamp to be checked")
    page = await new_page(phone=True)
    await sign_in(page, spark, "alice")
    await page.goto(f"{spark.base}/notifications")
    card = _post(page, "Alice agrees with me").locator(".quote-card")
    await expect(card).to_contain_text("Unverified quote")
    await expect(card).not_to_contain_text("Quote me if you dare")
    await screenshot(page, "quote-unverified-phone")
