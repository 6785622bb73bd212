"""Importing a Mastodon archive: CW, visibility, hashtags, threads, attachments with alt text,
boosts skipped, sanitised content, idempotent."""

import asyncio
import json
from pathlib import Path

import pytest
from sqlmodel import col, select

from spark_fed.cli import main
from spark_fed.db import Database
from spark_fed.models import Account, MediaAttachment, Status
from spark_fed.models.types import utcnow

from .archives import mastodon_zip


@pytest.fixture
async def cli(database_url, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = await database_url()
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "spark.test"\n[database]\nurl = "{url}"\n'
        f'[media]\npath = "{tmp_path / "media"}"\n'
    )

    async def invoke(*args: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, ["--config", str(config), *args])
        out, err = capsys.readouterr()
        return status, out, err

    assert (await invoke("users", "create", "alice"))[0] == 0
    return invoke, url


async def test_mastodon_archive(cli, tmp_path: Path) -> None:
    invoke, url = cli
    archive = mastodon_zip(tmp_path / "mastodon.zip")
    status, out, err = await invoke("import", "mastodon", "alice", str(archive), "--json", "--profile")
    assert status == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {
        "imported": 5,
        "already_imported": 0,
        "skipped_retweets": 1,
        "replies_to_others": 0,
        "pictures": 1,
        "errors": [],
    }
    db = Database(url)
    try:
        async with db.read() as session:
            posts = list((await session.exec(select(Status).order_by(col(Status.id)))).all())
            media = list((await session.exec(select(MediaAttachment))).all())
            alice = (await session.exec(select(Account).where(Account.username == "alice"))).one()
    finally:
        await db.dispose()
    assert [p.published.isoformat()[:10] for p in posts] == [f"2019-03-0{n}" for n in range(1, 6)]
    first, spoiler, followers_only, reply, picture = posts
    assert "<script>" not in first.content and 'class="mention hashtag"' in first.content
    assert spoiler.summary == "Film spoilers" and spoiler.sensitive
    assert followers_only.visibility == "followers" and first.visibility == "public"
    assert reply.in_reply_to_id == first.id
    assert [(m.status_id, m.description) for m in media] == [(picture.id, "A blue square")]
    assert alice.display_name == "Old User" and "Moved from old.example" in alice.summary

    status, out, _ = await invoke("import", "mastodon", "alice", str(archive), "--json")
    again = json.loads(out.strip().splitlines()[-1])
    assert again["imported"] == 0 and again["already_imported"] == 5


async def test_a_note_dated_in_the_future_is_imported_as_of_now(cli, tmp_path: Path) -> None:
    """Ids come from the published time: a post dated 2100 would stay above every newer one."""
    invoke, url = cli
    future = {"content": "<p>Written in 2100</p>", "published": "2100-01-01T00:00:00Z"}
    archive = mastodon_zip(tmp_path / "mastodon.zip", extra=[future])
    before = utcnow()
    status, _out, err = await invoke("import", "mastodon", "alice", str(archive), "--json")
    assert status == 0, err
    db = Database(url)
    try:
        async with db.read() as session:
            posts = list((await session.exec(select(Status))).all())
    finally:
        await db.dispose()
    (dated,) = [p for p in posts if "Written in 2100" in p.content]
    assert before <= dated.published <= utcnow()


async def test_not_a_mastodon_archive(cli, tmp_path: Path) -> None:
    import zipfile

    invoke, _ = cli
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("outbox.json", '{"orderedItems": [')
    status, _, err = await invoke("import", "mastodon", "alice", str(path))
    assert status == 2 and "outbox.json is cut off" in err
