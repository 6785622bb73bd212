"""Edit history and scheduled posts in the browser, at phone and desktop widths, with and without scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect
from sqlmodel import select

from outbox import posts
from spark_fed.models import ScheduledStatus
from spark_fed.polls import PollSpec
from tests.conftest import Spark

from .support import sign_in, statuses, user

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


async def _scheduled(spark: Spark) -> list[ScheduledStatus]:
    async with spark.db.read() as session:
        return list((await session.exec(select(ScheduledStatus).order_by(ScheduledStatus.id))).all())


def _local(moment: datetime) -> str:
    """A `datetime-local` value; the browser runs in UTC here, as the server does."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


async def test_edited_marker_opens_every_version(start_spark, new_page, screenshot) -> None:
    spark = await start_spark()
    alice = await user(spark, "alice", display_name="Alice")
    status = await posts.post(spark.ctx, alice, "The first draft of a thought")
    await posts.edit(spark.ctx, alice, status.uri, "The second draft of a thought", cw="drafts")
    await posts.edit(spark.ctx, alice, status.uri, "The final thought, at last", cw="")
    for name, options in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await new_page(**options)
        await sign_in(page, spark, "alice")
        post = page.locator("article.post").first
        await post.get_by_role("link", name="edited").click()
        await page.get_by_role("heading", name="Edit history").wait_for()
        versions = page.locator("li.revision")
        await expect(versions).to_have_count(3)
        await expect(versions.nth(0)).to_contain_text("Current version")
        await expect(versions.nth(0)).to_contain_text("The final thought, at last")
        await expect(versions.nth(1)).to_contain_text("Content warning: drafts")
        await expect(versions.nth(2)).to_contain_text("Original")
        await expect(versions.nth(2)).to_contain_text("The first draft of a thought")
        await screenshot(page, f"edit-history-{name}")


async def test_history_shows_each_versions_poll_options(start_spark, new_page, screenshot) -> None:
    spark = await start_spark()
    alice = await user(spark, "alice", display_name="Alice")
    asked = await posts.post(spark.ctx, alice, "Tea or coffee?", poll=PollSpec(["Tea", "Coffee"], 3600))
    await posts.edit(spark.ctx, alice, asked.uri, "Tea or coffee, this morning?")
    for name, options in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await new_page(**options)
        await page.goto(f"{spark.base}/web/statuses/{asked.id}/history")
        versions = page.locator("li.revision")
        await expect(versions).to_have_count(2)
        for n in range(2):
            await expect(versions.nth(n).locator(".revision-poll li")).to_have_text(["Tea", "Coffee"])
        await screenshot(page, f"edit-history-poll-{name}")


async def test_schedule_from_the_composer_then_reschedule_and_cancel(
    start_spark, new_page, screenshot
) -> None:
    spark = await start_spark()
    await user(spark, "alice", display_name="Alice")
    page = await new_page(**DESKTOP)
    await sign_in(page, spark, "alice")
    await page.get_by_label("What's happening?").fill("A post for later")
    await page.locator("#compose summary", has_text="Schedule").click()
    at = datetime.now(UTC) + timedelta(hours=3)
    await page.get_by_label("Publish at").fill(_local(at))
    await screenshot(page, "schedule-composer-desktop", full_page=False)
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/web/scheduled")
    item = page.locator("li.scheduled-item")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text("A post for later")
    [row] = await _scheduled(spark)
    assert abs(row.scheduled_at - at.replace(second=0, microsecond=0)) < timedelta(seconds=1)
    assert await statuses(spark) == []
    await screenshot(page, "scheduled-desktop")

    phone = await new_page(**PHONE)
    await sign_in(phone, spark, "alice")
    await phone.goto(f"{spark.base}/web/scheduled")
    await phone.get_by_label("New time").fill(_local(at + timedelta(days=1)))
    await screenshot(phone, "scheduled-phone")
    await phone.get_by_role("button", name="Reschedule").click()
    await phone.wait_for_url(f"{spark.base}/web/scheduled")
    [moved] = await _scheduled(spark)
    assert abs(moved.scheduled_at - (at + timedelta(days=1)).replace(second=0, microsecond=0)) < timedelta(
        seconds=1
    )
    await phone.get_by_role("button", name="Cancel post").click()
    await phone.wait_for_url(f"{spark.base}/web/scheduled")
    await expect(phone.locator("li.scheduled-item")).to_have_count(0)
    assert await _scheduled(spark) == [] and await statuses(spark) == []


async def test_scheduling_works_without_javascript(start_spark, new_page, screenshot) -> None:
    spark = await start_spark()
    await user(spark, "alice")
    page = await new_page(java_script_enabled=False, **PHONE)
    await sign_in(page, spark, "alice")
    await page.get_by_label("What's happening?").fill("Scheduled with scripts off")
    await page.locator("#compose summary", has_text="Schedule").click()
    field = page.get_by_label("Publish at (UTC)")
    await expect(field).to_be_visible()
    await screenshot(page, "schedule-composer-phone-nojs", full_page=False)
    too_soon = datetime.now(UTC) + timedelta(minutes=2)
    await field.fill(_local(too_soon))
    async with page.expect_response(lambda r: r.url.endswith("/web/statuses")) as answer:
        await page.get_by_role("button", name="Post", exact=True).click()
    assert (await answer.value).status == 422
    assert await _scheduled(spark) == []
    await page.go_back()
    await page.get_by_label("What's happening?").fill("Scheduled with scripts off")
    await page.locator("#compose summary", has_text="Schedule").click()
    at = datetime.now(UTC) + timedelta(hours=2)
    await page.get_by_label("Publish at (UTC)").fill(_local(at))
    await page.get_by_role("button", name="Post", exact=True).click()
    await page.wait_for_url(f"{spark.base}/web/scheduled")
    [row] = await _scheduled(spark)
    assert abs(row.scheduled_at - at.replace(second=0, microsecond=0)) < timedelta(seconds=1)
