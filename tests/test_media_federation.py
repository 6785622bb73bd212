"""Remote images: recorded as references when a note arrives, fetched through the proxy when shown."""

import io

from aiohttp import web
from PIL import Image
from sqlmodel import select

from outbox import actions
from spark_fed.models import Follow, FollowState, MediaAttachment, Status
from spark_fed.models.media import FetchState

from .conftest import Spark, eventually
from .peers import FakeMastodon


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


async def image_host(aiohttp_server) -> tuple[str, list[str]]:
    """A plain file server on loopback, standing for the peer's media host; logs what it served."""
    served: list[str] = []
    files = {
        "/photo.png": (png(64, 48, (200, 40, 40)), "image/png"),
        "/page.png": (b"<!doctype html><script>alert(1)</script>", "image/png"),
    }

    async def handler(request: web.Request) -> web.Response:
        served.append(request.path)
        body, kind = files[request.path]
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    for path in files:
        app.router.add_get(path, handler)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}", served


async def _followed(spark: Spark, peer: FakeMastodon) -> None:
    alice = await spark.user("alice")
    await actions.follow(spark.ctx, alice, f"bob@{peer.domain}")

    async def accepted() -> bool:
        async with spark.db.read() as session:
            return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED

    await eventually(accepted, what="the peer's Accept")


async def test_remote_attachments_are_proxied_and_checked(
    spark: Spark, aiohttp_server, aiohttp_client
) -> None:
    host, served = await image_host(aiohttp_server)
    peer = FakeMastodon("bob")
    await peer.start(aiohttp_server)
    await _followed(spark, peer)
    create = peer.create_note("bob", "two pictures")
    create["object"]["attachment"] = [
        {
            "type": "Document",
            "mediaType": "image/png",
            "url": f"{host}/photo.png",
            "name": "A red square",
            "blurhash": "UCGDEo_301%M4nt7ofay00ayWBofD%WBt7of",
            "width": 64,
            "height": 48,
            "focalPoint": [0.5, -0.25],
        },
        {"type": "Document", "mediaType": "image/png", "url": f"{host}/page.png", "name": "Not an image"},
        {"type": "Document", "mediaType": "video/mp4", "url": f"{host}/clip.mp4"},
    ]
    assert (await peer.send(create, f"{spark.base}/inbox", "bob")).status == 202

    async def recorded() -> list[MediaAttachment]:
        async with spark.db.read() as session:
            return list(
                (await session.exec(select(MediaAttachment).order_by(MediaAttachment.position))).all()
            )

    photo, page = await eventually(recorded, what="the note's attachments")
    async with spark.db.read() as session:
        status = (await session.exec(select(Status))).one()
    assert photo.status_id == status.id and not photo.local and photo.fetch_state == FetchState.PENDING
    assert (photo.description, photo.focus_x, photo.focus_y) == ("A red square", 0.5, -0.25)
    assert served == []  # nothing is fetched until someone looks

    client = await aiohttp_client(spark.server)
    response = await client.get(f"/media/{photo.id}/original")
    assert response.status == 200 and response.content_type == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert Image.open(io.BytesIO(await response.read())).size == (64, 48)
    small = await client.get(f"/media/{photo.id}/small")
    assert small.status == 200
    again = await client.get(f"/media/{photo.id}/original")
    assert again.status == 200 and served.count("/photo.png") == 1  # cached after the first view

    refused = await client.get(f"/media/{page.id}/original")
    assert refused.status == 404
    async with spark.db.read() as session:
        assert (await session.get(MediaAttachment, page.id)).fetch_state == FetchState.FAILED
    assert (await client.get(f"/media/{page.id}/original")).status == 404
    assert served.count("/page.png") == 1  # a refused file is not fetched again on every view
