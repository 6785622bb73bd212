"""Bookmarks, pins and the Likes tab in Chromium, at desktop and phone widths.

The bookmark button works with the page's script (swapped in place, no reload) and the
Bookmarks page lists what was kept; a post is pinned from its "More options" menu and leads the
profile with a "Pinned" label; one's own profile has a Likes tab. The pages pass axe, fit a
375 px phone without sideways scrolling and are photographed under build/screenshots/.
"""

from __future__ import annotations

from playwright.async_api import expect

from outbox import actions, posts

from .support import sign_in, user


def _post(page, text: str):
    return page.locator("article.post").filter(has=page.locator(".content", has_text=text))


async def _fits(page, axe, screenshot, name: str) -> None:
    assert await axe(page) == [], name
    width, viewport = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{name} scrolls sideways: scrollWidth {width} in {viewport}"
    await screenshot(page, name)


async def test_bookmark_pin_and_likes_in_the_browser(spark, page, new_page, axe, screenshot) -> None:
    alice = await user(spark, "alice", display_name="Alice")
    bob = await user(spark, "bob", display_name="Bob")
    await actions.follow(spark.ctx, alice, bob.uri)
    await posts.post(spark.ctx, bob, "Bob's recipe for sourdough")
    await posts.post(spark.ctx, bob, "Bob on the weather")
    await posts.post(spark.ctx, alice, "Alice's post worth pinning")
    await posts.post(spark.ctx, alice, "Alice's newer, ordinary post")
    await sign_in(page, spark, "alice")

    # Bookmark with the script: the button turns pressed in place.
    recipe = _post(page, "Bob's recipe")
    await recipe.get_by_role("button", name="Bookmark").click()
    await expect(recipe.get_by_role("button", name="Remove bookmark")).to_have_attribute(
        "aria-pressed", "true"
    )
    await recipe.get_by_role("button", name="Like").click()
    await expect(recipe.get_by_role("button", name="Unlike")).to_be_visible()
    await page.get_by_role("link", name="Bookmarks").first.click()
    await page.wait_for_url(f"{spark.base}/bookmarks")
    await expect(page.get_by_role("heading", name="Bookmarks", level=1)).to_be_visible()
    await expect(_post(page, "Bob's recipe")).to_have_count(1)
    await expect(_post(page, "Bob on the weather")).to_have_count(0)
    await _fits(page, axe, screenshot, "bookmarks-desktop")

    # Pin from her own post's menu (a form: the page reloads), then it leads her profile.
    await page.goto(f"{spark.base}/@alice")
    worth = _post(page, "worth pinning")
    await worth.get_by_label("More options").click()
    await worth.get_by_role("button", name="Pin to profile").click()
    await page.wait_for_url(f"{spark.base}/@alice")
    first = page.locator("article.post").first
    await expect(first.locator(".pinned-label")).to_have_text("Pinned")
    await expect(first.locator(".content")).to_contain_text("worth pinning")
    await expect(page.locator("article.post")).to_have_count(2)
    await _fits(page, axe, screenshot, "profile-pinned-desktop")

    # The Likes tab of her own profile.
    await page.get_by_role("link", name="Likes").click()
    await expect(_post(page, "Bob's recipe")).to_have_count(1)
    await expect(page.get_by_role("link", name="Likes")).to_have_attribute("aria-current", "page")

    # The same pages on a phone, and the bookmark undone there (the form without a script is
    # tests/test_web_marks.py's).
    phone = await new_page(phone=True)
    await sign_in(phone, spark, "alice")
    await phone.goto(f"{spark.base}/@alice")
    await _fits(phone, axe, screenshot, "profile-pinned-phone")
    await phone.goto(f"{spark.base}/bookmarks")
    await _fits(phone, axe, screenshot, "bookmarks-phone")
    kept = _post(phone, "Bob's recipe")
    await kept.get_by_role("button", name="Remove bookmark").click()
    await expect(kept.get_by_role("button", name="Bookmark")).to_have_attribute("aria-pressed", "false")
    await phone.reload()
    await expect(phone.get_by_text("No bookmarks yet")).to_be_visible()
