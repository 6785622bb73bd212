"""Polls in the browser: the composer's "Add a poll", voting from a post, and the result bars,
at desktop and phone widths; the vote works with JavaScript off."""

from __future__ import annotations

from playwright.async_api import expect

from tests.conftest import eventually

from .support import sign_in, user


def _post(page, text: str):
    return page.locator("article.post").filter(has=page.locator(".content", has_text=text))


async def test_a_poll_is_composed_voted_on_and_shown(start_spark, page, new_page, screenshot, axe) -> None:
    spark = await start_spark()
    await user(spark, "alice", display_name="Alice")
    await user(spark, "bob", display_name="Bob")

    await sign_in(page, spark, "alice")
    await page.get_by_label("What's happening?").fill("Where should we meet?")
    await page.locator("form#compose summary.add-poll").click()
    await page.get_by_label("Option 1").fill("The park")
    await page.get_by_label("Option 2").fill("The library")
    await page.get_by_label("Option 3").fill("The café")
    await page.get_by_label("Ends after").select_option(label="1 hour")
    await screenshot(page, "poll-composer-desktop", full_page=False)
    assert await axe(page) == []
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/")
    mine = _post(page, "Where should we meet?")
    await expect(mine.locator(".poll-result")).to_have_count(3)  # the author sees results, no form
    await expect(mine.locator(".poll-foot")).to_contain_text("0 voters")
    await screenshot(page, "poll-own-desktop", full_page=False)

    # bob, on a phone with JavaScript off, votes from alice's profile.
    bobs = await new_page(phone=True, java_script_enabled=False)
    await sign_in(bobs, spark, "bob")
    await bobs.goto(f"{spark.base}/@alice")
    theirs = _post(bobs, "Where should we meet?")
    await expect(theirs.get_by_role("radio")).to_have_count(3)
    await screenshot(bobs, "poll-vote-phone")
    await theirs.get_by_label("The library").check()
    await theirs.get_by_role("button", name="Vote").click()
    await bobs.wait_for_url(f"{spark.base}/@alice")
    voted = _post(bobs, "Where should we meet?")
    await expect(voted.locator(".poll-result.chosen")).to_contain_text("The library")
    await expect(voted.locator(".poll-result.chosen .poll-share")).to_have_text("100%")
    await expect(voted.locator(".poll-foot")).to_contain_text("1 voter")
    await screenshot(bobs, "poll-results-phone")

    async def counted() -> bool:
        await page.reload()
        return "1 voter" in (await _post(page, "Where should we meet?").locator(".poll-foot").inner_text())

    await eventually(counted, what="bob's vote on alice's page")
    assert await axe(page) == []  # (axe runs as a script: not on bob's page, where scripts are off)
    await screenshot(page, "poll-results-desktop", full_page=False)


async def test_a_one_option_poll_is_refused_in_the_composer(start_spark, page) -> None:
    spark = await start_spark()
    await user(spark, "alice")
    await sign_in(page, spark, "alice")
    await page.get_by_label("What's happening?").fill("Only one way")
    await page.locator("form#compose summary.add-poll").click()
    await page.get_by_label("Option 1").fill("This way")
    await page.get_by_role("button", name="Post", exact=True).click()
    await expect(page.get_by_text("at least 2 options")).to_be_visible()
