"""Images through the real Mastodon.py client, and out to a second Spark and a Mastodon-shaped peer.

Mastodon.py blocks, so it runs in a thread, never on the test's event loop (docs/decisions.md).
"""

import asyncio
import io

import aiohttp
from mastodon import Mastodon
from PIL import ExifTags, Image
from sqlmodel import select

from outbox import actions
from spark_fed.accounts import set_password_hash
from spark_fed.models import Follow, FollowState, MediaAttachment
from spark_fed.models.media import MediaKind
from spark_fed.passwords import hash_password
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, eventually
from .peers import FakeMastodon

PASSWORD = "a long enough password"


async def _with_password(spark: Spark, name: str) -> None:
    account = await spark.user(name)
    await set_password_hash(spark.db, account, await hash_password(spark.config.auth, PASSWORD))


def _sign_in(base: str, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "spark-test", api_base_url=base, scopes=["read", "write", "follow"]
    )
    api = Mastodon(
        client_id=client_id, client_secret=client_secret, api_base_url=base, version_check_mode="none"
    )
    api.log_in(username, PASSWORD, scopes=["read", "write", "follow"], allow_http=True)
    return api


def jpeg_with_gps() -> bytes:
    """400x300 pixels, EXIF saying "rotate 90°" plus a camera make and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SparkCam"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 0.0),
    }
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it is really there
    return data


def png(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


async def _get(url: str) -> tuple[aiohttp.ClientResponse, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp, await resp.read()


async def _accepted(spark: Spark) -> bool:
    async with spark.db.read() as session:
        return (await session.exec(select(Follow.state))).first() == FollowState.ACCEPTED


async def test_an_image_from_mastodon_py_reaches_spark_and_mastodon(start_spark, aiohttp_server) -> None:
    a, b = await start_spark(), await start_spark()
    peer = FakeMastodon("carol")
    await peer.start(aiohttp_server)
    try:
        await _through_mastodon_py(a, b, peer)
    finally:
        await peer.close()


async def _through_mastodon_py(a: Spark, b: Spark, peer: FakeMastodon) -> None:
    await _with_password(a, "alice")
    bob = await b.user("bob")
    alice_uri = f"{a.base}/users/alice"
    await actions.follow(b.ctx, bob, alice_uri)
    await eventually(lambda: _accepted(b), what="alice's server to accept bob's follow")
    await peer.follow_remote("carol", alice_uri)
    await peer.wait_for(lambda r: r.type == "Accept" and r.verified)
    alice = await asyncio.to_thread(_sign_in, a.base, "alice")

    media = await asyncio.to_thread(
        alice.media_post,
        jpeg_with_gps(),
        mime_type="image/jpeg",
        description="a red square",
        focus=(0.5, -0.25),
    )
    url = f"{a.base}/media/{media['id']}/original"
    assert media["type"] == "image" and media["url"] == url and media["remote_url"] is None
    assert media["meta"]["original"]["width"] == 300 and media["meta"]["original"]["height"] == 400  # upright
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25} and media["description"] == "a red square"
    posted = await asyncio.to_thread(alice.status_post, "look at this", media_ids=[media])
    [shown] = posted["media_attachments"]
    assert shown["id"] == media["id"] and shown["url"] == url and shown["preview_url"].startswith(a.base)

    resp, data = await _get(url)
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    served = Image.open(io.BytesIO(data))
    assert served.format == "JPEG" and served.size == (300, 400)
    assert dict(served.getexif()) == {}  # no GPS, no camera, no orientation
    assert "exif" not in served.info and b"SparkCam" not in data

    record = await peer.wait_for(lambda r: r.type == "Create" and (r.verified or r.error is not None))
    assert record.verified, record.error
    [attachment] = record.json["object"]["attachment"]
    assert attachment["type"] == "Document" and attachment["mediaType"] == "image/jpeg"
    assert attachment["url"] == url and attachment["name"] == "a red square"
    assert attachment["blurhash"] == media["blurhash"]
    assert (attachment["width"], attachment["height"]) == (300, 400)
    assert attachment["focalPoint"] == [0.5, -0.25]

    async def copied() -> MediaAttachment | None:
        async with b.db.read() as session:
            return (
                await session.exec(select(MediaAttachment).where(MediaAttachment.remote_url == url))
            ).first()

    copy = await eventually(copied, what="the post and its image on bob's server")
    assert copy.description == "a red square" and (copy.width, copy.height) == (300, 400)
    token = await create_token(b.db, bob, parse_scopes("read"))
    bearer = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=bearer) as session,
        session.get(f"{b.base}/api/v1/timelines/home") as r,
    ):
        [status] = await r.json()
    [there] = status["media_attachments"]
    assert there["url"] == f"{b.base}/media/{copy.id}/original" and there["remote_url"] == url
    assert there["description"] == "a red square" and there["blurhash"] == media["blurhash"]
    resp, proxied = await _get(there["url"])  # bob's server fetches it from alice's, once
    assert resp.status == 200 and resp.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(proxied)).size == (300, 400)

    # Avatar and header: shown in the API, in the actor, and sent as Update(Person).
    updated = await asyncio.to_thread(
        alice.account_update_credentials,
        avatar=png((100, 100), (10, 200, 10)),
        avatar_mime_type="image/png",
        header=png((600, 200), (10, 10, 200)),
        header_mime_type="image/png",
    )
    async with a.db.read() as session:
        rows = {r.kind: r for r in (await session.exec(select(MediaAttachment))).all()}
    avatar_url = f"{a.base}/media/{rows[MediaKind.AVATAR].id}/original"
    header_url = f"{a.base}/media/{rows[MediaKind.HEADER].id}/original"
    assert updated["avatar"] == updated["avatar_static"] == avatar_url
    assert updated["header"] == updated["header_static"] == header_url
    me = await asyncio.to_thread(alice.account_verify_credentials)
    assert me["avatar"] == avatar_url and me["header"] == header_url
    async with (
        aiohttp.ClientSession() as session,
        session.get(alice_uri, headers={"Accept": "application/activity+json"}) as resp,
    ):
        actor = await resp.json(content_type=None)
    assert actor["icon"]["url"] == avatar_url and actor["image"]["url"] == header_url

    update = await peer.wait_for(lambda r: r.type == "Update" and r.verified)
    person = update.json["object"]
    assert person["id"] == alice_uri and person["type"] == "Person"
    assert person["icon"] == {"type": "Image", "mediaType": "image/png", "url": avatar_url}
    assert person["image"] == {"type": "Image", "mediaType": "image/png", "url": header_url}

    async def avatar_on_b() -> str | None:
        lookup = f"{b.base}/api/v1/accounts/lookup?acct=alice@{a.domain}"
        async with aiohttp.ClientSession() as session, session.get(lookup) as r:
            found = await r.json()
        return found["avatar"] if "/media/" in found["avatar"] else None

    proxied_avatar = await eventually(avatar_on_b, what="bob's server to record alice's new avatar")
    assert proxied_avatar.startswith(f"{b.base}/media/")
    resp, data = await _get(proxied_avatar)
    assert resp.status == 200 and Image.open(io.BytesIO(data)).size == (100, 100)
