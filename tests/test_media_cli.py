"""The media side of the command line: `post --image`, `timeline --json` attachments, `media usage`
and `media prune`, in-process (main() in a thread) on a database of the test's own (SQLite, or
PostgreSQL with SPARK_TEST_DATABASE_URL), with the media in the test's temporary directory."""

import asyncio
import io
import json
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from PIL import ExifTags, Image
from sqlmodel import col, select

from spark_fed.cli import main
from spark_fed.content.sources import Written
from spark_fed.db import Database
from spark_fed.media.storage import FileStore
from spark_fed.models import Account, MediaAttachment, Status
from spark_fed.models.ids import new_id
from spark_fed.models.media import FetchState
from spark_fed.models.types import utcnow
from spark_fed.statuses import store_favourite, store_status

from .conftest import Spark, free_port, test_config

Invoke = Callable[..., Awaitable[tuple[int, str, str]]]
DOMAIN = "spark.test"


def photo(width: int = 640, height: int = 480, seed: int = 1, *, gps: bool = True) -> bytes:
    """A JPEG with content (a gradient and noise) and, unless told otherwise, GPS EXIF."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(image, Image.effect_noise((width, height), 40).convert("RGB"), 0.3)
    image.putpixel((rng.randrange(width), rng.randrange(height)), (rng.randrange(256), 0, 0))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef] = "N"
        location[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
        location[ExifTags.GPS.GPSLongitudeRef] = "E"
        location[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
async def cli(database_url, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """(invoke, media dir, database URL): invoke(*args) runs `spark-fed --config … ARGS` in a thread."""
    url = await database_url()
    media = tmp_path / "media"
    config = tmp_path / "spark.toml"
    config.write_text(
        f'[server]\ndomain = "{DOMAIN}"\n[database]\nurl = "{url}"\n[media]\npath = "{media}"\n'
        "remote_cache_max_gb = 0.5\n"
    )

    async def invoke(*args: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, ["--config", str(config), *args])
        out, err = capsys.readouterr()
        return status, out, err

    return invoke, media, url


async def _rows(url: str) -> list[MediaAttachment]:
    db = Database(url)
    try:
        async with db.read() as session:
            return list((await session.exec(select(MediaAttachment))).all())
    finally:
        await db.engine.dispose()


async def test_post_with_images_and_timeline_attachments(cli, tmp_path: Path) -> None:
    run, media, url = cli
    assert (await run("users", "create", "alice"))[0] == 0
    first, second = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first.write_bytes(photo(800, 600, 1))
    second.write_bytes(photo(300, 200, 2))
    status, out, err = await run(
        "post", "alice", "two pictures", "--image", str(first), "--alt", "a gradient", "--image", str(second)
    )
    assert status == 0, err
    post_id = out.splitlines()[-1]
    assert post_id.startswith(f"http://{DOMAIN}/users/alice/statuses/")

    status, out, err = await run("timeline", "alice", "--json")
    assert status == 0, err
    [item] = json.loads(out)
    assert item["id"] == post_id
    rows = sorted(await _rows(url), key=lambda r: r.position)
    assert [r.description for r in rows] == ["a gradient", ""]
    assert item["attachments"] == [
        {
            "url": f"http://{DOMAIN}/media/{rows[0].id}/original",
            "media_type": "image/jpeg",
            "description": "a gradient",
            "width": 800,
            "height": 600,
        },
        {
            "url": f"http://{DOMAIN}/media/{rows[1].id}/original",
            "media_type": "image/jpeg",
            "description": "",
            "width": 300,
            "height": 200,
        },
    ]
    # Two images, each an original and a preview, none of them with the GPS position.
    files = media_files(media)
    assert len(files) == 4
    for path in files:
        with Image.open(path) as image:
            assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "exif" not in image.info

    status, out, _ = await run("timeline", "alice")
    assert "[2 image(s)]" in out

    status, out, err = await run("post", "alice", "", "--image", str(first), "--json")
    assert status == 0, err  # an image alone is a post
    document = json.loads("\n".join(out.splitlines()[:-1]))
    [attachment] = document["attachment"]
    assert attachment["url"].startswith(f"http://{DOMAIN}/media/")
    assert len(media_files(media)) == 4  # the same image again is stored once


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        ({"good.jpg": "photo", "page.png": "html"}, (), "page.png: not a JPEG, PNG, WebP or GIF image"),
        ({"good.jpg": "photo", "cut.jpg": "truncated"}, (), "cut.jpg: the image cannot be read"),
        ({"good.jpg": "photo", "big.png": "bomb"}, (), "big.png: the image has more than"),
        ({"good.jpg": "photo"}, ("--image", "missing.jpg"), "missing.jpg: cannot be read"),
        ({f"{n}.jpg": "photo" for n in range(5)}, (), "at most 4 images; 5 given"),
        ({"good.jpg": "photo"}, ("--alt", "one", "--alt", "two"), "more --alt than --image"),
        ({"good.jpg": "photo"}, ("--reply-to", "x" * 3), "cannot reply to xxx"),
        ({"good.jpg": "photo"}, ("--visibility", "public", "--cw", "c" * 10, "--language", "en"), None),
    ],
)
async def test_refused_image_posts_nothing_and_leaves_nothing(
    cli, tmp_path: Path, files: dict[str, str], extra: tuple[str, ...], message: str | None
) -> None:
    run, media, url = cli
    assert (await run("users", "create", "alice"))[0] == 0
    args = ["post", "alice", "hello" if message else "x" * 501]
    for n, (name, kind) in enumerate(files.items()):
        path = tmp_path / name
        path.write_bytes(_content(kind, n))
        args += ["--image", str(path)]
    args += [a if a != "missing.jpg" else str(tmp_path / a) for a in extra]
    status, out, err = await run(*args)
    assert status == 2, (out, err)
    assert err.count("\n") == 1 and out == ""
    assert (message or "at most 500 characters") in err
    status, out, _ = await run("timeline", "alice", "--json")
    assert json.loads(out) == []
    assert media_files(media) == []
    assert await _rows(url) == []


def _content(kind: str, n: int) -> bytes:
    if kind == "photo":
        return photo(200, 150, n)
    if kind == "html":
        return b"<!doctype html><html><script>alert(1)</script></html>"
    if kind == "truncated":
        return photo(400, 300, 9)[:3000]
    # A decompression bomb: 8,000 x 8,000 pixels (over max_pixels), a few kB to send.
    out = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(out, format="PNG")
    return out.getvalue()


async def _remote_media(url: str, media: Path, liker_name: str) -> dict[str, MediaAttachment]:
    """Remote notes with cached files, as the proxy leaves them: 'old' (shown 10 days ago),
    'new' (shown now), 'liked' (liked by a local user), and 'pending' (not fetched)."""
    db = Database(url)
    store = FileStore(media)
    try:
        async with db.write() as session:
            author = Account(
                uri="https://remote.example/users/zoe",
                username="zoe",
                domain="remote.example",
                inbox_url="https://remote.example/users/zoe/inbox",
                public_key_id="https://remote.example/users/zoe#main-key",
                public_key_pem="unused",
            )
            session.add(author)
            await session.flush()
            liker = (
                await session.exec(
                    select(Account).where(Account.username == liker_name, col(Account.domain).is_(None))
                )
            ).one()
            made = {}
            for n, name in enumerate(("old", "new", "liked", "pending")):
                status_id = await new_id(session)
                status = Status(
                    id=status_id,
                    uri=f"{author.uri}/statuses/{status_id}",
                    account_id=author.id,
                    local=False,
                    visibility="public",
                )
                await store_status(session, status, author, Written(f"<p>{name}</p>"))
                await session.flush()
                row = MediaAttachment(
                    account_id=author.id,
                    status_id=status.id,
                    local=False,
                    remote_url=f"https://remote.example/files/{name}.jpg",
                    fetch_state=FetchState.PENDING,
                    width=320,
                    height=240,
                    description=f"remote {name}",
                    last_shown_at=utcnow() - timedelta(days=10 if name == "old" else 0),
                )
                if name != "pending":
                    data = photo(320, 240, 100 + n)
                    row.file_key = await store.put(data, "image/jpeg")
                    row.thumbnail_key = await store.put(data[: len(data) // 2] + b"thumb", "image/jpeg")
                    row.size_bytes = len(data) + len(data) // 2 + 5
                    row.fetch_state = FetchState.STORED
                session.add(row)
                if name == "liked":
                    await store_favourite(session, liker, status, f"{liker.uri}#likes/1")
                made[name] = row
        return made
    finally:
        await db.engine.dispose()


async def test_media_usage_and_prune(cli, tmp_path: Path) -> None:
    run, media, url = cli
    assert (await run("users", "create", "alice"))[0] == 0
    image = tmp_path / "mine.jpg"
    image.write_bytes(photo(500, 400, 7))
    assert (await run("post", "alice", "mine", "--image", str(image)))[0] == 0
    status, out, err = await run("media", "usage", "--json")
    assert status == 0, err
    local, remote = json.loads(out)
    [mine] = await _rows(url)
    assert local == {"store": "local", "bytes": mine.size_bytes, "files": 1}
    budget = int(0.5 * 1024**3)
    assert remote == {
        "store": "remote",
        "bytes": 0,
        "files": 0,
        "kept_bytes": 0,
        "counted_bytes": 0,
        "budget_bytes": budget,
    }

    made = await _remote_media(url, media, "alice")
    size = {name: row.size_bytes for name, row in made.items()}
    status, out, _ = await run("media", "usage", "--json")
    local, remote = json.loads(out)
    assert local["files"] == 1
    assert remote == {
        "store": "remote",
        "bytes": size["old"] + size["new"] + size["liked"],
        "files": 3,
        "kept_bytes": size["liked"],
        "counted_bytes": size["old"] + size["new"],
        "budget_bytes": budget,
    }
    status, out, _ = await run("media", "usage")
    assert status == 0 and "remote cache" in out and "in 3 files" in out and "512.0 MB" in out

    # Remote images in the timeline point at Spark's proxy, never at the origin.
    status, out, _ = await run("timeline", "alice", "--kind", "federated", "--json")
    attachments = [a for item in json.loads(out) for a in item["attachments"]]
    remote_urls = {a["url"] for a in attachments if a["description"].startswith("remote ")}
    assert remote_urls == {f"http://{DOMAIN}/media/{row.id}/original" for row in made.values()}

    files_before = set(media_files(media))
    status, out, err = await run("media", "prune", "--older-than", "5")
    assert status == 0, err
    assert out.strip() == f"pruned 1 remote files, {size['old']} bytes ({size['old'] / 1024:.1f} KB) freed"
    by_id = {row.id: row for row in await _rows(url)}
    assert by_id[made["old"].id].file_key is None and by_id[made["old"].id].fetch_state == "pending"
    assert by_id[made["new"].id].file_key is not None
    gone = files_before - set(media_files(media))
    assert {p.name for p in gone} == {made["old"].file_key, made["old"].thumbnail_key}

    status, out, err = await run("media", "prune")
    assert status == 0, err
    assert out.startswith("pruned 1 remote files, ")  # 'new'; 'liked' is kept
    status, out, _ = await run("media", "usage", "--json")
    local, remote = json.loads(out)
    assert (remote["files"], remote["counted_bytes"], remote["kept_bytes"]) == (1, 0, size["liked"])
    assert local["files"] == 1
    names = {p.name for p in media_files(media)}
    assert {mine.file_key, mine.thumbnail_key, made["liked"].file_key} <= names
    assert made["new"].file_key not in names

    status, _, err = await run("media", "prune", "--older-than", "-1")
    assert status == 2 and err.count("\n") == 1 and "--older-than" in err
    with pytest.raises(SystemExit) as exit_status:  # argparse's own refusal
        await run("media", "prune", "--older-than", "soon")
    assert exit_status.value.code == 2


async def test_posted_image_is_served_without_its_location(start_spark, database_url, tmp_path: Path) -> None:
    """Beside a running server: the image `post --image` stored is what /media/ID/original serves."""
    spark: Spark = await start_spark(config=test_config(await database_url(), free_port()))
    await spark.user("alice")
    config = tmp_path / "serve.toml"
    server = spark.config.server
    config.write_text(
        f'[server]\ndomain = "{server.domain}"\nport = {server.port}\n'
        f'[database]\nurl = "{spark.config.database.url}"\n[media]\npath = "{spark.config.media.path}"\n'
    )
    image = tmp_path / "here.jpg"
    image.write_bytes(photo(1200, 900, 3))
    status = await asyncio.to_thread(
        main, ["--config", str(config), "post", "alice", "where?", "--image", str(image)]
    )
    assert status == 0
    async with spark.db.read() as session:
        [row] = (await session.exec(select(MediaAttachment))).all()
    async with ClientSession() as http:
        for size in ("original", "small"):
            async with http.get(spark.ctx.urls.media(row.id, size)) as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
                with Image.open(io.BytesIO(await response.read())) as served:
                    assert not served.getexif().get_ifd(ExifTags.IFD.GPSInfo)
                    expected = (
                        (row.width, row.height)
                        if size == "original"
                        else (row.thumbnail_width, row.thumbnail_height)
                    )
                    assert served.size == expected
    assert (row.width, row.height) == (1200, 900)
