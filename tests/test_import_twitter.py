"""Importing a Twitter/X archive: `spark-fed import twitter` in-process (main() in a thread) on a
database of the test's own (SQLite, or PostgreSQL with SPARK_TEST_DATABASE_URL), and between two
running instances for what federates (nothing, during a plain import)."""

import asyncio
import itertools
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, select

from outbox import actions
from outbox.imports import ArchiveError, import_archive
from spark_fed.cli import main
from spark_fed.db import Database
from spark_fed.models import Delivery, ImportedItem, InboxItem, MediaAttachment, Status
from spark_fed.models.ids import snowflake_floor

from .archives import standard_tweets, twitter_zip
from .conftest import eventually

DOMAIN = "spark.test"


@pytest.fixture
async def cli(database_url, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = await database_url()
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "{DOMAIN}"\n[database]\nurl = "{url}"\n[media]\npath = "{tmp_path / "media"}"\n'
    )

    async def invoke(*args: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, ["--config", str(config), *args])
        out, err = capsys.readouterr()
        return status, out, err

    assert (await invoke("users", "create", "alice"))[0] == 0
    return invoke, url


async def _statuses(url: str) -> list[Status]:
    db = Database(url)
    try:
        async with db.read() as session:
            return list((await session.exec(select(Status).order_by(col(Status.id)))).all())
    finally:
        await db.dispose()


async def _count(url: str, table) -> int:
    db = Database(url)
    try:
        async with db.read() as session:
            return len((await session.exec(select(table))).all())
    finally:
        await db.dispose()


async def test_import_keeps_dates_links_threads_and_pictures(cli, tmp_path: Path) -> None:
    invoke, url = cli
    archive = twitter_zip(tmp_path / "twitter.zip")
    status, out, err = await invoke("import", "twitter", "alice", str(archive), "--json")
    assert status == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {
        "imported": 6,
        "already_imported": 0,
        "skipped_retweets": 1,
        "replies_to_others": 1,
        "pictures": 1,
        "errors": [],
    }
    assert err == ""  # no progress bar when standard error is not a terminal
    posts = await _statuses(url)
    assert len(posts) == 6
    first = posts[0]
    published = datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert first.published == published and first.visibility == "public" and first.local
    assert snowflake_floor(published) <= first.id < snowflake_floor(published) + (1000 << 16)
    # Entities: t.co expanded, the tag a Spark hashtag, HTML entities decoded once and escaped.
    assert 'href="https://example.com/a?b=1&amp;c=2"' in first.content
    assert "t.co" not in first.content
    assert "Hello &amp; welcome" in first.content and "&lt;3" in first.content
    assert "&amp;amp;" not in first.content
    assert f'/{DOMAIN}/tags/FirstTweet"' in first.content and 'class="mention hashtag"' in first.content
    # The thread of three keeps its shape.
    by_text = {p.text: p for p in posts}
    start = next(p for p in posts if "A thread starts" in p.content)
    second = next(p for p in posts if "second" in p.content)
    third = next(p for p in posts if "third" in p.content)
    assert second.in_reply_to_id == start.id and third.in_reply_to_id == second.id
    assert second.in_reply_to_uri == start.uri
    assert 'href="https://twitter.com/oldbird"' in second.content
    # The picture is attached with its alt text; its own t.co link is dropped.
    cat = next(p for p in posts if "My cat" in p.content)
    assert "t.co" not in cat.content
    db = Database(url)
    try:
        async with db.read() as session:
            media = (await session.exec(select(MediaAttachment))).all()
    finally:
        await db.dispose()
    assert [(m.status_id, m.description) for m in media] == [(cat.id, "A red cat")]
    # A reply to someone else says whom it answered, with a link; it is no reply here.
    other = next(p for p in posts if "I agree" in p.content)
    assert other.in_reply_to_id is None and other.in_reply_to_uri is None
    assert 'href="https://twitter.com/jack/status/20"' in other.content and "In reply to" in other.content
    assert by_text  # every post keeps a text to edit from

    # Running it again adds nothing.
    status, out, _ = await invoke("import", "twitter", "alice", str(archive), "--json")
    assert status == 0
    again = json.loads(out.strip().splitlines()[-1])
    assert again["imported"] == 0 and again["already_imported"] == 6
    assert len(await _statuses(url)) == 6
    assert await _count(url, Delivery) == 0


async def test_timeline_shows_imported_posts_in_the_past(cli, tmp_path: Path) -> None:
    invoke, _url = cli
    assert (await invoke("post", "alice", "a post of today"))[0] == 0
    assert (await invoke("import", "twitter", "alice", str(twitter_zip(tmp_path / "t.zip"))))[0] == 0
    status, out, err = await invoke("timeline", "alice", "--json", "--limit", "20")
    assert status == 0, err
    items = json.loads(out)
    assert "a post of today" in items[0]["content"]
    assert [i["published"][:4] for i in items[1:]] == ["2018"] * 6


def _bad_zip(path: Path, name: str, data: bytes, *, stored: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return path


@pytest.mark.parametrize("case", ["traversal", "absolute", "bomb", "cut", "notzip", "nothing"])
async def test_bad_archives_fail_with_a_clear_message_and_store_nothing(
    cli, tmp_path: Path, case: str
) -> None:
    invoke, url = cli
    path = tmp_path / f"{case}.zip"
    if case == "traversal":
        twitter_zip(path, extra={"../../etc/evil.txt": b"x"})
        expected = "unsafe file name"
    elif case == "absolute":
        twitter_zip(path, extra={"/etc/evil.txt": b"x"})
        expected = "unsafe file name"
    elif case == "bomb":
        twitter_zip(path, extra={"data/tweets_media/9-bomb.jpg": b"\0" * (64 << 20)})
        expected = "zip bomb"
    elif case == "cut":
        twitter_zip(path, cut_tweets=True)
        expected = "cut off"
    elif case == "notzip":
        path.write_bytes(b"PK\x03\x04 not really a zip")
        expected = "not a readable zip"
    else:
        _bad_zip(path, "readme.txt", b"hello")
        expected = "no data/tweets.js"
    status, _out, err = await invoke("import", "twitter", "alice", str(path))
    assert status == 2
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert await _statuses(url) == []
    assert await _count(url, ImportedItem) == 0
    assert await _count(url, MediaAttachment) == 0


async def test_a_malformed_tweet_is_reported_and_skipped(cli, tmp_path: Path) -> None:
    invoke, _url = cli
    parts = standard_tweets()
    parts[0].append({"tweet": {"id_str": "2000", "created_at": "yesterday", "full_text": "broken date"}})
    parts[0].append({"nothing": "here"})
    archive = twitter_zip(tmp_path / "t.zip", parts)
    status, out, _ = await invoke("import", "twitter", "alice", str(archive), "--json")
    assert status == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["imported"] == 6
    assert {e["id"] for e in summary["errors"]} == {"2000", "#6"}
    assert all(e["reason"] for e in summary["errors"])


async def test_a_follower_elsewhere_receives_nothing_and_sees_the_posts(start_spark, tmp_path: Path) -> None:
    a, b = await start_spark(), await start_spark()
    alice, bob = await a.user("alice"), await b.user("bob")
    await actions.follow(b.ctx, bob, alice.uri)

    # Received activities only: following also queues B's own read of alice's pinned posts.
    received = select(InboxItem).where(col(InboxItem.dedup_key).not_like("SparkRefreshFeatured:%"))

    async def accepted() -> bool:
        async with b.db.read() as session:
            return bool((await session.exec(received)).all())

    await eventually(accepted, what="the Accept to reach B")
    async with b.db.read() as session:
        before = len((await session.exec(received)).all())
    summary = await import_archive(a.ctx, alice, "twitter", twitter_zip(tmp_path / "t.zip"))
    assert summary.imported == 6
    await asyncio.sleep(1.5)  # the delivery worker polls every 0.5 s: it would have sent by now
    async with a.db.read() as session:
        assert (
            await session.exec(select(Delivery).where(col(Delivery.activity_id).contains("statuses")))
        ).all() == []
    async with b.db.read() as session:
        assert len((await session.exec(received)).all()) == before
        assert (await session.exec(select(Status))).all() == []
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{a.base}/users/alice/outbox?page=true") as resp:
            page = await resp.json(content_type=None)
        note_id = page["orderedItems"][0]["object"]["id"]
        async with session.get(note_id, headers={"Accept": "application/activity+json"}) as resp:
            note = await resp.json(content_type=None)
    assert page["totalItems"] == 6 and len(page["orderedItems"]) == 6
    assert note["published"].startswith("2018-10-1")
    published = sorted(item["object"]["published"] for item in page["orderedItems"])
    assert published[0] == "2018-10-10T20:19:24Z"


async def test_announce_queues_slow_deliveries(start_spark, tmp_path: Path) -> None:
    a, b = await start_spark(), await start_spark()
    alice, bob = await a.user("alice"), await b.user("bob")
    await actions.follow(b.ctx, bob, alice.uri)

    async def followed() -> bool:
        async with a.db.read() as session:
            from spark_fed.models import Follow

            return bool((await session.exec(select(Follow))).all())

    await eventually(followed, what="the Follow to reach A")
    summary = await import_archive(a.ctx, alice, "twitter", twitter_zip(tmp_path / "t.zip"), announce=True)
    assert summary.imported == 6
    async with a.db.read() as session:
        rows = (
            await session.exec(
                select(Delivery)
                .where(col(Delivery.activity_id).contains("statuses"))
                .order_by(col(Delivery.id))
            )
        ).all()
    assert len(rows) == 6
    gaps = [
        (later.next_attempt_at - earlier.next_attempt_at).total_seconds()
        for earlier, later in itertools.pairwise(rows)
    ]
    assert all(gap >= 5 for gap in gaps)


async def test_archive_error_is_a_usage_error(tmp_path: Path) -> None:
    from spark_fed.archives import Archive
    from spark_fed.errors import UsageError

    assert issubclass(ArchiveError, UsageError)
    with pytest.raises(ArchiveError):
        Archive(_bad_zip(tmp_path / "x.zip", "../x", b"1"))


async def test_run_job_records_progress_and_summary(spark, tmp_path: Path) -> None:
    from outbox.imports import run_job
    from spark_fed.models import ImportJob

    alice = await spark.user("alice")
    async with spark.db.write() as session:
        job = ImportJob(account_id=alice.id, kind="twitter")
        session.add(job)
    await run_job(spark.ctx, job.id, twitter_zip(tmp_path / "t.zip"))
    async with spark.db.read() as session:
        row = await session.get(ImportJob, job.id)
    assert row.state == "done" and (row.done, row.total) == (6, 6)
    assert json.loads(row.summary)["imported"] == 6 and row.error == ""
    async with spark.db.write() as session:
        bad = ImportJob(account_id=alice.id, kind="twitter")
        session.add(bad)
    await run_job(spark.ctx, bad.id, twitter_zip(tmp_path / "cut.zip", cut_tweets=True))
    async with spark.db.read() as session:
        row = await session.get(ImportJob, bad.id)
    assert row.state == "failed" and "cut off" in row.error and row.summary == ""


def _mp4(frames: int = 8) -> bytes:
    """A short silent MP4, as X keeps an animated GIF in its archives (encoded with PyAV)."""
    import io

    import av
    from PIL import Image

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", (160, 120), (30 * i % 255, 120, 200))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


async def test_an_animated_gif_kept_as_mp4_comes_back_animated(cli, tmp_path: Path) -> None:
    from PIL import Image

    from .archives import photo_entity, tweet

    invoke, url = cli
    gif = photo_entity("2001", "https://t.co/gif", "GifPic", alt="A spinning cat", kind="animated_gif")
    gif["video_info"] = {"variants": [{"content_type": "video/mp4", "url": "https://video.twimg.com/g.mp4"}]}
    parts = [[tweet("2001", "Look https://t.co/gif", "Wed Oct 10 20:19:24 +0000 2018", media=[gif])]]
    archive = twitter_zip(tmp_path / "gif.zip", parts, extra={"data/tweets_media/2001-GifPic.mp4": _mp4()})
    status, out, err = await invoke("import", "twitter", "alice", str(archive), "--json")
    assert status == 0, err
    assert json.loads(out.splitlines()[-1])["pictures"] == 1
    db = Database(url)
    try:
        async with db.read() as session:
            [row] = (await session.exec(select(MediaAttachment))).all()
    finally:
        await db.dispose()
    assert row.media_type == "image/gif" and row.description == "A spinning cat"
    media_dir = tmp_path / "media"
    stored = media_dir / row.file_key[:2] / row.file_key
    assert Image.open(stored).n_frames == 8
