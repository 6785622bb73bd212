"""Settings → Import in the browser: a Twitter/X archive uploaded through the page, its progress and
summary, the imported posts on the profile at their original dates; and what the page refuses.

The archive is built here in X's real format: `data/tweets.js` is JavaScript assigning the list
to `window.YTD.tweets.part0`, beside `data/account.js` and `data/profile.js`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

from playwright.async_api import expect
from sqlmodel import select

from spark_fed.models import ImportJob
from tests.conftest import eventually

from .support import sign_in, user

ACCOUNT_ID = "1111111111"


def _tweet(id_str: str, text: str, created_at: str, **extra: object) -> dict:
    tweet = {
        "id_str": id_str,
        "id": id_str,
        "full_text": text,
        "created_at": created_at,
        "favorite_count": "0",
        "retweet_count": "0",
        "retweeted": False,
        "lang": "en",
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "display_text_range": ["0", str(len(text))],
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    tweet.update(extra)
    return {"tweet": tweet}


def twitter_archive(username: str = "alice_x") -> bytes:
    """Four tweets (one with a link, a thread of two, a retweet) and one that cannot be read."""
    link = "https://t.co/abc123"
    tweets = [
        _tweet(
            "1050118621198921728",
            f"Hello from 2018, read this {link} #history",
            "Wed Oct 10 20:19:24 +0000 2018",
            entities={
                "hashtags": [{"text": "history", "indices": ["43", "51"]}],
                "symbols": [],
                "user_mentions": [],
                "urls": [
                    {
                        "url": link,
                        "expanded_url": "https://example.com/story",
                        "display_url": "example.com/story",
                        "indices": ["27", "42"],
                    }
                ],
            },
        ),
        _tweet("1050118621198921800", "Thread, part one", "Thu Oct 11 08:00:00 +0000 2018"),
        _tweet(
            "1050118621198921900",
            f"@{username} Thread, part two",
            "Thu Oct 11 08:01:00 +0000 2018",
            in_reply_to_status_id_str="1050118621198921800",
            in_reply_to_user_id_str=ACCOUNT_ID,
            in_reply_to_screen_name=username,
            entities={
                "hashtags": [],
                "symbols": [],
                "user_mentions": [
                    {"screen_name": username, "name": "Alice", "id_str": ACCOUNT_ID, "indices": ["0", "8"]}
                ],
                "urls": [],
            },
        ),
        _tweet("1050118621198922000", "RT @someone: their words, not mine", "Fri Oct 12 09:00:00 +0000 2018"),
        _tweet("1050118621198922100", "This one has no date", "not a date at all"),
    ]
    account = {"accountId": ACCOUNT_ID, "username": username, "accountDisplayName": "Alice X"}
    profile = {"description": {"bio": "Old bio", "website": "", "location": ""}, "avatarMediaUrl": ""}
    files = {
        "data/tweets.js": "window.YTD.tweets.part0 = " + json.dumps(tweets, indent=2),
        "data/account.js": "window.YTD.account.part0 = " + json.dumps([{"account": account}]),
        "data/profile.js": "window.YTD.profile.part0 = " + json.dumps([{"profile": profile}]),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def _zip(data: bytes, name: str = "twitter-2024-01-01-abc.zip") -> dict:
    return {"name": name, "mimeType": "application/zip", "buffer": data}


def _leftovers(spark) -> list[Path]:
    directory = Path(spark.config.media.path) / "imports"
    return sorted(directory.iterdir()) if directory.exists() else []


async def _jobs(spark) -> list[ImportJob]:
    async with spark.db.read() as session:
        return list((await session.exec(select(ImportJob).order_by(ImportJob.id))).all())


def _fact(page, term: str):
    """The <dd> after the summary's <dt>TERM</dt>."""
    return page.locator(f"dl.import-summary dt:text-is('{term}') + dd")


async def test_a_twitter_archive_uploaded_from_the_settings_shows_progress_then_its_summary(
    start_spark, page, new_page, screenshot, axe
) -> None:
    spark = await start_spark()
    await user(spark, "alice", display_name="Alice")
    await user(spark, "bob", display_name="Bob")
    await sign_in(page, spark, "alice")

    # From the settings, the Import page: the kind of archive and the file.
    await page.goto(f"{spark.base}/settings")
    await page.get_by_role("link", name="Import posts from a Twitter/X or Mastodon archive").click()
    await page.wait_for_url(f"{spark.base}/settings/import")
    await expect(page.get_by_role("heading", name="Import your posts", level=1)).to_be_visible()
    await expect(page.get_by_label("Twitter/X")).to_be_checked()
    assert await axe(page) == []
    await screenshot(page, "import-form-desktop")

    await page.get_by_label("Twitter/X").check()
    await page.get_by_label("Archive", exact=True).set_input_files(_zip(twitter_archive()))
    await page.get_by_role("button", name="Import", exact=True).click()
    await page.wait_for_url(re.compile(re.escape(spark.base) + r"/settings/import/\d+$"))
    job_url = page.url
    [job] = await _jobs(spark)
    assert job_url.endswith(f"/settings/import/{job.id}") and job.kind == "twitter"
    await expect(page.get_by_role("heading", name="Twitter/X import", level=1)).to_be_visible()
    assert await axe(page) == []
    await screenshot(page, "import-progress-desktop")

    # The page refreshes itself (no script needed) until the summary is there.
    await expect(page.get_by_role("heading", name="Done", level=2)).to_be_visible(timeout=20_000)
    await expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    await expect(_fact(page, "Imported")).to_have_text("3")
    await expect(_fact(page, "Skipped retweets")).to_have_text("1")
    await expect(_fact(page, "Errors")).to_have_text("1")
    await expect(page.locator(".import-errors")).to_contain_text("1050118621198922100")
    assert await axe(page) == []
    await screenshot(page, "import-done-desktop")

    # A reload reads the row again: the same summary. The temporary upload is gone.
    await page.reload()
    await expect(_fact(page, "Imported")).to_have_text("3")
    assert _leftovers(spark) == []
    progress = await page.request.get(f"{job_url}/progress")
    assert progress.ok and (await progress.json())["state"] == "done"

    # The posts are on the profile at their original dates, the link expanded.
    await page.get_by_role("link", name="your profile").click()
    post = page.locator("article.post").filter(has=page.locator(".content", has_text="Hello from 2018"))
    await expect(post).to_have_count(1)
    await expect(post.locator("time")).to_have_attribute("datetime", "2018-10-10T20:19:24+00:00")
    await expect(post.locator("time")).to_have_text("Oct 10, 2018")
    await expect(post.locator(".content a[href='https://example.com/story']")).to_have_count(1)
    await expect(page.locator("article.post .content", has_text="their words, not mine")).to_have_count(0)
    await screenshot(page, "import-profile-desktop")

    # The list of imports on the Import page links to it.
    await page.goto(f"{spark.base}/settings/import")
    await expect(page.get_by_role("link", name=re.compile(r"^Twitter.X archive"))).to_have_attribute(
        "href", f"/settings/import/{job.id}"
    )

    # Nobody else sees the job: bob gets a 404, and so does a job that does not exist.
    bobs = await new_page()
    await sign_in(bobs, spark, "bob")
    answer = await bobs.goto(job_url)
    assert answer is not None and answer.status == 404
    assert (await bobs.request.get(f"{job_url}/progress")).status == 404
    assert (await page.request.get(f"{spark.base}/settings/import/999999")).status == 404

    # On a phone: both pages fit, and pass axe.
    phone = await new_page(phone=True)
    await sign_in(phone, spark, "alice")
    for url, name in ((f"{spark.base}/settings/import", "import-form-phone"), (job_url, "import-done-phone")):
        await phone.goto(url)
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 375, url
        assert await axe(phone) == []
        await screenshot(phone, name)


async def test_importing_the_same_archive_again_adds_nothing_and_the_page_needs_no_script(
    spark, new_page
) -> None:
    await user(spark, "alice")
    page = await new_page(java_script_enabled=False)  # the page refreshes itself (<noscript> meta)
    await sign_in(page, spark, "alice")
    for expected in ("3", "0"):
        await page.goto(f"{spark.base}/settings/import")
        await page.get_by_label("Archive", exact=True).set_input_files(_zip(twitter_archive()))
        await page.get_by_role("button", name="Import", exact=True).click()
        await expect(page.get_by_role("heading", name="Done", level=2)).to_be_visible(timeout=20_000)
        await expect(_fact(page, "Imported")).to_have_text(expected)
    await expect(_fact(page, "Already imported")).to_have_text("3")
    assert _leftovers(spark) == []


async def test_the_import_form_refuses_what_it_must(spark, page, monkeypatch, axe, screenshot) -> None:
    from web.pages import imports

    await user(spark, "alice")
    await sign_in(page, spark, "alice")

    # Not a zip: the job fails with a clear message, and the upload is deleted.
    await page.goto(f"{spark.base}/settings/import")
    await page.get_by_label("Archive", exact=True).set_input_files(_zip(b"this is not a zip", "notes.zip"))
    await page.get_by_role("button", name="Import", exact=True).click()
    stopped = page.get_by_role("heading", name="The import stopped", level=2)
    await expect(stopped).to_be_visible(timeout=20_000)
    await expect(page.get_by_role("alert")).not_to_be_empty()
    assert await axe(page) == []
    await screenshot(page, "import-failed-desktop")
    await eventually(lambda: _no_leftovers(spark), what="the refused upload deleted")

    # Larger than the cap: 413 while streaming, and nothing left on disk, no job.
    monkeypatch.setattr(imports, "MAX_ARCHIVE_BYTES", 1024)
    before = len(await _jobs(spark))
    await page.goto(f"{spark.base}/settings/import")
    await page.get_by_label("Archive", exact=True).set_input_files(_zip(b"x" * 300_000, "huge.zip"))
    async with page.expect_response(f"{spark.base}/settings/import") as answer:
        await page.get_by_role("button", name="Import", exact=True).click()
    assert (await answer.value).status == 413
    assert len(await _jobs(spark)) == before and _leftovers(spark) == []
    monkeypatch.undo()

    # A form without the CSRF token (as another site would forge it): 403 before the file is read.
    forged = await page.request.post(
        f"{spark.base}/settings/import",
        multipart={"kind": "twitter", "archive": _zip(twitter_archive())},
    )
    assert forged.status == 403
    assert len(await _jobs(spark)) == before and _leftovers(spark) == []


async def _no_leftovers(spark) -> bool:
    return _leftovers(spark) == []


async def _set_job(spark, job_id: int, **values: object) -> None:
    async with spark.db.write() as session:
        job = await session.get(ImportJob, job_id)
        for name, value in values.items():
            setattr(job, name, value)
        session.add(job)


async def test_the_job_page_follows_the_row_and_says_when_the_server_stopped(
    spark, page, phone_page, screenshot, axe
) -> None:
    """The progress as the row moves (the script polls, then reloads for the summary), and a job
    no task runs any more, untouched for minutes: 'the server stopped', no endless refreshing."""
    from datetime import timedelta

    from spark_fed.models.types import utcnow

    alice = await user(spark, "alice")
    async with spark.db.write() as session:
        running = ImportJob(account_id=alice.id, kind="mastodon", state="running", done=40, total=100)
        stale = ImportJob(account_id=alice.id, kind="twitter", state="running", done=5, total=10,
                          updated_at=utcnow() - timedelta(minutes=5))  # fmt: skip
        session.add(running)
        session.add(stale)
    await sign_in(page, spark, "alice")
    await page.goto(f"{spark.base}/settings/import/{running.id}")
    await expect(page.get_by_role("heading", name="Importing", level=2)).to_be_visible()
    bar = page.locator("progress")
    await expect(bar).to_have_attribute("value", "40")
    await expect(page.get_by_role("status")).to_have_text("40 of 100 items (40%)")
    assert await axe(page) == []
    await screenshot(page, "import-running-desktop")
    await phone_page.context.add_cookies(await page.context.cookies())
    await phone_page.goto(page.url)
    assert await phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    assert await axe(phone_page) == []
    await screenshot(phone_page, "import-running-phone")

    await _set_job(spark, running.id, done=75, updated_at=utcnow())
    await expect(page.get_by_role("status")).to_have_text("75 of 100 items (75%)", timeout=8_000)
    assert await bar.evaluate("b => b.value") == 75
    summary = {"imported": 70, "already_imported": 5, "skipped_retweets": 0, "replies_to_others": 0,
               "pictures": 2, "errors": []}  # fmt: skip
    await _set_job(spark, running.id, done=100, state="done", summary=json.dumps(summary))
    await expect(page.get_by_role("heading", name="Done", level=2)).to_be_visible(timeout=8_000)
    await expect(_fact(page, "Imported")).to_have_text("70")
    await expect(_fact(page, "Pictures")).to_have_text("2")
    await expect(page.locator(".import-errors")).to_have_count(0)

    await page.goto(f"{spark.base}/settings/import/{stale.id}")
    await expect(page.get_by_role("alert")).to_contain_text("The server stopped during the import")
    await expect(page.locator("progress")).to_have_count(0)
    assert (await (await page.request.get(f"{page.url}/progress")).json())["state"] == "failed"
