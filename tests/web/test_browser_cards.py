"""Link cards in the browser: under a post with a link, the page's image (through Spark's proxy),
title and site; none under a post with images. Phone (390x844) and desktop (1280x800)."""

from __future__ import annotations

from dataclasses import replace

from playwright.async_api import expect

from outbox import posts
from spark_fed.queue.cards import queued_count
from tests.conftest import eventually, free_port, test_config
from tests.peers.pages import PageSite

from .support import sign_in, user
from .test_browser_media import _loaded, picture

PHONE_390 = {"width": 390, "height": 844}


async def test_a_card_shows_under_a_post_and_not_under_one_with_images(
    start_spark, database_url, aiohttp_server, page, new_page, screenshot, axe
) -> None:
    site = PageSite()
    await site.start(aiohttp_server)
    site.image = picture(1200, 630, "#176fb0")
    port = free_port()
    config = test_config(await database_url(), port)
    federation = replace(config.federation, allow_private_addresses=False, allowed_hosts=(site.base[7:],))
    spark = await start_spark(replace(config, federation=federation))
    alice = await user(spark, "alice")
    upload = await spark.ctx.media.upload(alice, picture(640, 480), description="An orange field")
    await posts.post(spark.ctx, alice, f"A picture, and a link: {site.base}/twitter", media_ids=[upload.id])
    await posts.post(spark.ctx, alice, f"Worth reading: {site.base}/og")

    async def drained() -> bool:
        return await queued_count(spark.db) == 0

    await eventually(drained, timeout=20, what="the cards to be fetched")

    await sign_in(page, spark, "alice")
    card = page.locator(".link-card")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Spark & the fediverse")
    await expect(card).to_contain_text("The Example Times")
    assert await card.get_attribute("href") == f"{site.base}/og"
    image = card.locator("img")
    assert (await image.get_attribute("src")).startswith("/media/")
    assert await _loaded(image) > 0
    with_images = page.locator("article.post").filter(has_text="A picture, and a link")
    await expect(with_images.locator(".media-grid")).to_be_visible()
    await expect(with_images.locator(".link-card")).to_have_count(0)
    assert await axe(page) == []
    await screenshot(page, "cards-desktop")

    phone = await new_page(phone=True, viewport=PHONE_390)
    await sign_in(phone, spark, "alice")
    phone_card = phone.locator(".link-card")
    await expect(phone_card).to_be_visible()
    box = await phone_card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_390["width"]
    assert await _loaded(phone_card.locator("img")) > 0
    assert await axe(phone) == []
    await screenshot(phone, "cards-phone")
    # The browser asked Spark for the image; the site served it to Spark's proxy once.
    assert site.hits["/card.png"] == 1
