"""The remote cache stays under a tiny disk budget while more remote images than fit are shown,
and what local users keep survives.

Spark runs with `remote_cache_max_gb` worth about 200 KB; a small aiohttp server of the test's own
(plain aiohttp, Pillow-made bytes, nothing of Spark's) serves the remote images on 127.0.0.1, and
the remote notes' attachment rows are written as `federation/notes.py` stores them (pending, the
origin's URL). Each image is then asked for through `GET /media/ID/original`, one after the
other, and after each the test checks, from the rows and by walking the media directory: the
counted bytes and the remote bytes on disk stay within the budget, what is cached is the most
recently shown (the least recently shown went first), no file is left that no row names, a
local upload and a remote image a local user liked are still there.
"""

import io
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from aiohttp import ClientSession, web
from PIL import Image
from sqlmodel import col, select

import outbox.posts as posts
from spark_fed.content.sources import Written
from spark_fed.media.budget import cached_bytes
from spark_fed.models import Account, MediaAttachment, Status
from spark_fed.models.ids import new_id
from spark_fed.statuses import store_favourite, store_status

from .conftest import Spark, free_port, test_config

BUDGET = 200_000  # bytes; each image below is 35-46 KB as Spark stores it (file and preview)
IMAGES = 10
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def remote_image(n: int) -> tuple[bytes, str]:
    """Distinct noisy images, PNG and JPEG in turn (noise keeps them from compressing away)."""
    fmt, side = ("PNG", 110) if n % 2 == 0 else ("JPEG", 220)
    red = Image.effect_noise((side, side), 60 + n).convert("L")
    green = Image.effect_noise((side, side), 30 + n).convert("L")
    blue = Image.linear_gradient("L").resize((side, side)).rotate(n * 30)
    out = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(out, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue(), f"image/{fmt.lower()}"


async def image_server(aiohttp_server) -> tuple[str, Counter[str], dict[str, tuple[bytes, str]]]:
    """(base URL, hits per name, files): GET /files/NAME answers the bytes with their type."""
    files: dict[str, tuple[bytes, str]] = {}
    hits: Counter[str] = Counter()

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hits[name] += 1
        if name not in files:
            raise web.HTTPNotFound()
        body, content_type = files[name]
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/files/{name}", serve)
    server = await aiohttp_server(app, host="127.0.0.1", port=free_port())
    return f"http://127.0.0.1:{server.port}/files", hits, files


async def remote_notes(spark: Spark, base: str, names: list[str]) -> dict[str, MediaAttachment]:
    """A remote author's notes, one image each, as stored when they arrived: rows with the
    origin's URL and no file."""
    made: dict[str, MediaAttachment] = {}
    async with spark.db.write() as session:
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
        for name in names:
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
                remote_url=f"{base}/{name}",
                fetch_state="pending",
                media_type="image/png",
                description=name,
            )
            session.add(row)
            made[name] = row
    return made


async def rows_by_id(spark: Spark) -> dict[int, MediaAttachment]:
    async with spark.db.read() as session:
        return {row.id: row for row in (await session.exec(select(MediaAttachment))).all()}


def files_on_disk(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in root.rglob("*") if p.is_file()} if root.exists() else {}


async def test_remote_cache_stays_within_budget(start_spark, database_url, aiohttp_server) -> None:
    config = test_config(await database_url(), free_port())
    config = replace(config, media=replace(config.media, remote_cache_max_gb=BUDGET / 1024**3))
    spark = await start_spark(config=config)
    budget = config.media.remote_cache_max_bytes
    assert BUDGET - 1 <= budget <= BUDGET
    media_root = Path(config.media.path)
    alice = await spark.user("alice")

    # A local upload, posted, and one left unattached: neither is the budget's to evict.
    local_image, _ = remote_image(100)
    posted = await spark.ctx.media.upload(alice, local_image, description="mine")
    await posts.post(spark.ctx, alice, "my picture", media_ids=[posted.id])
    loose = await spark.ctx.media.upload(alice, remote_image(101)[0])
    local_keys = {posted.file_key, posted.thumbnail_key, loose.file_key, loose.thumbnail_key}

    base, hits, files = await image_server(aiohttp_server)
    names = [f"img{n}" for n in range(IMAGES)]
    for n, name in enumerate(names):
        files[name] = remote_image(n)
    files["liked"] = remote_image(50)
    files["fake.png"] = (HTML, "image/png")  # HTML claiming to be a PNG
    rows = await remote_notes(spark, base, [*names, "liked", "fake.png"])

    # alice likes one remote post: its image is kept whatever the budget says.
    async with spark.db.write() as session:
        liked_status = await session.get(Status, rows["liked"].status_id)
        assert await store_favourite(session, alice, liked_status, f"{alice.uri}#likes/1")

    served: dict[str, bytes] = {}

    async with ClientSession() as http:

        async def show(name: str) -> tuple[int, bytes]:
            async with http.get(spark.ctx.urls.media(rows[name].id)) as response:
                body = await response.read()
                if response.status == 200:
                    assert response.content_type in ("image/png", "image/jpeg")
                    assert response.headers["X-Content-Type-Options"] == "nosniff"
                return response.status, body

        async def check_budget() -> set[str]:
            """The budget's checks; returns the names whose files are cached now."""
            by_id = await rows_by_id(spark)
            async with spark.db.read() as session:
                counted = await cached_bytes(session)
            assert counted <= budget
            disk = files_on_disk(media_root)
            named = {k for row in by_id.values() for k in (row.file_key, row.thumbnail_key) if k}
            assert set(disk) == named, "a file no row names, or a row naming a missing file"
            liked = by_id[rows["liked"].id]
            kept = local_keys | {liked.file_key, liked.thumbnail_key}
            assert kept <= set(disk), "a local upload or a liked remote image was evicted"
            remote_on_disk = sum(size for key, size in disk.items() if key not in kept)
            assert remote_on_disk <= budget
            return {name for name, row in rows.items() if by_id[row.id].file_key}

        status, served["liked"] = await show("liked")
        assert status == 200

        shown: list[str] = []
        evictions = 0
        for name in names:
            status, body = await show(name)
            assert status == 200 and hits[name] == 1
            served[name] = body
            shown.append(name)
            cached = await check_budget() - {"liked"}
            # The newest is always there; what is there is the most recently shown, in order.
            assert name in cached
            assert cached == set(shown[-len(cached) :]), (shown, cached)
            evictions = len(shown) - len(cached)
        assert evictions >= IMAGES - BUDGET // 35_000, "more images than fit were shown: some must go"
        assert 2 <= len(cached) < IMAGES

        # Least recently *shown*, not first fetched: the oldest cached image, shown again (after
        # the service's 10-minute granularity has passed: backdated here), outlives the next one.
        async with spark.db.write() as session:
            for name in cached:
                row = await session.get(MediaAttachment, rows[name].id)
                row.last_shown_at -= timedelta(hours=1)
                session.add(row)
        in_order = [n for n in shown if n in cached]
        oldest, second = in_order[0], in_order[1]
        status, body = await show(oldest)
        assert status == 200 and body == served[oldest] and hits[oldest] == 1  # a hit, not a fetch

        # An evicted image is fetched again when asked for, the same bytes as before.
        first = shown[0]
        assert first not in cached
        status, body = await show(first)
        assert status == 200 and body == served[first] and hits[first] == 2
        cached_now = await check_budget()
        assert oldest in cached_now and first in cached_now
        assert second not in cached_now, "the least recently shown image should have gone first"

        # The liked image was shown before all the others and is still there, never refetched.
        status, body = await show("liked")
        assert status == 200 and body == served["liked"] and hits["liked"] == 1

        # A file that fails the checks: 404, marked failed, nothing stored, not fetched again.
        for _ in range(2):
            status, _ = await show("fake.png")
            assert status == 404
        assert hits["fake.png"] == 1
        failed = (await rows_by_id(spark))[rows["fake.png"].id]
        assert failed.fetch_state == "failed" and failed.file_key is None and failed.size_bytes == 0
        await check_budget()

        # The local uploads are served as they were stored.
        by_id = await rows_by_id(spark)
        assert (by_id[posted.id].file_key, by_id[loose.id].file_key) == (posted.file_key, loose.file_key)
        for upload in (posted, loose):
            async with http.get(spark.ctx.urls.media(upload.id)) as response:
                assert response.status == 200

    async with spark.db.read() as session:
        local = (
            await session.exec(select(MediaAttachment).where(col(MediaAttachment.local).is_(True)))
        ).all()
    assert {row.id for row in local} == {posted.id, loose.id}
